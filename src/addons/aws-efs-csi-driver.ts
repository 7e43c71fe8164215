import { AddonRoleOptions } from './options';
import { AddonCatalogEntry } from '../private/addon-catalog';

/**
 * `aws-efs-csi-driver` (the Amazon EFS CSI driver), service account `kube-system/efs-csi-controller-sa`.
 *
 * - AWS managed `service-role/AmazonEFSCSIDriverPolicy` (EKS User Guide,
 *   awsdocs/amazon-eks-user-guide `latest/ug/storage/efs-csi.adoc` and
 *   `latest/ug/workloads/workloads-add-ons-available-eks.adoc`, EFS section; the driver's
 *   kubernetes-sigs/aws-efs-csi-driver v3.4.1 `docs/iam-policy-create.md`).
 * - The driver's node daemonset has a service account of its own, `efs-csi-node-sa`, which needs a
 *   role only for Amazon S3 Files and efs-utils logs (driver v3, `docs/iam-policy-create.md`).
 *   Whether the add-on accepts it among its own associations is not documented: this entry covers
 *   the controller; give the node service account a `PodIdentityAssociation` (what the driver's
 *   docs show), or try `new AddonRole()` with it.
 * - Minimum add-on version with Pod Identity: `v2.0.5-eksbuild.1` (`retreive-iam-info.adoc`).
 */
export const AWS_EFS_CSI_DRIVER: AddonCatalogEntry<AddonRoleOptions> = {
  addonName: 'aws-efs-csi-driver',
  namespace: 'kube-system',
  serviceAccount: () => 'efs-csi-controller-sa',
  minimumVersion: () => 'v2.0.5-eksbuild.1',
  managedPolicies: () => ['service-role/AmazonEFSCSIDriverPolicy'],
  customerPolicy: () => undefined,
  validate: () => undefined,
};
