import { AddonRoleOptions } from './options';
import { AddonCatalogEntry } from '../private/addon-catalog';

/**
 * `aws-network-flow-monitoring-agent` (the CloudWatch Network Flow Monitor agent), service account
 * `amazon-network-flow-monitor/aws-network-flow-monitor-agent-service-account`.
 *
 * - AWS managed `CloudWatchNetworkFlowMonitorAgentPublishPolicy` (Amazon CloudWatch User Guide,
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-NetworkFlowMonitor-agents-kubernetes-eks.html).
 * - The add-on's console install uses EKS Pod Identity; no minimum version is stated. Add-on
 *   v1.0.0 named the service account `aws-network-flow-monitoring-agent-service-account`, and
 *   v1.0.1 renamed it to the one above, so this entry requires v1.0.1.
 */
export const AWS_NETWORK_FLOW_MONITORING_AGENT: AddonCatalogEntry<AddonRoleOptions> = {
  addonName: 'aws-network-flow-monitoring-agent',
  namespace: 'amazon-network-flow-monitor',
  serviceAccount: () => 'aws-network-flow-monitor-agent-service-account',
  minimumVersion: () => 'v1.0.1',
  managedPolicies: () => ['CloudWatchNetworkFlowMonitorAgentPublishPolicy'],
  customerPolicy: () => undefined,
  validate: () => undefined,
};
