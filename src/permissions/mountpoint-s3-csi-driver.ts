import * as s3 from 'aws-cdk-lib/aws-s3';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, keyStatement, nonEmpty } from './private/statements';

/**
 * Properties of `MountpointS3CsiDriverPermissions`.
 */
export interface MountpointS3CsiDriverPermissionsProps {
  /**
   * The buckets the driver mounts (the `bucketName` of your PersistentVolumes). A bucket encrypted
   * with a KMS key of this app (`encryptionKey`) also gets `kms:Decrypt` and `kms:GenerateDataKey`
   * on that key.
   */
  readonly buckets: s3.IBucket[];
}

/**
 * The permissions of the Mountpoint for Amazon S3 CSI driver, with driver-level credentials.
 *
 * Follows the least-privilege policy of awslabs/mountpoint-s3 `doc/CONFIGURATION.md` ("IAM
 * permissions", general purpose buckets) at v1.23.0, which the driver's `docs/CONFIGURATION.md`
 * (awslabs/mountpoint-s3-csi-driver v2.7.0) recommends: `s3:ListBucket` on the buckets you name,
 * and `s3:GetObject`, `s3:PutObject`, `s3:AbortMultipartUpload` and `s3:DeleteObject` on their
 * objects, where the terraform-aws-modules policy defaults to every bucket; for SSE-KMS buckets,
 * `kms:Decrypt` and `kms:GenerateDataKey` on their keys, as that document says. Namespace
 * `kube-system` and service account `s3-csi-driver-sa`: the chart
 * `charts/aws-mountpoint-s3-csi-driver` at v2.7.0 (`node.serviceAccount.name`), as `docs/INSTALL.md`
 * installs it.
 */
export class MountpointS3CsiDriverPermissions extends ControllerPermissions {
  private readonly props: MountpointS3CsiDriverPermissionsProps;

  public constructor(props: MountpointS3CsiDriverPermissionsProps) {
    super({
      controllerName: 'Mountpoint for Amazon S3 CSI driver',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 's3-csi-driver-sa',
      upstream: { source: 'awslabs/mountpoint-s3 doc/CONFIGURATION.md', version: 'v1.23.0 (driver v2.7.0)' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { buckets } = this.props;
    nonEmpty(where, 'MountpointS3CsiDriverPermissions', 'buckets', buckets, 'buckets the driver mounts');
    return [
      { actions: ['s3:ListBucket'], resources: buckets.map(bucket => bucket.bucketArn) },
      { actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'], resources: buckets.map(bucket => bucket.arnForObjects('*')) },
      ...keyStatement(buckets.map(bucket => bucket.encryptionKey), ['kms:Decrypt', 'kms:GenerateDataKey']),
    ];
  }
}
