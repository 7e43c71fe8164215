import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AddonRoleOptions } from './options';
import { AddonCatalogEntry } from '../private/addon-catalog';
import { errorAt } from '../private/errors';

/**
 * The AWS managed policies of the Amazon EBS CSI driver: which volumes and snapshots the driver
 * may manage. Each value is the policy's name.
 */
export enum EbsCsiDriverPolicy {
  /**
   * `AmazonEBSCSIDriverPolicy`: any volume and snapshot of the account. The policy EKS has long
   * recommended for the add-on; AWS now recommends one of the two others.
   */
  ANY_VOLUME = 'AmazonEBSCSIDriverPolicy',

  /**
   * `AmazonEBSCSIDriverPolicyV2`: only volumes and snapshots tagged `ebs.csi.aws.com/cluster: true`,
   * which the driver puts on every volume and snapshot it creates. A volume or snapshot created
   * outside the driver (static provisioning) must carry the tag for the driver to manage it.
   */
  DRIVER_TAGGED_VOLUMES = 'AmazonEBSCSIDriverPolicyV2',

  /**
   * `AmazonEBSCSIDriverEKSClusterScopedPolicy`: only volumes and snapshots tagged
   * `ebs.csi.aws.com/cluster-name: <this cluster>` (matched with the session tag
   * `eks-cluster-name` of EKS Pod Identity), attached to instances of this cluster. The driver
   * writes that tag from v1.58.0 (the add-on sets the cluster name itself); volumes and snapshots
   * created before, or outside the driver, must be tagged by hand.
   */
  CLUSTER_TAGGED_VOLUMES = 'AmazonEBSCSIDriverEKSClusterScopedPolicy',
}

/**
 * Options of the role of the `aws-ebs-csi-driver` add-on (`AddonRole.ebsCsiDriver()`).
 */
export interface EbsCsiDriverRoleProps extends AddonRoleOptions {
  /**
   * The AWS managed policy that lets the driver manage volumes and snapshots.
   *
   * @default EbsCsiDriverPolicy.DRIVER_TAGGED_VOLUMES - the volumes and snapshots the driver creates
   */
  readonly managedPolicy?: EbsCsiDriverPolicy;

  /**
   * Customer managed KMS keys that encrypt the driver's volumes (a StorageClass's `kmsKeyId`). The
   * role gets a customer managed policy with the EKS User Guide's statements for them, on these
   * keys only: `kms:CreateGrant`, `kms:ListGrants` and `kms:RevokeGrant` only for AWS resources
   * (`kms:GrantIsForAWSResource`), and `kms:Encrypt`, `kms:Decrypt`, `kms:ReEncrypt*`,
   * `kms:GenerateDataKey*` (each written out) and `kms:DescribeKey`. A key whose key policy does
   * not let IAM policies of its account grant its use needs a key policy statement of its own.
   *
   * @default - none: volumes encrypted with the AWS managed key `aws/ebs`, or unencrypted
   */
  readonly kmsKeys?: kms.IKey[];
}

const MANAGED_POLICY_PATH = 'service-role/';

/**
 * `aws-ebs-csi-driver` (the Amazon EBS CSI driver), service account `kube-system/ebs-csi-controller-sa`.
 *
 * - Managed policy: the EKS User Guide recommends `service-role/AmazonEBSCSIDriverPolicy`
 *   (awsdocs/amazon-eks-user-guide@4d52b4d0 `latest/ug/storage/ebs-csi.adoc`;
 *   `retreive-iam-info.adoc` shows it as the add-on's recommended policy). Since April 2026 the
 *   driver recommends `service-role/AmazonEBSCSIDriverPolicyV2` or
 *   `service-role/AmazonEBSCSIDriverEKSClusterScopedPolicy` instead
 *   (kubernetes-sigs/aws-ebs-csi-driver v1.64.0 `docs/install.md`,
 *   `docs/AmazonEBSCSIDriverPolicyV2.json`, `docs/AmazonEBSCSIDriverEKSClusterScopedPolicy.json`;
 *   announcement kubernetes-sigs/aws-ebs-csi-driver#2918, which also gives v1.58.0 as the first
 *   driver that tags volumes with the cluster name).
 * - Customer managed KMS keys: the statements of `ebs-csi.adoc` ("KMS_Key_For_Encryption_On_EBS_Policy")
 *   on the given keys, with the wildcard actions written out. The driver's own docs
 *   (install.md, "Encrypted EBS Volumes via KMS") list a subset: `kms:Decrypt`,
 *   `kms:GenerateDataKeyWithoutPlaintext`, `kms:CreateGrant`.
 * - Minimum add-on version with Pod Identity: `v1.26.0-eksbuild.1` (`retreive-iam-info.adoc`);
 *   with the cluster-scoped policy, the driver's v1.58.0.
 */
export const AWS_EBS_CSI_DRIVER: AddonCatalogEntry<EbsCsiDriverRoleProps> = {
  addonName: 'aws-ebs-csi-driver',
  namespace: 'kube-system',
  serviceAccount: () => 'ebs-csi-controller-sa',
  minimumVersion: props => props.managedPolicy === EbsCsiDriverPolicy.CLUSTER_TAGGED_VOLUMES ? 'v1.58.0' : 'v1.26.0-eksbuild.1',
  managedPolicies: props => [`${MANAGED_POLICY_PATH}${props.managedPolicy ?? EbsCsiDriverPolicy.DRIVER_TAGGED_VOLUMES}`],
  customerPolicy: props => {
    const keys = (props.kmsKeys ?? []).map(key => key.keyArn);
    if (keys.length === 0) {
      return undefined;
    }
    return {
      statements: [
        new iam.PolicyStatement({
          actions: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'],
          resources: keys,
          conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
        new iam.PolicyStatement({
          actions: [
            'kms:Encrypt',
            'kms:Decrypt',
            'kms:ReEncryptFrom',
            'kms:ReEncryptTo',
            'kms:GenerateDataKey',
            'kms:GenerateDataKeyPair',
            'kms:GenerateDataKeyPairWithoutPlaintext',
            'kms:GenerateDataKeyWithoutPlaintext',
            'kms:DescribeKey',
          ],
          resources: keys,
        }),
      ],
    };
  },
  validate: (path, props) => {
    if (props.managedPolicy !== undefined && !Object.values(EbsCsiDriverPolicy).includes(props.managedPolicy)) {
      throw errorAt(path, `\`managedPolicy\` must be an EbsCsiDriverPolicy, got: ${JSON.stringify(props.managedPolicy)}. Use EbsCsiDriverPolicy.DRIVER_TAGGED_VOLUMES, CLUSTER_TAGGED_VOLUMES or ANY_VOLUME.`);
    }
    for (const key of props.kmsKeys ?? []) {
      // An alias's ARN reads `...:alias/<name>` even where its partition, region or account are tokens.
      if (/:alias\//.test(key.keyArn)) {
        throw errorAt(path,
          `\`kmsKeys\` must be keys, not aliases: IAM matches a key's ARN, never its alias, got: ${Token.isUnresolved(key.keyArn) ? key.node.path : key.keyArn}. ` +
          'Import the key by its ARN (`kms.Key.fromKeyArn()`), or pass the `kms.Key` itself.',
        );
      }
    }
  },
};
