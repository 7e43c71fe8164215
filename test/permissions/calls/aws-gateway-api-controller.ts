import { AwsGatewayApiControllerPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * AWS Gateway API Controller v2.1.3, pkg/aws/services/vpclattice.go: it creates the VPC Lattice
 * service network, its VPC association, services, listeners, rules and target groups of an
 * HTTPRoute, registers targets, and sets up access logs (pkg/deploy/lattice/access_log_*).
 */
export const awsGatewayApiController: Scenario = {
  name: 'AwsGatewayApiControllerPermissions',
  build: ({ account }): ScenarioBuild => {
    const lattice = (resource: string) => arnOf('vpc-lattice', REGION, account, resource);
    return {
      permissions: new AwsGatewayApiControllerPermissions(),
      allowed: [
        { action: 'iam:CreateServiceLinkedRole', resource: `arn:aws:iam::${account}:role/aws-service-role/vpc-lattice.amazonaws.com/AWSServiceRoleForVpcLattice`, context: { 'iam:AWSServiceName': 'vpc-lattice.amazonaws.com' } },
        { action: 'ec2:DescribeVpcs', resource: '*' },
        { action: 'vpc-lattice:CreateServiceNetwork', resource: lattice('servicenetwork/sn-0new000000000001') },
        { action: 'vpc-lattice:CreateService', resource: lattice('service/svc-0new000000000001') },
        { action: 'vpc-lattice:CreateTargetGroup', resource: lattice('targetgroup/tg-0new000000000001') },
        { action: 'vpc-lattice:RegisterTargets', resource: lattice('targetgroup/tg-0a1b2c3d4e5f60001') },
        { action: 'vpc-lattice:ListServiceNetworks', resource: '*' },
        { action: 'tag:GetResources', resource: '*' },
        { action: 'logs:CreateLogDelivery', resource: '*' },
      ],
      denied: [
        { action: 'iam:CreateServiceLinkedRole', resource: `arn:aws:iam::${account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing`, context: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } },
        { action: 'iam:PassRole', resource: `arn:aws:iam::${account}:role/admin` },
        { action: 'ec2:CreateVpc', resource: arnOf('ec2', REGION, account, 'vpc/vpc-0new000000000001') },
      ],
    };
  },
};
