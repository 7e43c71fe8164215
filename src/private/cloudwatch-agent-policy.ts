/**
 * The actions of the AWS managed policies `CloudWatchAgentServerPolicy` (v3) and
 * `AWSXrayWriteOnlyAccess` (v2), as AWS publishes them (read in zoph-io/MAMIP `policies/`, which
 * mirrors AWS managed policies), by what they act on. The CloudWatch Observability add-on's role
 * (`AddonRole.cloudWatchObservability()`) and its controller permission set
 * (`CloudWatchObservabilityPermissions`) both follow them.
 */
export const CLOUDWATCH_AGENT_ACTIONS = {
  /** Metrics, volume and tag descriptions, log group listing and X-Ray: no narrower resource. */
  unscoped: [
    'cloudwatch:PutMetricData',
    'ec2:DescribeVolumes',
    'ec2:DescribeTags',
    'logs:DescribeLogGroups',
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    'xray:GetSamplingRules',
    'xray:GetSamplingTargets',
    'xray:GetSamplingStatisticSummaries',
  ],
  /** On the log groups the agent and Fluent Bit create and write (a log group ARN ending in * also matches its streams). */
  logGroups: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
  /** The agent's configuration parameters, `AmazonCloudWatch-*`. */
  parameters: ['ssm:GetParameter'],
} as const;
