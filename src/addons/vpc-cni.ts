import * as iam from 'aws-cdk-lib/aws-iam';
import { AddonRoleOptions } from './options';
import { AddonCatalogEntry } from '../private/addon-catalog';
import { errorAt } from '../private/errors';

/**
 * Options of the role of the `vpc-cni` add-on (`AddonRole.vpcCni()`).
 */
export interface VpcCniRoleProps extends AddonRoleOptions {
  /**
   * Whether the cluster assigns IPv6 addresses to pods. AWS has no managed policy for IPv6: the
   * role then gets a customer managed policy with the statements of the EKS User Guide's IPv6
   * policy (`AmazonEKS_CNI_IPv6_Policy`) instead of `AmazonEKS_CNI_Policy`, with the network
   * interfaces it may tag narrowed to the cluster's account and region.
   *
   * @default - true when the cluster object says it uses `IpFamily.IP_V6` (an `aws-eks` or
   * `aws-eks-v2` `Cluster` created or imported with `ipFamily`), else false (IPv4)
   */
  readonly ipv6?: boolean;
}

/** The IP family the cluster object states, if any: `Cluster.ipFamily` of aws-eks and aws-eks-v2 (`'ipv4'` or `'ipv6'`). */
function ipFamilyOf(props: VpcCniRoleProps): string | undefined {
  const family = (props.cluster as { ipFamily?: unknown }).ipFamily;
  return typeof family === 'string' ? family : undefined;
}

function usesIpv6(props: VpcCniRoleProps): boolean {
  return props.ipv6 ?? ipFamilyOf(props) === 'ipv6';
}

/**
 * `vpc-cni` (the Amazon VPC CNI plugin), service account `kube-system/aws-node`.
 *
 * - IPv4: AWS managed `AmazonEKS_CNI_Policy`, the policy of the console's "Create recommended
 *   role" (EKS User Guide, awsdocs/amazon-eks-user-guide@4d52b4d0
 *   `latest/ug/workloads/eks-add-ons.adoc`; `workloads-add-ons-available-eks.adoc`, vpc-cni).
 * - IPv6: no managed policy exists; the statements of the guide's IPv6 policy, in
 *   `latest/ug/networking/eks-networking-add-ons.adoc` (section cni-iam-role-create-ipv6-policy)
 *   and `latest/ug/iam_policies/AmazonEKS_CNI_IPv6_Policy.json` at 4d52b4d0: `ec2:AssignIpv6Addresses`,
 *   `ec2:DescribeInstances`, `ec2:DescribeTags`, `ec2:DescribeNetworkInterfaces`,
 *   `ec2:DescribeInstanceTypes` on `*`, and `ec2:CreateTags` on network interfaces (the guide's
 *   `arn:aws:ec2:*:*:network-interface/*`, here in the cluster's account and region).
 * - Minimum add-on version with Pod Identity: `v1.15.5-eksbuild.1` (the guide's Pod Identity
 *   support reference, `latest/ug/workloads/retreive-iam-info.adoc`).
 */
export const VPC_CNI: AddonCatalogEntry<VpcCniRoleProps> = {
  addonName: 'vpc-cni',
  namespace: 'kube-system',
  serviceAccount: () => 'aws-node',
  minimumVersion: () => 'v1.15.5-eksbuild.1',
  managedPolicies: props => usesIpv6(props) ? [] : ['AmazonEKS_CNI_Policy'],
  customerPolicy: (props, { partition, region, account }) => {
    if (!usesIpv6(props)) {
      return undefined;
    }
    return {
      statements: [
        new iam.PolicyStatement({
          actions: ['ec2:AssignIpv6Addresses', 'ec2:DescribeInstances', 'ec2:DescribeTags', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstanceTypes'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          actions: ['ec2:CreateTags'],
          resources: [`arn:${partition}:ec2:${region}:${account}:network-interface/*`],
        }),
      ],
      wildcards: {
        findings: ['/^Resource::\\*$/', '/^Resource::arn:.+:ec2:.+:network-interface\\/\\*$/'],
        reason: 'The EKS User Guide\'s IPv6 policy for the VPC CNI plugin (AWS has no managed one): the plugin describes instances, network interfaces and tags, assigns IPv6 prefixes to the interfaces of the nodes, and tags the interfaces it creates, which exist only once created; the interfaces it may tag are narrowed to the cluster\'s account and region.',
      },
    };
  },
  validate: (path, props) => {
    const family = ipFamilyOf(props);
    if (props.ipv6 !== undefined && family !== undefined && props.ipv6 !== (family === 'ipv6')) {
      throw errorAt(path,
        `\`ipv6\` must match the cluster's IP family, got: ipv6 ${props.ipv6} for a cluster with ipFamily ${JSON.stringify(family)}. ` +
        'Remove `ipv6` to follow the cluster, or fix the cluster\'s `ipFamily`.',
      );
    }
  },
};
