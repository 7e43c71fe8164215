import * as aps from 'aws-cdk-lib/aws-aps';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, nonEmpty } from './private/statements';

/**
 * Properties of `AmazonManagedPrometheusPermissions`.
 */
export interface AmazonManagedPrometheusPermissionsProps {
  /**
   * The workspaces the Prometheus server (or collector) writes to and queries: an `aps.CfnWorkspace`
   * of this app, or any `IWorkspaceRef`.
   */
  readonly workspaces: aps.IWorkspaceRef[];
}

/**
 * The permissions of a Prometheus server, agent or collector that remote-writes to Amazon Managed
 * Service for Prometheus and queries it.
 *
 * The AMP user guide is not published in a repository; this set follows the policy of
 * terraform-aws-modules/terraform-aws-eks-pod-identity `amazon_managed_service_prometheus.tf` at
 * v2.8.1, which cites it: `aps:RemoteWrite`, `aps:QueryMetrics`, `aps:GetSeries`, `aps:GetLabels`
 * and `aps:GetMetricMetadata` on the workspaces you name. There is no default service account:
 * pass the `namespace` and `serviceAccount` of your Prometheus server to `associate()`.
 */
export class AmazonManagedPrometheusPermissions extends ControllerPermissions {
  private readonly props: AmazonManagedPrometheusPermissionsProps;

  public constructor(props: AmazonManagedPrometheusPermissionsProps) {
    super({
      controllerName: 'Amazon Managed Service for Prometheus',
      upstream: { source: 'terraform-aws-modules/terraform-aws-eks-pod-identity amazon_managed_service_prometheus.tf', version: 'v2.8.1' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { workspaces } = this.props;
    nonEmpty(where, 'AmazonManagedPrometheusPermissions', 'workspaces', workspaces, 'workspaces Prometheus writes to');
    return [{
      actions: ['aps:RemoteWrite', 'aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'],
      resources: workspaces.map(workspace => workspace.workspaceRef.workspaceArn),
    }];
  }
}
