import * as efs from 'aws-cdk-lib/aws-efs';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, arn, oneScope } from './private/statements';

/**
 * Properties of `AwsEfsCsiDriverPermissions`. Name the file systems, or choose all of them.
 */
export interface AwsEfsCsiDriverPermissionsProps {
  /**
   * The file systems in which the driver creates access points for dynamically provisioned
   * volumes (the `fileSystemId` of your StorageClasses).
   *
   * @default - none; then `allFileSystems` must be true
   */
  readonly fileSystems?: efs.IFileSystem[];

  /**
   * Let the driver create access points in every file system of the account
   * (`arn:<partition>:elasticfilesystem:*:*:file-system/*`). A choice of a wildcard: cdk-nag reports it.
   *
   * @default false
   */
  readonly allFileSystems?: boolean;
}

/**
 * The permissions of the Amazon EFS CSI driver's controller.
 *
 * Follows kubernetes-sigs/aws-efs-csi-driver `docs/iam-policy-example.json` at v3.4.1, for
 * Amazon EFS: Describe on `*` (it takes no resource); `elasticfilesystem:CreateAccessPoint` only
 * with the `efs.csi.aws.com/cluster` request tag, as upstream, and only in the file systems you
 * name, where upstream grants every one; tagging and deleting access points only when tagged
 * `efs.csi.aws.com/cluster`, as upstream. Upstream's `s3files:` actions (for Amazon S3 Files file
 * systems) are left out: this set covers EFS. Namespace `kube-system` and service account
 * `efs-csi-controller-sa`: the chart `charts/aws-efs-csi-driver` at v3.4.1 (`controller.serviceAccount.name`).
 */
export class AwsEfsCsiDriverPermissions extends ControllerPermissions {
  private readonly props: AwsEfsCsiDriverPermissionsProps;

  public constructor(props: AwsEfsCsiDriverPermissionsProps) {
    super({
      controllerName: 'Amazon EFS CSI driver',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 'efs-csi-controller-sa',
      upstream: { source: 'kubernetes-sigs/aws-efs-csi-driver docs/iam-policy-example.json', version: 'v3.4.1' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { fileSystems, allFileSystems } = this.props;
    oneScope(where, 'AwsEfsCsiDriverPermissions', 'fileSystems', fileSystems, 'allFileSystems', allFileSystems, 'file systems');
    const tagged = 'Access points the driver creates, which exist only once created; scoped, as upstream, by the efs.csi.aws.com/cluster tag the driver puts on them.';
    return [
      {
        actions: ['elasticfilesystem:DescribeAccessPoints', 'elasticfilesystem:DescribeFileSystems', 'elasticfilesystem:DescribeMountTargets', 'ec2:DescribeAvailabilityZones'],
        resources: ['*'],
        wildcardReason: 'Describe actions take no resource.',
      },
      {
        actions: ['elasticfilesystem:CreateAccessPoint'],
        resources: fileSystems ? fileSystems.map(fs => fs.fileSystemArn) : [arn('elasticfilesystem', '*', '*', 'file-system/*')],
        conditions: { StringLike: { 'aws:RequestTag/efs.csi.aws.com/cluster': 'true' } },
      },
      {
        actions: ['elasticfilesystem:TagResource'],
        resources: ['*'],
        conditions: { StringLike: { 'aws:ResourceTag/efs.csi.aws.com/cluster': 'true' } },
        wildcardReason: tagged,
      },
      {
        actions: ['elasticfilesystem:DeleteAccessPoint'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:ResourceTag/efs.csi.aws.com/cluster': 'true' } },
        wildcardReason: tagged,
      },
    ];
  }
}
