/**
 * Integration test, session policy: an association with session tags disabled and a session policy
 * that narrows a role of the app (given as `role`) to one prefix of a bucket. Deployed
 * (`npx projen integ:deploy`), it asserts what EKS holds; offline, integ-runner compares its
 * synthesized templates with the snapshot.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PodIdentityAssociation } from '../src';
import { describeAssociation, testCluster } from './integ-support';

const app = new App();
// Environment-agnostic: deployed to the account and region of the credentials.
const stack = new Stack(app, 'PodIdentitySessionPolicy');
const cluster = testCluster(stack);
// It stays empty, so CloudFormation can delete it with the stack.
const exchange = new s3.Bucket(stack, 'Exchange', { removalPolicy: RemovalPolicy.DESTROY });

// A role for several workloads, allowed the whole bucket; the association adds its own trust statement.
const shared = new iam.Role(stack, 'SharedRole', {
  assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com')),
});
exchange.grantReadWrite(shared);

// The uploader's credentials may only write under incoming/.
const policy = new iam.PolicyDocument({
  statements: [new iam.PolicyStatement({
    actions: ['s3:PutObject'],
    resources: [exchange.arnForObjects('incoming/*')],
  })],
});
const uploader = new PodIdentityAssociation(stack, 'Uploader', {
  cluster,
  namespace: 'exchange',
  serviceAccount: 'uploader',
  role: shared,
  // EKS accepts a session policy only with session tags disabled.
  disableSessionTags: true,
  policy,
});

const integ = new IntegTest(app, 'SessionPolicy', {
  testCases: [stack],
  // The handler bundle is the code under test: a new bundle is a changed snapshot.
  diffAssets: true,
  // Deploying the committed snapshot first would need its assets (the handler bundle) committed too.
  stackUpdateWorkflow: false,
});

// EKS holds the given role, session tags off, and the session policy: the same JSON document
// (compared parsed, so whitespace and key order do not matter).
describeAssociation(integ, uploader).expect(ExpectedResult.objectLike({
  association: {
    roleArn: shared.roleArn,
    disableSessionTags: true,
    policy: Match.serializedJson(policy.toJSON()),
  },
}));
