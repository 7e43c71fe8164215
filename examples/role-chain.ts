/**
 * Role chaining across two accounts: the pods of service account `reports/generator`, in a cluster
 * of account 111122223333, end up with the credentials of a target role in account 444455556666,
 * which may read that account's bucket. Two stacks of one app, deployable in either order.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PodIdentityAssociation, PodIdentityTargetRole } from '../src';

/** The app: the cluster account's stack and the data account's stack; `outdir` is where it synthesizes to. */
export function roleChainApp(outdir?: string): App {
  const app = new App({ outdir });
  // The cluster's account: the association, and the role the pods get first.
  const workloads = new Stack(app, 'RoleChainWorkloads', { env: { account: '111122223333', region: 'us-east-1' } });
  // The data account: the bucket, and the role the pods end up with.
  const data = new Stack(app, 'RoleChainData', { env: { account: '444455556666', region: 'us-east-1' } });

  const reports = new s3.Bucket(data, 'Reports');
  // Its trust holds nothing but the statements of the associations that use it.
  const reader = new PodIdentityTargetRole(data, 'ReportsReader');
  reports.grantRead(reader);

  const cluster = eks.Cluster.fromClusterAttributes(workloads, 'Cluster', { clusterName: 'prod' });
  new PodIdentityAssociation(workloads, 'Generator', {
    cluster,
    namespace: 'reports',
    serviceAccount: 'generator',
    // The association role may assume the target role, and the target role trusts this association
    // only; `generator.grantTargetRole(reader)` does the same.
    targetRole: reader,
  });

  return app;
}
