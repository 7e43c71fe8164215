import * as s3 from 'aws-cdk-lib/aws-s3';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, keyStatement } from './private/statements';
import { errorAt } from '../private/errors';

/**
 * Properties of `VeleroPermissions`.
 */
export interface VeleroPermissionsProps {
  /**
   * The bucket of the backup storage location (its `bucket`). A bucket encrypted with a KMS key of
   * this app (`encryptionKey`) also gets `kms:Decrypt` and `kms:GenerateDataKey` on that key.
   */
  readonly bucket: s3.IBucket;

  /**
   * The prefix of the backup storage location (its `prefix`): Velero's objects are under it.
   *
   * @default - the whole bucket
   */
  readonly prefix?: string;

  /**
   * Whether Velero takes EBS snapshots of persistent volumes (a VolumeSnapshotLocation of the AWS
   * plugin). Turn it off for file-system backups only: the EC2 statement, on `*`, goes.
   *
   * @default true
   */
  readonly volumeSnapshots?: boolean;
}

/**
 * The permissions of Velero with the AWS plugin.
 *
 * Follows the policy of vmware-tanzu/velero-plugin-for-aws `README.md` ("Set permissions for
 * Velero") at v1.13.2: the object actions on the bucket you name (and its prefix), `s3:ListBucket`
 * on the bucket, and, for volume snapshots, `ec2:DescribeVolumes`, `ec2:DescribeSnapshots`,
 * `ec2:CreateTags`, `ec2:CreateVolume`, `ec2:CreateSnapshot` and `ec2:DeleteSnapshot` on `*`, as
 * upstream: the snapshots and restored volumes do not exist before Velero creates them, and the
 * volumes it snapshots belong to the cluster's PersistentVolumes. Namespace `velero` and service
 * account `velero-server`: the chart vmware-tanzu/helm-charts `charts/velero` (12.1.0, at
 * 73466ca), release `velero`.
 */
export class VeleroPermissions extends ControllerPermissions {
  private readonly props: VeleroPermissionsProps;

  public constructor(props: VeleroPermissionsProps) {
    super({
      controllerName: 'Velero',
      defaultNamespace: 'velero',
      defaultServiceAccount: 'velero-server',
      upstream: { source: 'vmware-tanzu/velero-plugin-for-aws README.md', version: 'v1.13.2' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { bucket, prefix } = this.props;
    if (prefix !== undefined && (prefix.includes('*') || prefix.startsWith('/'))) {
      throw errorAt(where,
        `VeleroPermissions: \`prefix\` must be the prefix of the backup storage location, without a wildcard or a leading '/', got: ${JSON.stringify(prefix)}. ` +
        'Give it as in the BackupStorageLocation, e.g. \'backups\'.');
    }
    const objects = prefix ? `${prefix.replace(/\/+$/, '')}/*` : '*';
    return [
      ...this.props.volumeSnapshots === false ? [] : [{
        actions: ['ec2:DescribeVolumes', 'ec2:DescribeSnapshots', 'ec2:CreateTags', 'ec2:CreateVolume', 'ec2:CreateSnapshot', 'ec2:DeleteSnapshot'],
        resources: ['*'],
        wildcardReason: 'Describe actions take no resource; the snapshots and restored volumes do not exist before Velero creates them, and it snapshots the volumes of any PersistentVolume.',
      }],
      {
        actions: ['s3:GetObject', 's3:DeleteObject', 's3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [bucket.arnForObjects(objects)],
      },
      { actions: ['s3:ListBucket'], resources: [bucket.bucketArn] },
      ...keyStatement([bucket.encryptionKey], ['kms:Decrypt', 'kms:GenerateDataKey']),
    ];
  }
}
