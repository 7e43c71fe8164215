/**
 * A session policy narrows a shared role: two workloads share one role that may read and write a
 * whole bucket, and each one's pods receive credentials limited to its own prefix.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PodIdentityAssociation } from '../src';

/** The app, one stack in the cluster's account; `outdir` is where it synthesizes to. */
export function sessionPolicyApp(outdir?: string): App {
  const app = new App({ outdir });
  const stack = new Stack(app, 'SessionPolicy', { env: { account: '111122223333', region: 'us-east-1' } });

  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' });
  const exchange = new s3.Bucket(stack, 'Exchange');

  // One role for several workloads, with read and write access to the whole bucket. EKS Pod
  // Identity assumes it with sts:AssumeRole and sts:TagSession; each association adds the same trust.
  const shared = new iam.Role(stack, 'SharedRole', {
    assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com')),
    description: 'Shared by the exchange workloads; each association narrows it with a session policy',
  });
  exchange.grantReadWrite(shared);

  // The uploader's pods may only write objects under incoming/.
  new PodIdentityAssociation(stack, 'Uploader', {
    cluster,
    namespace: 'exchange',
    serviceAccount: 'uploader',
    role: shared,
    // EKS accepts a session policy only with session tags disabled.
    disableSessionTags: true,
    policy: new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [exchange.arnForObjects('incoming/*')],
      })],
    }),
  });

  // The publisher's pods may only read objects under outgoing/.
  new PodIdentityAssociation(stack, 'Publisher', {
    cluster,
    namespace: 'exchange',
    serviceAccount: 'publisher',
    role: shared,
    disableSessionTags: true,
    policy: new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [exchange.arnForObjects('outgoing/*')],
      })],
    }),
  });

  return app;
}
