import { IClusterRef } from 'aws-cdk-lib/aws-eks';

/**
 * Options every `AddonRole` factory method takes (`AddonRole.vpcCni()`, `AddonRole.ebsCsiDriver()`, ...).
 */
export interface AddonRoleOptions {
  /**
   * The EKS cluster the add-on runs on: an `aws-eks` or `aws-eks-v2` `Cluster`, a `CfnCluster`, or
   * an imported cluster. It must be in the account of the stack that holds the role (EKS takes
   * only roles of the cluster's account).
   */
  readonly cluster: IClusterRef;

  /**
   * The namespace the add-on is installed in. Give it only when the add-on's `namespaceConfig`
   * installs it in a namespace of your choice: the role trusts only this namespace.
   *
   * @default - the namespace the add-on installs into by default (see the add-on table in the README)
   */
  readonly namespace?: string;

  /**
   * The name of the role.
   *
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
}
