import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AddonRoleOptions } from './options';
import { AddonCatalogEntry } from '../private/addon-catalog';
import { errorAt } from '../private/errors';

/** What Mountpoint may do in the buckets of a Mountpoint for Amazon S3 CSI driver role. */
export enum MountpointS3Access {
  /** List and read objects (`s3:ListBucket`, `s3:GetObject`): mounts with `--read-only`. */
  READ_ONLY = 'READ_ONLY',
  /**
   * Also write new objects (`s3:PutObject`, `s3:AbortMultipartUpload`): Mountpoint's default, and
   * `--allow-overwrite`.
   */
  READ_WRITE = 'READ_WRITE',
  /** Also delete objects (`s3:DeleteObject`): mounts with `--allow-delete`. */
  READ_WRITE_DELETE = 'READ_WRITE_DELETE',
}

/**
 * Options of the role of the `aws-mountpoint-s3-csi-driver` add-on (`AddonRole.mountpointS3CsiDriver()`).
 */
export interface MountpointS3CsiDriverRoleProps extends AddonRoleOptions {
  /**
   * The general purpose buckets the driver mounts with its own (driver-level) credentials. The
   * role gets a customer managed policy with Mountpoint's IAM permissions on these buckets only:
   * `s3:ListBucket` on each bucket and the object actions of `access` on its objects; and, for a
   * bucket with a KMS key (`bucket.encryptionKey`), `kms:Decrypt`, with `kms:GenerateDataKey` to
   * write, on that key.
   *
   * @default - no bucket: the role has no permissions until you grant them
   * (`bucket.grantRead(addonRole)`)
   */
  readonly buckets?: s3.IBucket[];

  /**
   * What Mountpoint may do in `buckets`.
   *
   * @default MountpointS3Access.READ_WRITE - list, read and write new objects, Mountpoint's default
   */
  readonly access?: MountpointS3Access;
}

const OBJECT_ACTIONS: Record<MountpointS3Access, string[]> = {
  [MountpointS3Access.READ_ONLY]: ['s3:GetObject'],
  [MountpointS3Access.READ_WRITE]: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
  [MountpointS3Access.READ_WRITE_DELETE]: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
};

/**
 * `aws-mountpoint-s3-csi-driver` (Mountpoint for Amazon S3 CSI driver), service account
 * `kube-system/s3-csi-driver-sa`, for driver-level credentials.
 *
 * - No AWS managed policy is recommended (`AmazonS3FullAccess` "grants more permissions than
 *   needed"): Mountpoint's IAM permissions, awslabs/mountpoint-s3@58817cab `doc/CONFIGURATION.md`
 *   ("IAM permissions": `s3:ListBucket` on the bucket; `s3:GetObject` to read;
 *   `s3:PutObject` and `s3:AbortMultipartUpload` to write; `s3:DeleteObject` to delete;
 *   `kms:Decrypt`, and `kms:GenerateDataKey` to write, for SSE-KMS), which the driver's
 *   awslabs/mountpoint-s3-csi-driver v2.7.0 `docs/CONFIGURATION.md` refers to.
 * - Driver-level credentials with EKS Pod Identity for `s3-csi-driver-sa`: the driver's
 *   `docs/CONFIGURATION.md` (v2). The EKS User Guide's Pod Identity support reference lists the
 *   add-on without Pod Identity, so no minimum add-on version is known; EKS refuses an add-on
 *   version without it ("Pod Identity feature is not supported for addon version").
 */
export const AWS_MOUNTPOINT_S3_CSI_DRIVER: AddonCatalogEntry<MountpointS3CsiDriverRoleProps> = {
  addonName: 'aws-mountpoint-s3-csi-driver',
  namespace: 'kube-system',
  serviceAccount: () => 's3-csi-driver-sa',
  minimumVersion: () => undefined,
  managedPolicies: () => [],
  customerPolicy: props => {
    const buckets = props.buckets ?? [];
    if (buckets.length === 0) {
      return undefined;
    }
    const access = props.access ?? MountpointS3Access.READ_WRITE;
    const keys = buckets.flatMap(bucket => bucket.encryptionKey ? [bucket.encryptionKey.keyArn] : []);
    return {
      statements: [
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: buckets.map(bucket => bucket.bucketArn) }),
        new iam.PolicyStatement({ actions: OBJECT_ACTIONS[access], resources: buckets.map(bucket => bucket.arnForObjects('*')) }),
        ...keys.length > 0
          ? [new iam.PolicyStatement({ actions: access === MountpointS3Access.READ_ONLY ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'], resources: keys })]
          : [],
      ],
      wildcards: {
        findings: ['/^Resource::.+\\/\\*$/'],
        reason: 'Mountpoint for Amazon S3 reads and writes any object of the buckets it mounts, as files; its documented least-privilege policy grants the object actions on <bucket ARN>/*, here for the given buckets only.',
      },
    };
  },
  validate: (path, props) => {
    if (props.access !== undefined && !Object.values(MountpointS3Access).includes(props.access)) {
      throw errorAt(path, `\`access\` must be a MountpointS3Access, got: ${JSON.stringify(props.access)}. Use MountpointS3Access.READ_ONLY, READ_WRITE or READ_WRITE_DELETE.`);
    }
  },
};
