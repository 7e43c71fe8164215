import { Annotations as CoreAnnotations, App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PodIdentityAssociation, PodIdentityTargetRole } from '../src';

/*
 * Grants follow the credentials the pods receive: with a target role, grant*(association) reaches
 * the target role, whether it is set by prop or by grantTargetRole(), before or after the grant,
 * in the same stack, another stack or another account; the association role keeps what it needs.
 */

const ACCOUNT = '111122223333';
const DATA_ACCOUNT = '444455556666';
const REGION = 'us-east-1';

function stackIn(app: App, id: string, account = ACCOUNT): Stack {
  return new Stack(app, id, { env: { account, region: REGION } });
}

function associate(stack: Stack, props: Partial<ConstructorParameters<typeof PodIdentityAssociation>[2]> = {}): PodIdentityAssociation {
  return new PodIdentityAssociation(stack, 'Api', {
    cluster: eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' }),
    namespace: 'payments',
    serviceAccount: 'api',
    ...props,
  });
}

/** The statements of the identity policies attached to `role` in its stack's template. */
function statementsOf(role: iam.IRole): Array<Record<string, unknown>> {
  const stack = Stack.of(role);
  const roleRef = stack.resolve((role as iam.Role).roleName);
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter(policy => JSON.stringify(policy.Properties.Roles) === JSON.stringify([roleRef]))
    .flatMap(policy => policy.Properties.PolicyDocument.Statement);
}

function actionsOf(role: iam.IRole): string[] {
  return statementsOf(role).flatMap(statement => [statement.Action].flat() as string[]).sort();
}

const READ_ACTIONS = ['s3:GetBucket*', 's3:GetObject*', 's3:List*'];
const ASSUME = ['sts:AssumeRole', 'sts:TagSession'];

describe('with a target role, grants to the association reach the role whose credentials the pods receive', () => {
  test.each([
    ['set by prop', 'prop'],
    ['set by grantTargetRole() before the grant', 'before'],
    ['set by grantTargetRole() after the grant', 'after'],
  ])('a target role in the same stack, %s', (_, when) => {
    // GIVEN
    const app = new App();
    const stack = stackIn(app, 'Workloads');
    const bucket = new s3.Bucket(stack, 'Bucket');
    const target = new PodIdentityTargetRole(stack, 'Reader');
    const association = associate(stack, when === 'prop' ? { targetRole: target } : {});
    // WHEN
    if (when === 'before') association.grantTargetRole(target);
    bucket.grantRead(association);
    if (when === 'after') association.grantTargetRole(target);
    // THEN the target role may read; the association role may only assume the target role
    expect(actionsOf(target)).toEqual(READ_ACTIONS);
    expect(actionsOf(association.role)).toEqual(ASSUME);
    expect(statementsOf(association.role)).toEqual([expect.objectContaining({ Resource: Stack.of(target).resolve(target.roleArn) })]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('grant'))).toEqual([]);
  });

  test.each(['before', 'after'])('a target role of this app in another account, set %s the grant', when => {
    // GIVEN the data account holds the bucket and the target role
    const app = new App();
    const workloads = stackIn(app, 'Workloads');
    const data = stackIn(app, 'Data', DATA_ACCOUNT);
    const bucket = new s3.Bucket(data, 'Bucket');
    const target = new PodIdentityTargetRole(data, 'Reader');
    const association = associate(workloads);
    // WHEN
    if (when === 'before') association.grantTargetRole(target);
    bucket.grantRead(association);
    if (when === 'after') association.grantTargetRole(target);
    // THEN the grant is in the data account's stack, on the target role
    expect(actionsOf(target)).toEqual(READ_ACTIONS);
    expect(actionsOf(association.role)).toEqual(ASSUME);
  });

  test('a target role of this app in another stack of the same account', () => {
    const app = new App();
    const workloads = stackIn(app, 'Workloads');
    const roles = stackIn(app, 'Roles');
    const bucket = new s3.Bucket(roles, 'Bucket');
    const target = new PodIdentityTargetRole(roles, 'Reader');
    const association = associate(workloads, { targetRole: target });

    bucket.grantRead(association);

    expect(actionsOf(target)).toEqual(READ_ACTIONS);
    expect(actionsOf(association.role)).toEqual(ASSUME);
  });

  test('grantPrincipal names the target role, for resource policies', () => {
    const app = new App();
    const stack = stackIn(app, 'Workloads');
    const target = new PodIdentityTargetRole(stack, 'Reader');
    const association = associate(stack, { targetRole: target });

    expect(stack.resolve(association.grantPrincipal.policyFragment.principalJson)).toEqual({ AWS: [stack.resolve(target.roleArn)] });
    expect(association.grantPrincipal.principalAccount).toBe(ACCOUNT);
  });

  test('the association waits for the target role\'s grants in its own stack', () => {
    const app = new App();
    const stack = stackIn(app, 'Workloads');
    const target = new PodIdentityTargetRole(stack, 'Reader');
    const association = associate(stack, { targetRole: target });

    new s3.Bucket(stack, 'Bucket').grantRead(association);

    const resources = Template.fromStack(stack).toJSON().Resources;
    const logicalId = stack.getLogicalId(association.node.findChild('Resource') as any);
    expect(resources[logicalId].DependsOn).toContain(stack.getLogicalId(target.node.findChild('DefaultPolicy').node.defaultChild as any));
  });
});

describe('a grant that cannot reach the target role says so', () => {
  const IMPORTED = `arn:aws:iam::${DATA_ACCOUNT}:role/reader`;

  test('an imported target role: a warning that names the grant, and no statement on the association role', () => {
    // GIVEN
    const app = new App();
    const stack = stackIn(app, 'Workloads');
    const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'reports');
    const association = associate(stack, { targetRole: iam.Role.fromRoleArn(stack, 'Reader', IMPORTED, { mutable: false }) });
    // WHEN
    bucket.grantRead(association);
    // THEN
    const warnings = Annotations.fromStack(stack).findWarning('/Workloads/Api', Match.stringLikeRegexp('cannot reach its target role'));
    expect(warnings.map(w => w.entry.data)).toEqual([expect.stringMatching(
      new RegExp(`^The grant of \\["s3:GetObject\\*","s3:GetBucket\\*","s3:List\\*"\\] on .* to this association cannot reach its target role ${IMPORTED}, whose credentials the pods receive: .*Grant it in the role's own account, or use a target Role of this app \\(PodIdentityTargetRole\\)\\. \\[ack: cdk-eks-pod-identity:grantNotOnTargetRole\\]$`),
    )]);
    expect(actionsOf(association.role)).toEqual(ASSUME);
  });

  test('the warning can be acknowledged, by its id, and only it', () => {
    const warningsOf = (acknowledge: boolean) => {
      const app = new App();
      const stack = stackIn(app, 'Workloads');
      const association = associate(stack, { targetRole: iam.Role.fromRoleArn(stack, 'Reader', IMPORTED, { mutable: false }) });
      s3.Bucket.fromBucketName(stack, 'Bucket', 'reports').grantRead(association);
      if (acknowledge) {
        CoreAnnotations.of(association).acknowledgeWarning('cdk-eks-pod-identity:grantNotOnTargetRole', 'granted in the data account');
      }
      return Annotations.fromStack(stack).findWarning('/Workloads/Api', Match.anyValue()).map(w => String(w.entry.data).match(/\[ack: ([^\]]+)\]$/)?.[1]);
    };

    expect(warningsOf(false).sort()).toEqual(['cdk-eks-pod-identity:grantNotOnTargetRole', 'cdk-eks-pod-identity:importedTargetRole']);
    expect(warningsOf(true)).toEqual(['cdk-eks-pod-identity:importedTargetRole']);
  });

  test('grants made before a target role of another account was set: a warning about their resource policies', () => {
    const app = new App();
    const workloads = stackIn(app, 'Workloads');
    const data = stackIn(app, 'Data', DATA_ACCOUNT);
    const association = associate(workloads);
    new s3.Bucket(workloads, 'Bucket', { bucketName: 'workloads-reports' }).grantRead(association);

    association.grantTargetRole(new PodIdentityTargetRole(data, 'Reader'));

    expect(Annotations.fromStack(workloads).findWarning('/Workloads/Api', Match.stringLikeRegexp('were made before its target role'))).toHaveLength(1);
  });
});

describe('without a target role', () => {
  test('grants go to the created association role, and the association waits for them', () => {
    const app = new App();
    const stack = stackIn(app, 'Workloads');
    const association = associate(stack);

    new s3.Bucket(stack, 'Bucket').grantRead(association);

    expect(actionsOf(association.role)).toEqual(READ_ACTIONS);
  });

  test('grants go to a Role of this app given as `role`', () => {
    const app = new App();
    const stack = stackIn(app, 'Workloads');
    const role = new iam.Role(stack, 'Given', { assumedBy: new iam.AccountPrincipal(ACCOUNT) });
    const association = associate(stack, { role });

    new s3.Bucket(stack, 'Bucket').grantRead(association);

    expect(actionsOf(role)).toEqual(READ_ACTIONS);
  });
});
