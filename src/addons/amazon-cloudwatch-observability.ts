import * as iam from 'aws-cdk-lib/aws-iam';
import { AddonRoleOptions } from './options';
import { AddonCatalogEntry } from '../private/addon-catalog';
import { CLOUDWATCH_AGENT_ACTIONS } from '../private/cloudwatch-agent-policy';

/**
 * Options of the role of the `amazon-cloudwatch-observability` add-on
 * (`AddonRole.cloudWatchObservability()`).
 */
export interface CloudWatchObservabilityRoleProps extends AddonRoleOptions {
  /**
   * Replace the managed policies with a customer managed policy whose CloudWatch Logs permissions
   * are limited to this cluster's Container Insights log groups
   * (`/aws/containerinsights/<cluster>/*`: `performance`, `application`, `dataplane`, `host`) and
   * Application Signals' (`/aws/application-signals/*`). The other actions of
   * `CloudWatchAgentServerPolicy` and `AWSXrayWriteOnlyAccess` that its agent and Fluent Bit use
   * (`cloudwatch:PutMetricData`, `ec2:DescribeVolumes`, `ec2:DescribeTags`,
   * `logs:DescribeLogGroups`, X-Ray's write and sampling actions) stay on `*`, where those
   * services take no narrower resource; the agent's
   * configuration from SSM parameters (`AmazonCloudWatch-*`) is left out.
   *
   * An agent or Fluent Bit configuration of yours that writes to other log groups needs grants of
   * its own (`logGroup.grantWrite(addonRole)`).
   *
   * @default false - AWS managed `CloudWatchAgentServerPolicy` and `AWSXrayWriteOnlyAccess`
   */
  readonly logsScopedToCluster?: boolean;
}

/**
 * `amazon-cloudwatch-observability` (CloudWatch agent and Fluent Bit), service account
 * `amazon-cloudwatch/cloudwatch-agent`, which both use (aws-observability/helm-charts@71a298ff
 * `charts/amazon-cloudwatch-observability/templates/linux/fluent-bit-daemonset.yaml`).
 *
 * - AWS managed `CloudWatchAgentServerPolicy` and `AWSXrayWriteOnlyAccess`, which the EKS User
 *   Guide says "are required" (awsdocs/amazon-eks-user-guide@4d52b4d0
 *   `latest/ug/workloads/eks-add-ons.adoc`); the CloudWatch User Guide's Pod Identity setup
 *   attaches the first only (Container-Insights-setup-EKS-addon).
 * - Scoped to the cluster: CloudWatch Logs actions of `CloudWatchAgentServerPolicy` on the log
 *   groups Fluent Bit writes (`/aws/containerinsights/${CLUSTER_NAME}/application`, `dataplane`,
 *   `host`: the chart's `values.yaml` at 71a298ff), the agent's `performance` log group and
 *   Application Signals' `/aws/application-signals/data` (CloudWatch User Guide); its other
 *   actions on `*`.
 * - Minimum add-on version with Pod Identity: `v3.1.0-eksbuild.1` (awsdocs/amazon-eks-user-guide@fc529cad
 *   `latest/ug/workloads/retreive-iam-info.adoc`; the CloudWatch User Guide says 3.1.0 too).
 */
export const AMAZON_CLOUDWATCH_OBSERVABILITY: AddonCatalogEntry<CloudWatchObservabilityRoleProps> = {
  addonName: 'amazon-cloudwatch-observability',
  namespace: 'amazon-cloudwatch',
  serviceAccount: () => 'cloudwatch-agent',
  minimumVersion: () => 'v3.1.0-eksbuild.1',
  managedPolicies: props => props.logsScopedToCluster ? [] : ['CloudWatchAgentServerPolicy', 'AWSXrayWriteOnlyAccess'],
  customerPolicy: (props, { partition, region, account, clusterName }) => {
    if (!props.logsScopedToCluster) {
      return undefined;
    }
    const logGroup = (name: string) => `arn:${partition}:logs:${region}:${account}:log-group:${name}`;
    const logGroups = [`/aws/containerinsights/${clusterName}/*`, '/aws/application-signals/*'];
    return {
      statements: [
        new iam.PolicyStatement({ actions: [...CLOUDWATCH_AGENT_ACTIONS.unscoped], resources: ['*'] }),
        new iam.PolicyStatement({ actions: [...CLOUDWATCH_AGENT_ACTIONS.logGroups], resources: logGroups.map(logGroup) }),
      ],
      wildcards: {
        findings: [
          '/^Resource::\\*$/',
          '/^Resource::arn:.+:logs:.+:log-group:(\\/aws\\/containerinsights\\/.+|\\/aws\\/application-signals)\\/\\*$/',
        ],
        reason: 'CloudWatchAgentServerPolicy narrowed to this cluster\'s Container Insights and Application Signals log groups, which the agent and Fluent Bit create and name by node and pod; metrics, volume and tag descriptions, log group listing and X-Ray take no narrower resource.',
      },
    };
  },
  validate: () => undefined,
};
