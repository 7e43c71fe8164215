/**
 * The example app: a workload's service account gets a role created for it, with read access to
 * one bucket. Synthesize it with `npm run synth:example`; no AWS account is needed.
 */
import * as path from 'path';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PodIdentityAssociation } from '../src';

/** An existing cluster's service accounts get their AWS credentials through EKS Pod Identity. */
export class ReportsStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const cluster = eks.Cluster.fromClusterAttributes(this, 'Cluster', { clusterName: 'prod' });
    const reports = new s3.Bucket(this, 'Reports');

    // The pods of service account reports/generator receive credentials for a new role...
    const generator = new PodIdentityAssociation(this, 'Generator', {
      cluster,
      namespace: 'reports',
      serviceAccount: 'generator',
      tags: { team: 'reports' },
    });
    // ...which may read and write the bucket, and nothing else.
    reports.grantReadWrite(generator);

    // A second workload shares the stack's one custom-resource provider.
    const viewer = new PodIdentityAssociation(this, 'Viewer', {
      cluster,
      namespace: 'reports',
      serviceAccount: 'viewer',
    });
    reports.grantRead(viewer);
  }
}

const outdir = path.join(__dirname, 'cdk.out');
const app = new App({ outdir });
const stack = new ReportsStack(app, 'PodIdentityExample', { env: { account: '111122223333', region: 'us-east-1' } });
const assembly = app.synth();
const template = assembly.getStackArtifact(stack.artifactId);
console.log(`Synthesized ${stack.stackName} to ${path.relative(process.cwd(), path.join(outdir, template.templateFile))}`);
