import { AddonRoleOptions } from './options';
import { AddonCatalogEntry } from '../private/addon-catalog';
import { errorAt } from '../private/errors';

/**
 * A preconfigured collector of the `adot` add-on (AWS Distro for OpenTelemetry). Each runs under a
 * service account of its own, in `opentelemetry-operator-system`, and needs its own role; the
 * value is the service account's name.
 */
export enum AdotCollector {
  /** Scrapes Prometheus metrics, service account `adot-col-prom-metrics`. */
  PROMETHEUS_METRICS = 'adot-col-prom-metrics',
  /** Receives OTLP traces and sends them to AWS X-Ray, service account `adot-col-otlp-ingest`. */
  OTLP_INGEST = 'adot-col-otlp-ingest',
  /** Sends container logs to CloudWatch Logs, service account `adot-col-container-logs`. */
  CONTAINER_LOGS = 'adot-col-container-logs',
}

/** Where the Prometheus metrics collector of the `adot` add-on sends metrics: its pipelines. */
export enum AdotPrometheusDestination {
  /** The `amp` pipeline: Amazon Managed Service for Prometheus (`AmazonPrometheusRemoteWriteAccess`). */
  AMAZON_MANAGED_PROMETHEUS = 'amp',
  /** The `emf` pipeline: CloudWatch, in the embedded metric format (`CloudWatchAgentServerPolicy`). */
  CLOUDWATCH = 'emf',
}

/**
 * Options of the role of one collector of the `adot` add-on (`AddonRole.adot()`).
 */
export interface AdotRoleProps extends AddonRoleOptions {
  /** The collector the role is for. */
  readonly collector: AdotCollector;

  /**
   * The pipelines the Prometheus metrics collector uses; only for `AdotCollector.PROMETHEUS_METRICS`.
   * The role gets the managed policy of each.
   *
   * @default - [AdotPrometheusDestination.AMAZON_MANAGED_PROMETHEUS] for the Prometheus metrics collector
   */
  readonly prometheusDestinations?: AdotPrometheusDestination[];
}

const DESTINATION_POLICIES: Record<AdotPrometheusDestination, string> = {
  [AdotPrometheusDestination.AMAZON_MANAGED_PROMETHEUS]: 'AmazonPrometheusRemoteWriteAccess',
  [AdotPrometheusDestination.CLOUDWATCH]: 'CloudWatchAgentServerPolicy',
};

/**
 * `adot` (AWS Distro for OpenTelemetry), one role per preconfigured collector, in
 * `opentelemetry-operator-system`:
 *
 * - `adot-col-prom-metrics`: `AmazonPrometheusRemoteWriteAccess` for the `amp` pipeline,
 *   `CloudWatchAgentServerPolicy` for the `emf` pipeline ("only attach the minimum set of policies
 *   necessary"): aws-otel/aws-otel.github.io@282f48cb
 *   `src/docs/getting-started/adot-eks-add-on/config-prometheus-metrics.mdx`;
 * - `adot-col-otlp-ingest`: `AWSXrayWriteOnlyAccess` (`config-otlp-ingest.mdx` at 282f48cb);
 * - `adot-col-container-logs`: `CloudWatchAgentServerPolicy` (`config-container-logs.mdx` at 1d66ef88).
 *
 * A collector needs a role only when it is enabled in the add-on's configuration values.
 * Minimum add-on version with Pod Identity: `v0.94.1-eksbuild.1` (EKS User Guide,
 * `latest/ug/workloads/retreive-iam-info.adoc`).
 */
export const ADOT: AddonCatalogEntry<AdotRoleProps> = {
  addonName: 'adot',
  namespace: 'opentelemetry-operator-system',
  serviceAccount: props => props.collector,
  minimumVersion: () => 'v0.94.1-eksbuild.1',
  managedPolicies: props => {
    switch (props.collector) {
      case AdotCollector.PROMETHEUS_METRICS:
        return [...new Set(props.prometheusDestinations ?? [AdotPrometheusDestination.AMAZON_MANAGED_PROMETHEUS])].map(d => DESTINATION_POLICIES[d]);
      case AdotCollector.OTLP_INGEST:
        return ['AWSXrayWriteOnlyAccess'];
      case AdotCollector.CONTAINER_LOGS:
        return ['CloudWatchAgentServerPolicy'];
    }
  },
  customerPolicy: () => undefined,
  validate: (path, props) => {
    if (!Object.values(AdotCollector).includes(props.collector)) {
      throw errorAt(path, `\`collector\` must be an AdotCollector, got: ${JSON.stringify(props.collector)}. Use AdotCollector.PROMETHEUS_METRICS, OTLP_INGEST or CONTAINER_LOGS, one role for each collector you enable.`);
    }
    const destinations = props.prometheusDestinations;
    if (destinations !== undefined && props.collector !== AdotCollector.PROMETHEUS_METRICS) {
      throw errorAt(path, `\`prometheusDestinations\` is only for AdotCollector.PROMETHEUS_METRICS, got it for collector ${JSON.stringify(props.collector)}. Remove it.`);
    }
    if (destinations !== undefined && (destinations.length === 0 || destinations.some(d => !Object.values(AdotPrometheusDestination).includes(d)))) {
      throw errorAt(path, `\`prometheusDestinations\` must list at least one AdotPrometheusDestination, got: ${JSON.stringify(destinations)}. Use AMAZON_MANAGED_PROMETHEUS, CLOUDWATCH or both, as your collector's pipelines.`);
    }
  },
};
