import { CloudWatchObservabilityPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * The CloudWatch agent of amazon-cloudwatch-observability v1.9.0 (Container Insights, Application
 * Signals) and its Fluent Bit: it reads its configuration parameter, creates the cluster's log
 * groups and streams, writes logs and metrics (EMF and PutMetricData), describes the nodes' volumes
 * and tags, and sends traces and sampling requests to X-Ray.
 */
export const cloudWatchObservability: Scenario = {
  name: 'CloudWatchObservabilityPermissions',
  build: ({ account }): ScenarioBuild => {
    const logGroup = (name: string) => arnOf('logs', REGION, account, `log-group:${name}`);
    return {
      permissions: new CloudWatchObservabilityPermissions(),
      allowed: [
        { action: 'ssm:GetParameter', resource: arnOf('ssm', REGION, account, 'parameter/AmazonCloudWatch-linux') },
        { action: 'logs:CreateLogGroup', resource: logGroup('/aws/containerinsights/prod/performance') },
        { action: 'logs:PutRetentionPolicy', resource: logGroup('/aws/containerinsights/prod/performance') },
        { action: 'logs:CreateLogStream', resource: `${logGroup('/aws/containerinsights/prod/application')}:log-stream:node-1` },
        { action: 'logs:PutLogEvents', resource: `${logGroup('/aws/containerinsights/prod/application')}:log-stream:node-1` },
        { action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': 'ContainerInsights' } },
        { action: 'ec2:DescribeVolumes', resource: '*' },
        { action: 'xray:PutTraceSegments', resource: '*' },
        { action: 'xray:GetSamplingRules', resource: '*' },
      ],
      denied: [
        { action: 'ssm:GetParameter', resource: arnOf('ssm', REGION, account, 'parameter/payments/db-password') },
        { action: 'logs:DeleteLogGroup', resource: logGroup('/aws/containerinsights/prod/performance') },
        { action: 'cloudwatch:DeleteAlarms', resource: arnOf('cloudwatch', REGION, account, 'alarm:high-cpu') },
      ],
    };
  },
};
