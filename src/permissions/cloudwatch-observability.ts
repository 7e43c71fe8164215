import { ControllerPermissions } from './controller-permissions';
import { CLOUDWATCH_AGENT_ACTIONS } from '../private/cloudwatch-agent-policy';
import { ControllerStatement, arn } from './private/statements';

/**
 * The permissions of the Amazon CloudWatch Observability add-on and Helm chart (the CloudWatch
 * agent, with Container Insights and Application Signals, and Fluent Bit).
 *
 * The terraform-aws-modules policy attaches the AWS managed policies `CloudWatchAgentServerPolicy`
 * and `AWSXrayWriteOnlyAccess`; this set writes their statements instead, as published in version
 * v3 and v2 (read in zoph-io/MAMIP `policies/`, which mirrors AWS managed policies):
 * `cloudwatch:PutMetricData`, the CloudWatch Logs and X-Ray actions and `ec2:DescribeVolumes` and
 * `ec2:DescribeTags` on `*` (the agent writes to the log groups of each cluster and application it
 * finds, and the metric and trace actions take no resource), and `ssm:GetParameter` on the agent's
 * configuration parameters (`AmazonCloudWatch-*`). `AWSXrayWriteOnlyAccess` adds nothing the first
 * policy lacks. Namespace `amazon-cloudwatch` and service account `cloudwatch-agent`: the chart
 * aws-observability/helm-charts `charts/amazon-cloudwatch-observability` at v1.9.0, as its README
 * installs it.
 */
export class CloudWatchObservabilityPermissions extends ControllerPermissions {
  public constructor() {
    super({
      controllerName: 'Amazon CloudWatch Observability',
      defaultNamespace: 'amazon-cloudwatch',
      defaultServiceAccount: 'cloudwatch-agent',
      upstream: { source: 'AWS managed policies CloudWatchAgentServerPolicy and AWSXrayWriteOnlyAccess', version: 'v3 and v2' },
    });
  }

  /** @internal */
  protected _statements(): ControllerStatement[] {
    return [
      {
        actions: [...CLOUDWATCH_AGENT_ACTIONS.unscoped, ...CLOUDWATCH_AGENT_ACTIONS.logGroups],
        resources: ['*'],
        wildcardReason: 'The metric, trace and Describe actions take no resource; the agent creates and writes the log groups of each cluster and application it observes (CloudWatchAgentServerPolicy).',
      },
      {
        actions: [...CLOUDWATCH_AGENT_ACTIONS.parameters],
        resources: [arn('ssm', '*', '*', 'parameter/AmazonCloudWatch-*')],
        wildcardReason: 'The agent\'s configuration parameters, named AmazonCloudWatch-* (CloudWatchAgentServerPolicy).',
      },
    ];
  }
}
