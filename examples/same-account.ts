/**
 * Same account: the pods of service account `reports/generator` receive credentials for a role
 * that the association creates for them, with read and write access to one bucket, and nothing else.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PodIdentityAssociation } from '../src';

/** The app, one stack in the cluster's account; `outdir` is where it synthesizes to. */
export function sameAccountApp(outdir?: string): App {
  const app = new App({ outdir });
  const stack = new Stack(app, 'SameAccount', { env: { account: '111122223333', region: 'us-east-1' } });

  // An existing cluster, imported by name. A Cluster or CfnCluster of the app works the same way.
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' });
  const reports = new s3.Bucket(stack, 'Reports');

  // The pods of service account reports/generator receive credentials for a new role...
  const generator = new PodIdentityAssociation(stack, 'Generator', {
    cluster,
    namespace: 'reports',
    serviceAccount: 'generator',
    tags: { team: 'reports' },
  });
  // ...which may read and write the bucket.
  reports.grantReadWrite(generator);

  // A second workload gets a role of its own, read-only; both share the stack's one provider.
  const viewer = new PodIdentityAssociation(stack, 'Viewer', {
    cluster,
    namespace: 'reports',
    serviceAccount: 'viewer',
  });
  reports.grantRead(viewer);

  return app;
}
