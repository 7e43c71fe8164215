import { Resource } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import { Construct } from 'constructs';
import { AmazonManagedPrometheusPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/** An existing workspace, by ARN (aws-cdk-lib 2.240 has no importer for workspaces). */
class ImportedWorkspace extends Resource implements aps.IWorkspaceRef {
  public readonly workspaceRef: aps.WorkspaceReference;
  constructor(scope: Construct, id: string, workspaceArn: string) {
    super(scope, id, { environmentFromArn: workspaceArn });
    this.workspaceRef = { workspaceArn };
  }
}

/*
 * Prometheus remote write (remote_write with sigv4) to a workspace, and PromQL queries through the
 * workspace's query API (a Grafana data source, or the server's own recording rules): RemoteWrite,
 * QueryMetrics, GetSeries, GetLabels, GetMetricMetadata.
 */
export const amazonManagedPrometheus: Scenario = {
  name: 'AmazonManagedPrometheusPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const workspace = arnOf('aps', REGION, account, 'workspace/ws-0a1b2c3d-1111-2222-3333-444455556666');
    return {
      permissions: new AmazonManagedPrometheusPermissions({ workspaces: [new ImportedWorkspace(landing, 'Workspace', workspace)] }),
      allowed: ['aps:RemoteWrite', 'aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'].map(action => ({ action, resource: workspace })),
      denied: [
        { action: 'aps:RemoteWrite', resource: arnOf('aps', REGION, account, 'workspace/ws-9f9f9f9f-1111-2222-3333-444455556666') },
        { action: 'aps:DeleteWorkspace', resource: workspace },
      ],
    };
  },
};
