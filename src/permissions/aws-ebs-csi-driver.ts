import * as kms from 'aws-cdk-lib/aws-kms';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, arn, keyStatement, nonEmpty } from './private/statements';

/**
 * Properties of `AwsEbsCsiDriverPermissions`.
 */
export interface AwsEbsCsiDriverPermissionsProps {
  /**
   * The KMS keys of the encrypted volumes the driver creates and attaches (a StorageClass's
   * `kmsKeyId`, or the account's default EBS key when it is a customer managed key).
   *
   * @default - no key: volumes unencrypted or encrypted with the AWS managed key `aws/ebs`
   */
  readonly encryptionKeys?: kms.IKey[];
}

const VOLUMES = arn('ec2', '*', '*', 'volume/*');
const SNAPSHOTS = arn('ec2', '*', '*', 'snapshot/*');
const MANAGED = { StringEquals: { 'ec2:ResourceTag/ebs.csi.aws.com/cluster': 'true' } };
const MIGRATED = { StringLike: { 'ec2:ResourceTag/kubernetes.io/created-for/pvc/name': '*' } };
const TAGGED = 'Volumes and snapshots the driver creates, which exist only once created; scoped, as upstream, by the tags the driver puts on them (ebs.csi.aws.com/cluster, or kubernetes.io/created-for/pvc/name for volumes of the in-tree plugin).';

/**
 * The permissions of the Amazon EBS CSI driver's controller.
 *
 * Follows kubernetes-sigs/aws-ebs-csi-driver `docs/AmazonEBSCSIDriverPolicyV2.json` at v1.64.0
 * (the policy AWS publishes as `AmazonEBSCSIDriverPolicyV2`), statement by statement: volumes and
 * snapshots only when tagged by the driver (`ebs.csi.aws.com/cluster: true`, or
 * `kubernetes.io/created-for/pvc/name` for migrated in-tree volumes), attach and detach on any
 * instance, Describe on `*` (it takes no resource). With `encryptionKeys`, the statement of
 * `docs/install.md` ("Encrypted EBS Volumes via KMS"): `kms:Decrypt`,
 * `kms:GenerateDataKeyWithoutPlaintext` and `kms:CreateGrant` on those keys, where upstream's
 * example grants every key. Volumes imported by static provisioning need the same tag, as upstream
 * says. Namespace `kube-system` and service account `ebs-csi-controller-sa`: the chart
 * `charts/aws-ebs-csi-driver` at v1.64.0 (`controller.serviceAccount.name`).
 */
export class AwsEbsCsiDriverPermissions extends ControllerPermissions {
  private readonly props: AwsEbsCsiDriverPermissionsProps;

  public constructor(props: AwsEbsCsiDriverPermissionsProps = {}) {
    super({
      controllerName: 'Amazon EBS CSI driver',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 'ebs-csi-controller-sa',
      upstream: { source: 'kubernetes-sigs/aws-ebs-csi-driver docs/AmazonEBSCSIDriverPolicyV2.json', version: 'v1.64.0' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const keys = this.props.encryptionKeys;
    if (keys) {
      nonEmpty(where, 'AwsEbsCsiDriverPermissions', 'encryptionKeys', keys, 'KMS keys of the encrypted volumes', 'or leave `encryptionKeys` out');
    }
    return [
      {
        actions: [
          'ec2:DescribeAvailabilityZones',
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeSnapshots',
          'ec2:DescribeVolumes',
          'ec2:DescribeVolumesModifications',
          'ec2:DescribeVolumeStatus',
        ],
        resources: ['*'],
        wildcardReason: 'Describe actions take no resource.',
      },
      { actions: ['ec2:CreateVolume', 'ec2:CopyVolumes'], resources: [VOLUMES], conditions: { StringEquals: { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true' } }, wildcardReason: TAGGED },
      { actions: ['ec2:CopyVolumes'], resources: [arn('ec2', '*', '*', 'volume/vol-*')], conditions: MANAGED, wildcardReason: TAGGED },
      { actions: ['ec2:CopyVolumes'], resources: [arn('ec2', '*', '*', 'volume/vol-*')], conditions: MIGRATED, wildcardReason: TAGGED },
      { actions: ['ec2:CreateSnapshot'], resources: [SNAPSHOTS], conditions: { StringEquals: { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true' } }, wildcardReason: TAGGED },
      { actions: ['ec2:CreateSnapshot'], resources: [VOLUMES], conditions: MANAGED, wildcardReason: TAGGED },
      { actions: ['ec2:ModifyVolume', 'ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:DeleteVolume'], resources: [VOLUMES], conditions: MANAGED, wildcardReason: TAGGED },
      { actions: ['ec2:ModifyVolume', 'ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:DeleteVolume'], resources: [VOLUMES], conditions: MIGRATED, wildcardReason: TAGGED },
      { actions: ['ec2:CreateVolume', 'ec2:EnableFastSnapshotRestores'], resources: [SNAPSHOTS], conditions: MANAGED, wildcardReason: TAGGED },
      {
        actions: ['ec2:AttachVolume', 'ec2:DetachVolume'],
        resources: [arn('ec2', '*', '*', 'instance/*')],
        wildcardReason: 'The driver attaches volumes to the instances that run the pods, which it does not create.',
      },
      { actions: ['ec2:DeleteSnapshot', 'ec2:LockSnapshot'], resources: [SNAPSHOTS], conditions: MANAGED, wildcardReason: TAGGED },
      {
        actions: ['ec2:CreateTags'],
        resources: [VOLUMES, SNAPSHOTS],
        conditions: { StringEquals: { 'ec2:CreateAction': ['CreateVolume', 'CreateSnapshot', 'CopyVolumes'] } },
        wildcardReason: 'Tags written only while creating a volume or snapshot (ec2:CreateAction), which does not exist before.',
      },
      {
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: [VOLUMES],
        conditions: {
          'StringEquals': { 'ec2:ResourceTag/ebs.csi.aws.com/cluster': 'true' },
          'Null': { 'aws:TagKeys': 'false' },
          'ForAllValues:StringNotEquals': { 'aws:TagKeys': ['ebs.csi.aws.com/cluster', 'ebs.csi.aws.com/cluster-name', 'kubernetes.io/created-for/pvc/name'] },
        },
        wildcardReason: TAGGED,
      },
      ...keyStatement(keys ?? [], ['kms:Decrypt', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:CreateGrant']),
    ];
  }
}
