import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsVpcCniPermissions } from '../../../src';
import { arnOf, Call, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * Amazon VPC CNI v1.23.0, pkg/awsutils/awsutils.go, with CLUSTER_NAME set: on start it tags the
 * instance's interfaces (TagENI, CreateTags), then allocates: CreateNetworkInterface in the node's
 * subnet with its security groups, tagged cluster.k8s.amazonaws.com/name; AttachNetworkInterface to
 * the instance; ModifyNetworkInterfaceAttribute (delete on termination); Assign/Unassign private IP
 * addresses; on release, Detach and DeleteNetworkInterface.
 */
const VPC_ID = 'vpc-0a1b2c3d4e5f60001';

function calls(account: string, clusterName: string): { allowed: Call[]; denied: Call[] } {
  const ec2Arn = (resource: string) => arnOf('ec2', REGION, account, resource);
  const eni = ec2Arn('network-interface/eni-0a1b2c3d4e5f60001');
  const instance = ec2Arn('instance/i-0a1b2c3d4e5f60001');
  const inVpc = (vpc: string) => ({ 'ec2:Vpc': ec2Arn(`vpc/${vpc}`) });
  const taggedEni = { 'aws:ResourceTag/cluster.k8s.amazonaws.com/name': clusterName };
  return {
    allowed: [
      { action: 'ec2:DescribeInstances', resource: '*' },
      { action: 'ec2:DescribeNetworkInterfaces', resource: '*' },
      { action: 'ec2:DescribeSubnets', resource: '*' },
      { action: 'ec2:CreateTags', resource: eni, context: { 'aws:RequestTag/cluster.k8s.amazonaws.com/name': clusterName, 'aws:TagKeys': ['cluster.k8s.amazonaws.com/name', 'node.k8s.amazonaws.com/instance_id'] } },
      { action: 'ec2:CreateNetworkInterface', resource: ec2Arn('network-interface/eni-0new000000000001'), context: { 'aws:RequestTag/cluster.k8s.amazonaws.com/name': clusterName, 'aws:TagKeys': ['cluster.k8s.amazonaws.com/name'] } },
      { action: 'ec2:CreateNetworkInterface', resource: ec2Arn('subnet/subnet-0a1b2c3d4e5f60001'), context: inVpc(VPC_ID) },
      { action: 'ec2:CreateNetworkInterface', resource: ec2Arn('security-group/sg-0a1b2c3d4e5f60001'), context: inVpc(VPC_ID) },
      { action: 'ec2:AttachNetworkInterface', resource: eni, context: taggedEni },
      { action: 'ec2:AttachNetworkInterface', resource: instance, context: { [`aws:ResourceTag/kubernetes.io/cluster/${clusterName}`]: 'owned' } },
      { action: 'ec2:ModifyNetworkInterfaceAttribute', resource: eni, context: taggedEni },
      { action: 'ec2:AssignPrivateIpAddresses', resource: eni, context: taggedEni },
      { action: 'ec2:UnassignPrivateIpAddresses', resource: eni, context: taggedEni },
      { action: 'ec2:DetachNetworkInterface', resource: eni, context: taggedEni },
      { action: 'ec2:DeleteNetworkInterface', resource: eni, context: taggedEni },
    ],
    denied: [
      { action: 'ec2:DeleteNetworkInterface', resource: eni, context: { 'aws:ResourceTag/cluster.k8s.amazonaws.com/name': 'staging' } },
      { action: 'ec2:DeleteNetworkInterface', resource: eni },
      { action: 'ec2:CreateNetworkInterface', resource: ec2Arn('subnet/subnet-0f0f0f0f0f0f00002'), context: inVpc('vpc-0f0f0f0f0f0f00002') },
      { action: 'ec2:CreateNetworkInterface', resource: ec2Arn('network-interface/eni-0new000000000001'), context: { 'aws:RequestTag/cluster.k8s.amazonaws.com/name': 'staging', 'aws:TagKeys': ['cluster.k8s.amazonaws.com/name'] } },
      { action: 'ec2:AttachNetworkInterface', resource: instance, context: { 'aws:ResourceTag/kubernetes.io/cluster/staging': 'owned' } },
    ],
  };
}

export const awsVpcCni: Scenario = {
  name: 'AwsVpcCniPermissions',
  build: ({ landing, cluster, account }): ScenarioBuild => ({
    permissions: new AwsVpcCniPermissions({ cluster, vpc: ec2.Vpc.fromVpcAttributes(landing, 'Vpc', { vpcId: VPC_ID, availabilityZones: [`${REGION}a`] }) }),
    ...calls(account, 'prod'),
  }),
};

/*
 * IPv6 (awsutils.go, AllocIPv6Prefixes): AssignIpv6Addresses of a /80 prefix to the instance's
 * primary interface; no interface created.
 */
export const awsVpcCniIpv6: Scenario = {
  name: 'AwsVpcCniPermissions (ipv6)',
  build: ({ landing, cluster, account }): ScenarioBuild => ({
    permissions: new AwsVpcCniPermissions({ cluster, vpc: ec2.Vpc.fromVpcAttributes(landing, 'Vpc', { vpcId: VPC_ID, availabilityZones: [`${REGION}a`] }), ipv6: true }),
    allowed: [
      { action: 'ec2:DescribeInstances', resource: '*' },
      { action: 'ec2:AssignIpv6Addresses', resource: arnOf('ec2', REGION, account, 'network-interface/eni-0a1b2c3d4e5f60001') },
      { action: 'ec2:CreateTags', resource: arnOf('ec2', REGION, account, 'network-interface/eni-0a1b2c3d4e5f60001') },
    ],
    denied: [
      { action: 'ec2:CreateNetworkInterface', resource: arnOf('ec2', REGION, account, 'network-interface/eni-0new000000000001') },
      { action: 'ec2:DeleteNetworkInterface', resource: arnOf('ec2', REGION, account, 'network-interface/eni-0a1b2c3d4e5f60001') },
    ],
  }),
};
