/**
 * Integration test, same account: an association whose role the construct creates, granted access
 * to a bucket. Deployed (`npx projen integ:deploy`), it asserts what EKS holds and what IAM allows
 * the role; offline, integ-runner compares its synthesized templates with the snapshot.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, CfnResource, CfnWaitCondition, CfnWaitConditionHandle, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PodIdentityAssociation, PodIdentityAssociationProvider } from '../src';
import { SNAPSHOT_SYNTH, describeAssociation, testCluster } from './integ-support';

const app = new App();
// Environment-agnostic: deployed to the account and region of the credentials.
const stack = new Stack(app, 'PodIdentitySameAccount');
const cluster = testCluster(stack);
// It stays empty, so CloudFormation can delete it with the stack.
const bucket = new s3.Bucket(stack, 'Reports', { removalPolicy: RemovalPolicy.DESTROY });

/** Opt-in experiments for a real account (README, "Integration tests"); never in a snapshot. */
const probe = SNAPSHOT_SYNTH ? undefined : process.env.CDK_INTEG_PROBE;

const generator = new PodIdentityAssociation(stack, 'Generator', {
  cluster,
  namespace: 'reports',
  // The rollback probe moves the association to another service account: a replacement.
  serviceAccount: probe === 'rollback' ? 'generator-moved' : 'generator',
  tags: { team: 'reports' },
});
bucket.grantReadWrite(generator);

const integ = new IntegTest(app, 'SameAccount', {
  testCases: [stack],
  // The handler bundle is the code under test: a new bundle is a changed snapshot.
  diffAssets: true,
  // Deploying the committed snapshot first would need its assets (the handler bundle) committed too.
  stackUpdateWorkflow: false,
});

// EKS holds the association as declared: the role the construct created, the tags, and the owner
// mark `<stack uuid>/<logical id>` that the handler's IAM conditions rely on. The association
// exists at all only because EKS accepted the role's trust policy (it checks it on create).
const logicalId = stack.resolve((generator.node.defaultChild as CfnResource).logicalId);
describeAssociation(integ, generator).expect(ExpectedResult.objectLike({
  association: {
    associationArn: generator.associationArn,
    namespace: 'reports',
    serviceAccount: 'generator',
    roleArn: generator.role.roleArn,
    tags: {
      'team': 'reports',
      'cdk-eks-pod-identity:owner': Match.stringLikeRegexp(`^[0-9a-f-]{36}/${logicalId}$`),
    },
  },
}));

// The grant reached the role the pods receive: IAM's policy simulator allows it to write the bucket.
integ.assertions.awsApiCall('IAM', 'SimulatePrincipalPolicy', {
  PolicySourceArn: generator.role.roleArn,
  ActionNames: ['s3:PutObject'],
  ResourceArns: [bucket.arnForObjects('report.csv')],
}).assertAtPath('EvaluationResults.0.EvalDecision', ExpectedResult.stringLikeRegexp('^allowed$'));

if (probe === 'tag-on-create') {
  // The handler may not tag anything: its Create (which passes tags) then fails with an
  // AccessDeniedException naming the resource EKS authorizes tag-on-create against, or succeeds if
  // EKS checks none. The policy does not wait for the cluster, so IAM has propagated it long before
  // the association is created.
  const denyTagging = new iam.Policy(stack, 'ProbeDenyTagging', {
    roles: [PodIdentityAssociationProvider.getOrCreate(stack).handler.role!],
    statements: [new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['eks:TagResource'], resources: ['*'] })],
  });
  generator.node.addDependency(denyTagging);
}
if (probe === 'rollback') {
  // Fails one second after the association has moved, so CloudFormation rolls the replacement back;
  // the handler's log shows which requests the rollback sent it.
  const wait = new CfnWaitCondition(stack, 'ProbeFailAfterMove', {
    handle: new CfnWaitConditionHandle(stack, 'ProbeHandle').ref,
    count: 1,
    timeout: '1',
  });
  wait.node.addDependency(generator);
}
