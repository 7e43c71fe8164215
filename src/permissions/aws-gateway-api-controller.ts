import { ControllerPermissions } from './controller-permissions';
import { CREDENTIALS_ACCOUNT, ControllerStatement, arn } from './private/statements';

/**
 * The permissions of the AWS Gateway API Controller for Amazon VPC Lattice.
 *
 * Follows aws/aws-application-networking-k8s
 * `files/controller-installation/recommended-inline-policy.json` at v2.1.3, unchanged. The
 * controller creates the VPC Lattice services, listeners, rules and target groups that Gateway API
 * resources describe, so none of them exists beforehand: upstream grants `vpc-lattice:*`, the
 * Describe and log-delivery actions, tagging through the Resource Groups Tagging API, and the bucket
 * policy of the access-log buckets that `AccessLogPolicy` resources name, all on `*`; this set keeps
 * them. The two service-linked roles are named in the account of the credentials, where upstream writes any account. Namespace `aws-application-networking-system`
 * and service account `gateway-api-controller`: the chart `helm/` at v2.1.3, as
 * `docs/guides/deploy.md` installs it.
 */
export class AwsGatewayApiControllerPermissions extends ControllerPermissions {
  public constructor() {
    super({
      controllerName: 'AWS Gateway API Controller',
      defaultNamespace: 'aws-application-networking-system',
      defaultServiceAccount: 'gateway-api-controller',
      upstream: { source: 'aws/aws-application-networking-k8s files/controller-installation/recommended-inline-policy.json', version: 'v2.1.3' },
    });
  }

  /** @internal */
  protected _statements(): ControllerStatement[] {
    return [
      {
        actions: [
          'vpc-lattice:*',
          'ec2:DescribeVpcs',
          'ec2:DescribeSubnets',
          'ec2:DescribeTags',
          'ec2:DescribeSecurityGroups',
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:DescribeLogGroups',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'tag:GetResources',
          'firehose:TagDeliveryStream',
          's3:GetBucketPolicy',
          's3:PutBucketPolicy',
          'tag:TagResources',
          'tag:UntagResources',
          'acm:ListCertificates',
        ],
        resources: ['*'],
        wildcardReason: 'The VPC Lattice resources the controller creates from Gateway API resources, which do not exist beforehand (vpc-lattice:*, as upstream), the Describe and log-delivery actions, which take no resource, and the access-log destinations that AccessLogPolicy resources name.',
      },
      {
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [arn('iam', '', CREDENTIALS_ACCOUNT, 'role/aws-service-role/vpc-lattice.amazonaws.com/AWSServiceRoleForVpcLattice')],
        conditions: { StringLike: { 'iam:AWSServiceName': 'vpc-lattice.amazonaws.com' } },
      },
      {
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [arn('iam', '', CREDENTIALS_ACCOUNT, 'role/aws-service-role/delivery.logs.amazonaws.com/AWSServiceRoleForLogDelivery')],
        conditions: { StringLike: { 'iam:AWSServiceName': 'delivery.logs.amazonaws.com' } },
      },
    ];
  }
}
