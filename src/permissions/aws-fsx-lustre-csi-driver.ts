import * as s3 from 'aws-cdk-lib/aws-s3';
import { ControllerPermissions } from './controller-permissions';
import { CREDENTIALS_ACCOUNT, ControllerStatement, ErrorScope, arn, nonEmpty } from './private/statements';

/**
 * Properties of `AwsFsxLustreCsiDriverPermissions`.
 */
export interface AwsFsxLustreCsiDriverPermissionsProps {
  /**
   * The S3 buckets linked to the file systems the driver creates (a StorageClass's
   * `s3ImportPath` and `s3ExportPath`): `s3:ListBucket` on them, and the service-linked role FSx
   * uses to reach S3.
   *
   * @default - no data repository: the file systems are not linked to S3
   */
  readonly dataRepositoryBuckets?: s3.IBucket[];
}

/**
 * The permissions of the Amazon FSx for Lustre CSI driver's controller.
 *
 * Follows the IAM policy of kubernetes-sigs/aws-fsx-csi-driver `docs/install.md` at v1.9.0:
 * `fsx:CreateFileSystem`, `fsx:DeleteFileSystem`, `fsx:DescribeFileSystems`, `fsx:TagResource`
 * and `fsx:UpdateFileSystem` on `*` (the file systems do not exist before the driver creates
 * them), and the service-linked role of FSx. The statements for S3 data repositories
 * (`s3:ListBucket`, and the service-linked role `s3.data-source.lustre.fsx.amazonaws.com`) come
 * only with `dataRepositoryBuckets`, and `s3:ListBucket` only on those buckets, where upstream
 * grants every bucket. Namespace `kube-system` and service account `fsx-csi-controller-sa`: the
 * chart `charts/aws-fsx-csi-driver` at v1.9.0 (`controller.serviceAccount.name`).
 */
export class AwsFsxLustreCsiDriverPermissions extends ControllerPermissions {
  private readonly props: AwsFsxLustreCsiDriverPermissionsProps;

  public constructor(props: AwsFsxLustreCsiDriverPermissionsProps = {}) {
    super({
      controllerName: 'Amazon FSx for Lustre CSI driver',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 'fsx-csi-controller-sa',
      upstream: { source: 'kubernetes-sigs/aws-fsx-csi-driver docs/install.md', version: 'v1.9.0' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const buckets = this.props.dataRepositoryBuckets;
    if (buckets) {
      nonEmpty(where, 'AwsFsxLustreCsiDriverPermissions', 'dataRepositoryBuckets', buckets, 'buckets linked to the file systems', 'or leave `dataRepositoryBuckets` out');
    }
    return [
      ...buckets ? [
        {
          actions: ['iam:CreateServiceLinkedRole', 'iam:AttachRolePolicy', 'iam:PutRolePolicy'],
          resources: [arn('iam', '', CREDENTIALS_ACCOUNT, 'role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/*')],
          wildcardReason: 'The service-linked role through which FSx reaches the linked buckets, named by its service-linked path as upstream, in the account of the credentials.',
        },
        { actions: ['s3:ListBucket'], resources: buckets.map(bucket => bucket.bucketArn) },
      ] : [],
      {
        actions: ['iam:CreateServiceLinkedRole'],
        resources: ['*'],
        conditions: { StringLike: { 'iam:AWSServiceName': ['fsx.amazonaws.com'] } },
        wildcardReason: 'The service-linked role of FSx, created once per account; the condition names the service.',
      },
      {
        actions: ['fsx:CreateFileSystem', 'fsx:DeleteFileSystem', 'fsx:DescribeFileSystems', 'fsx:TagResource', 'fsx:UpdateFileSystem'],
        resources: ['*'],
        wildcardReason: 'The file systems the driver creates for PersistentVolumeClaims do not exist beforehand, and DescribeFileSystems lists them.',
      },
    ];
  }
}
