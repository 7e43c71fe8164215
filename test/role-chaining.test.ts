import { Annotations as CoreAnnotations, App, CfnResource, PhysicalName, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PodIdentityAssociation, PodIdentityAssociationProps, PodIdentityTargetRole } from '../src';

const CLUSTER_ACCOUNT = '111122223333';
const TARGET_ACCOUNT = '444455556666';
const REGION = 'us-east-1';
/** The IAM path of the roles the associations of stack Workloads create. */
const CREATED_ROLE_PATH = 'cdk-eks-pod-identity/Workloads/';

/** `arn:<partition><rest>`, as CDK renders an ARN in the stack's partition. */
function arn(rest: string) {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] };
}
const CLUSTER_ARN = arn(`:eks:${REGION}:${CLUSTER_ACCOUNT}:cluster/my-cluster`);
const CLUSTER_ACCOUNT_ROOT = { AWS: arn(`:iam::${CLUSTER_ACCOUNT}:root`) };

function newStack(app: App, id: string, account = CLUSTER_ACCOUNT): Stack {
  return new Stack(app, id, { env: { account, region: REGION } });
}

function importedCluster(stack: Stack): eksv2.ICluster {
  return stack.node.tryFindChild('Cluster') as eksv2.ICluster ?? eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'my-cluster' });
}

function associate(stack: Stack, id = 'Association', props: Partial<PodIdentityAssociationProps> = {}): PodIdentityAssociation {
  return new PodIdentityAssociation(stack, id, { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: id.toLowerCase(), ...props });
}

function logicalIdOf(role: iam.IRole): string {
  return Stack.of(role).getLogicalId((role as iam.Role).node.defaultChild as iam.CfnRole);
}

/** The trust policy statements of a role of this app, as synthesized. */
function trustOf(role: iam.IRole): any[] {
  const template = Template.fromStack(Stack.of(role)).toJSON();
  return template.Resources[logicalIdOf(role)].Properties.AssumeRolePolicyDocument.Statement;
}

/** The generated name of a created association role, as synthesized. */
function roleNameOf(role: iam.IRole): string {
  const template = Template.fromStack(Stack.of(role)).toJSON();
  return template.Resources[logicalIdOf(role)].Properties.RoleName;
}

function associationProperties(stack: Stack, association: PodIdentityAssociation): Record<string, any> {
  const logicalId = stack.getLogicalId(association.node.findChild('Resource') as CfnResource);
  return Template.fromStack(stack).toJSON().Resources[logicalId].Properties;
}

/** The trust statement of an association with session tags, as the EKS User Guide documents it. */
function taggedTrust(associationRoleArn: unknown, serviceAccount: string) {
  return {
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      StringEquals: {
        'aws:RequestTag/eks-cluster-arn': CLUSTER_ARN,
        'aws:RequestTag/kubernetes-namespace': 'payments',
        'aws:RequestTag/kubernetes-service-account': serviceAccount,
      },
      ArnEquals: { 'aws:PrincipalARN': associationRoleArn },
    },
    Effect: 'Allow',
    Principal: CLUSTER_ACCOUNT_ROOT,
  };
}

/** The two trust statements of an association without session tags, as the EKS User Guide documents them. */
function externalIdTrust(associationRoleArn: unknown, serviceAccount: string) {
  return [
    {
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: { 'sts:ExternalId': `${REGION}/${CLUSTER_ACCOUNT}/my-cluster/payments/${serviceAccount}` },
        ArnEquals: { 'aws:PrincipalARN': associationRoleArn },
      },
      Effect: 'Allow',
      Principal: CLUSTER_ACCOUNT_ROOT,
    },
    {
      Action: 'sts:TagSession',
      Condition: { ArnEquals: { 'aws:PrincipalARN': associationRoleArn } },
      Effect: 'Allow',
      Principal: CLUSTER_ACCOUNT_ROOT,
    },
  ];
}

/** The association role's scoped trust in EKS Pod Identity. */
function podsTrust(serviceAccount: string) {
  return {
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      StringEquals: {
        'aws:RequestTag/eks-cluster-arn': CLUSTER_ARN,
        'aws:RequestTag/kubernetes-namespace': 'payments',
        'aws:RequestTag/kubernetes-service-account': serviceAccount,
      },
    },
    Effect: 'Allow',
    Principal: { Service: 'pods.eks.amazonaws.com' },
  };
}

/** The statements of the association role's own policy. */
function associationRolePolicy(association: PodIdentityAssociation): any[] {
  const stack = Stack.of(association.role);
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: logicalIdOf(association.role) }] },
  });
  const [policy] = Object.values(policies);
  return policy.Properties.PolicyDocument.Statement;
}

describe('grantTargetRole: a target role in the same stack', () => {
  test('with session tags, the target role trusts the association role\'s account for that role and the association\'s session tags, and keeps its own statements', () => {
    // GIVEN
    const stack = newStack(new App(), 'Stack');
    const association = associate(stack, 'Api');
    const targetRole = new iam.Role(stack, 'Target', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });

    // WHEN
    const grant = association.grantTargetRole(targetRole);

    // THEN
    const associationRoleArn = { 'Fn::GetAtt': [logicalIdOf(association.role), 'Arn'] };
    expect(trustOf(targetRole)).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } },
      taggedTrust(associationRoleArn, 'api'),
    ]);
    expect(associationRolePolicy(association)).toEqual([{
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [logicalIdOf(targetRole), 'Arn'] },
    }]);
    expect(grant.success).toBe(true);
    expect(association.targetRole).toBe(targetRole);
  });

  test('a target role set after construction reaches the custom resource, which waits for the grant', () => {
    // GIVEN
    const stack = newStack(new App(), 'Stack');
    const association = associate(stack, 'Api');
    const targetRole = new PodIdentityTargetRole(stack, 'Target');

    // WHEN
    association.grantTargetRole(targetRole);

    // THEN
    const properties = associationProperties(stack, association);
    expect(properties.TargetRoleArn).toEqual({ 'Fn::GetAtt': [logicalIdOf(targetRole), 'Arn'] });
    expect(properties.ExpectedExternalId).toBeUndefined();
    const logicalId = stack.getLogicalId(association.node.findChild('Resource') as CfnResource);
    expect(Template.fromStack(stack).toJSON().Resources[logicalId].DependsOn).toEqual([expect.stringMatching(/^ApiRoleDefaultPolicy/), expect.stringMatching(/^PodIdentityAssociationProviderTransfers/)]);
  });

  test('without session tags, the target role requires the external id for sts:AssumeRole and allows sts:TagSession on its own, and the handler is told the external id', () => {
    // GIVEN
    const stack = newStack(new App(), 'Stack');
    const targetRole = new PodIdentityTargetRole(stack, 'Target');

    // WHEN
    const association = associate(stack, 'Api', { disableSessionTags: true, targetRole });

    // THEN
    expect(trustOf(targetRole)).toEqual(externalIdTrust({ 'Fn::GetAtt': [logicalIdOf(association.role), 'Arn'] }, 'api'));
    expect(associationProperties(stack, association).ExpectedExternalId).toBe(`${REGION}/${CLUSTER_ACCOUNT}/my-cluster/payments/api`);
  });

  test('produces no warning', () => {
    const stack = newStack(new App(), 'Stack');
    associate(stack, 'Api', { targetRole: new PodIdentityTargetRole(stack, 'Target') });

    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

describe('grantTargetRole: a target role in another stack of the same account', () => {
  test('both stacks synthesize without a cycle: the target stack names the association role by its generated name, not by an import', () => {
    // GIVEN
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data');
    const association = associate(workloads, 'Api');
    const targetRole = new PodIdentityTargetRole(data, 'Reader');

    // WHEN
    association.grantTargetRole(targetRole);
    const assembly = app.synth();

    // THEN
    const roleName = roleNameOf(association.role);
    expect(roleName).toMatch(/^workloads[a-z]*apirole[0-9a-f]{20}$/);
    expect(trustOf(targetRole)).toEqual([taggedTrust(arn(`:iam::${CLUSTER_ACCOUNT}:role/${CREATED_ROLE_PATH}${roleName}`), 'api')]);
    expect(JSON.stringify(assembly.getStackByName('Data').template)).not.toContain('Fn::ImportValue');
    // the association's stack imports the target role's ARN
    expect(associationProperties(workloads, association).TargetRoleArn).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Data:ExportsOutputFnGetAttReader/) });
  });

  test('an association role without a known name in the association\'s stack is rejected: it would make each stack depend on the other', () => {
    // GIVEN
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data');
    const role = new iam.Role(workloads, 'Given', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    const association = associate(workloads, 'Api', { role });

    // THEN
    expect(() => association.grantTargetRole(new PodIdentityTargetRole(data, 'Reader'))).toThrow(
      'The association role\'s ARN is a reference to stack Workloads, which itself references stack Data; writing it into the trust policy of target role Data/Reader would make each stack depend on the other. ' +
      'Give the role passed in `role` an explicit `roleName`, or leave `role` out so that the association creates a role it can name.',
    );
  });

  test('a cluster defined in the association\'s stack is rejected: it would make each stack depend on the other', () => {
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data');
    const cluster = new eksv2.Cluster(workloads, 'Cluster', { version: eksv2.KubernetesVersion.V1_34, clusterName: 'my-cluster' });
    const association = associate(workloads, 'Api', { cluster });

    expect(() => association.grantTargetRole(new PodIdentityTargetRole(data, 'Reader'))).toThrow(
      'The cluster name is a reference to stack Workloads, which itself references stack Data; writing it into the trust policy of target role Data/Reader would make each stack depend on the other. ' +
      'Import the cluster by name with `Cluster.fromClusterAttributes()` in the association\'s stack, define it in a stack of its own, or define the role in the association\'s stack.',
    );
  });

  test('a cluster in a stack of its own is imported by the target role\'s stack, without a cycle', () => {
    const app = new App();
    const clusters = newStack(app, 'Clusters');
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data');
    const cluster = new eksv2.Cluster(clusters, 'Cluster', { version: eksv2.KubernetesVersion.V1_34, clusterName: 'my-cluster' });
    const targetRole = new PodIdentityTargetRole(data, 'Reader');

    associate(workloads, 'Api', { cluster, targetRole });

    expect(() => app.synth()).not.toThrow();
    const [statement] = trustOf(targetRole);
    expect(statement.Condition.StringEquals['aws:RequestTag/eks-cluster-arn']).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:eks:${REGION}:${CLUSTER_ACCOUNT}:cluster/`, { 'Fn::ImportValue': expect.stringMatching(/^Clusters:ExportsOutputRefCluster/) }]],
    });
  });

  test('a given role with an explicit name and path is named by its ARN', () => {
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data');
    const role = new iam.Role(workloads, 'Given', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com'), roleName: 'payments-api', path: '/eks/' });
    const targetRole = new PodIdentityTargetRole(data, 'Reader');

    associate(workloads, 'Api', { role, targetRole });

    expect(trustOf(targetRole)).toEqual([taggedTrust(arn(`:iam::${CLUSTER_ACCOUNT}:role/eks/payments-api`), 'api')]);
  });
});

describe('grantTargetRole: a target role in another account of the same app', () => {
  test('both stacks synthesize; the target account\'s template holds only literals: the association role ARN with its generated name and the cluster ARN', () => {
    // GIVEN
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data', TARGET_ACCOUNT);
    const association = associate(workloads, 'Api');
    const targetRole = new PodIdentityTargetRole(data, 'Reader');

    // WHEN
    association.grantTargetRole(targetRole);
    const assembly = app.synth();

    // THEN
    const roleName = roleNameOf(association.role);
    expect(roleName).toMatch(/^workloads[a-z]*apirole[0-9a-f]{20}$/);
    expect(trustOf(targetRole)).toEqual([taggedTrust(arn(`:iam::${CLUSTER_ACCOUNT}:role/${CREATED_ROLE_PATH}${roleName}`), 'api')]);
    const dataTemplate = JSON.stringify(assembly.getStackByName('Data').template);
    expect(dataTemplate).not.toMatch(/Fn::ImportValue|Fn::GetAtt/);
    // the target role got a generated name too, which the association's stack writes as a literal
    const readerName = Template.fromStack(data).toJSON().Resources[logicalIdOf(targetRole)].Properties.RoleName;
    expect(readerName).toMatch(/^data[a-z]*reader[0-9a-f]{20}$/);
    const targetRoleArn = arn(`:iam::${TARGET_ACCOUNT}:role/${readerName}`);
    expect(associationProperties(workloads, association).TargetRoleArn).toEqual(targetRoleArn);
    expect(associationRolePolicy(association)).toEqual([{ Action: ['sts:AssumeRole', 'sts:TagSession'], Effect: 'Allow', Resource: targetRoleArn }]);
  });

  test('without session tags: the external id trust, and the handler is told the external id', () => {
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data', TARGET_ACCOUNT);
    const targetRole = new PodIdentityTargetRole(data, 'Reader');

    const association = associate(workloads, 'Api', { targetRole, disableSessionTags: true });

    expect(trustOf(targetRole)).toEqual(externalIdTrust(arn(`:iam::${CLUSTER_ACCOUNT}:role/${CREATED_ROLE_PATH}${roleNameOf(association.role)}`), 'api'));
    expect(associationProperties(workloads, association).ExpectedExternalId).toBe(`${REGION}/${CLUSTER_ACCOUNT}/my-cluster/payments/api`);
  });

  test('a named cluster defined in the association\'s stack is written by its name', () => {
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data', TARGET_ACCOUNT);
    const cluster = new eksv2.Cluster(workloads, 'Cluster', { version: eksv2.KubernetesVersion.V1_34, clusterName: 'my-cluster' });
    const targetRole = new PodIdentityTargetRole(data, 'Reader');

    const association = associate(workloads, 'Api', { cluster, targetRole });
    app.synth();

    expect(trustOf(targetRole)).toEqual([taggedTrust(arn(`:iam::${CLUSTER_ACCOUNT}:role/${CREATED_ROLE_PATH}${roleNameOf(association.role)}`), 'api')]);
  });

  test('a cluster whose name CloudFormation generates is rejected, with the fix', () => {
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data', TARGET_ACCOUNT);
    const cluster = new eksv2.Cluster(workloads, 'Cluster', { version: eksv2.KubernetesVersion.V1_34 });
    const association = associate(workloads, 'Api', { cluster });

    expect(() => association.grantTargetRole(new PodIdentityTargetRole(data, 'Reader'))).toThrow(
      new RegExp('^\\[Workloads/Api\\] The cluster name must be known at synth time to be written into the trust policy of target role Data/Reader, in stack Data \\(account 444455556666, region us-east-1\\), ' +
        'another environment than the association\'s stack Workloads \\(account 111122223333, region us-east-1\\); got: a value CDK cannot resolve there \\(.*Cannot use resource \'Workloads/Cluster\' in a cross-environment fashion.*\\)\\. ' +
        'Give the cluster an explicit name \\(the `clusterName` prop of the Cluster\\), or import it by name with `Cluster.fromClusterAttributes\\(\\)`\\.$'),
    );
  });

  test('a target role without a name is rejected, with the fix', () => {
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data', TARGET_ACCOUNT);
    const association = associate(workloads, 'Api');
    const targetRole = new iam.Role(data, 'Reader', { assumedBy: new iam.AccountPrincipal(CLUSTER_ACCOUNT) });

    expect(() => association.grantTargetRole(targetRole)).toThrow(
      /^\[Workloads\/Api\] `targetRole` Data\/Reader is in another environment \(account 444455556666, region us-east-1\) than the association \(account 111122223333, region us-east-1\), and its ARN is not known at synth time, so the association's stack cannot name it; got: .*\. Give the role a name: `roleName: PhysicalName.GENERATE_IF_NEEDED`, or an explicit name\.$/,
    );
    expect(association.targetRole).toBeUndefined();
  });

  test('a target role with PhysicalName.GENERATE_IF_NEEDED is accepted', () => {
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const data = newStack(app, 'Data', TARGET_ACCOUNT);
    const targetRole = new iam.Role(data, 'Reader', { assumedBy: new iam.AccountPrincipal(CLUSTER_ACCOUNT), roleName: PhysicalName.GENERATE_IF_NEEDED });

    expect(() => associate(workloads, 'Api', { targetRole })).not.toThrow();
    expect(() => app.synth()).not.toThrow();
  });
});

describe('grantTargetRole: an imported target role', () => {
  const READER = `arn:aws:iam::${TARGET_ACCOUNT}:role/reader`;

  test('warns, exposes the trust policy as a document, as JSON and as a stack output, and still grants the association role', () => {
    // GIVEN
    const stack = newStack(new App(), 'Workloads');
    const association = associate(stack, 'Api');

    // WHEN
    association.grantTargetRole(iam.Role.fromRoleArn(stack, 'Reader', READER));

    // THEN
    const roleName = roleNameOf(association.role);
    const expected = { Statement: [taggedTrust(arn(`:iam::${CLUSTER_ACCOUNT}:role/${CREATED_ROLE_PATH}${roleName}`), 'api')], Version: '2012-10-17' };
    expect(stack.resolve(association.targetRoleTrustPolicy)).toEqual(expected);

    // the JSON is joined around the partition, known at deploy time
    const json = stack.resolve(association.targetRoleTrustPolicyJson);
    const literal = json['Fn::Join'][1].map((part: unknown) => typeof part === 'string' ? part : 'aws').join('');
    const literalArn = (rest: string) => `arn:aws${rest}`;
    expect(JSON.parse(literal)).toEqual({
      Statement: [{
        ...taggedTrust(literalArn(`:iam::${CLUSTER_ACCOUNT}:role/${CREATED_ROLE_PATH}${roleName}`), 'api'),
        Condition: {
          StringEquals: {
            'aws:RequestTag/eks-cluster-arn': literalArn(`:eks:${REGION}:${CLUSTER_ACCOUNT}:cluster/my-cluster`),
            'aws:RequestTag/kubernetes-namespace': 'payments',
            'aws:RequestTag/kubernetes-service-account': 'api',
          },
          ArnEquals: { 'aws:PrincipalARN': literalArn(`:iam::${CLUSTER_ACCOUNT}:role/${CREATED_ROLE_PATH}${roleName}`) },
        },
        Principal: { AWS: literalArn(`:iam::${CLUSTER_ACCOUNT}:root`) },
      }],
      Version: '2012-10-17',
    });

    const outputs = Template.fromStack(stack).findOutputs('*');
    expect(Object.values(outputs)).toEqual([{
      Description: `Trust policy to apply to target role ${READER} of EKS Pod Identity association Workloads/Api`,
      Value: json,
    }]);
    const [outputId] = Object.keys(outputs);
    Annotations.fromStack(stack).hasWarning('/Workloads/Api', Match.stringLikeRegexp(
      `^Target role ${READER} is imported, so this association cannot add the trust statements that let EKS Pod Identity assume it\\. ` +
      `Apply the statements of \`targetRoleTrustPolicy\` \\(as JSON: \`targetRoleTrustPolicyJson\`, or stack output ${outputId} once deployed\\) to the role's trust policy in its account, ` +
      'or create the role there with PodIdentityTargetRole\\. Until then the pods cannot get its credentials\\.',
    ));
    expect(associationRolePolicy(association)).toEqual([{ Action: ['sts:AssumeRole', 'sts:TagSession'], Effect: 'Allow', Resource: READER }]);
    expect(associationProperties(stack, association).TargetRoleArn).toBe(READER);
  });

  test('without session tags, the exposed trust policy has the external id statements', () => {
    const stack = newStack(new App(), 'Workloads');
    const association = associate(stack, 'Api', { disableSessionTags: true, targetRole: iam.Role.fromRoleArn(stack, 'Reader', READER) });

    expect(stack.resolve(association.targetRoleTrustPolicy)).toEqual({
      Statement: externalIdTrust(arn(`:iam::${CLUSTER_ACCOUNT}:role/${CREATED_ROLE_PATH}${roleNameOf(association.role)}`), 'api'),
      Version: '2012-10-17',
    });
    expect(associationProperties(stack, association).ExpectedExternalId).toBe(`${REGION}/${CLUSTER_ACCOUNT}/my-cluster/payments/api`);
  });

  test('the warning can be acknowledged', () => {
    const stack = newStack(new App(), 'Workloads');
    const association = associate(stack, 'Api', { targetRole: iam.Role.fromRoleArn(stack, 'Reader', READER) });

    CoreAnnotations.of(association).acknowledgeWarning('cdk-eks-pod-identity:importedTargetRole');

    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('no target role: no trust policy to expose', () => {
    const stack = newStack(new App(), 'Workloads');
    const association = associate(stack, 'Api');

    expect(association.targetRoleTrustPolicy).toBeUndefined();
    expect(association.targetRoleTrustPolicyJson).toBeUndefined();
  });
});

describe('grantTargetRole: one target role per association', () => {
  test('a target role shared by two associations gets one statement per association, each scoped to its own role and service account', () => {
    // GIVEN
    const stack = newStack(new App(), 'Stack');
    const targetRole = new PodIdentityTargetRole(stack, 'Target');
    const api = associate(stack, 'Api');
    const worker = associate(stack, 'Worker', { disableSessionTags: true });

    // WHEN
    api.grantTargetRole(targetRole);
    worker.grantTargetRole(targetRole);

    // THEN
    const roleArn = (association: PodIdentityAssociation) => ({ 'Fn::GetAtt': [logicalIdOf(association.role), 'Arn'] });
    expect(trustOf(targetRole)).toEqual([
      taggedTrust(roleArn(api), 'api'),
      ...externalIdTrust(roleArn(worker), 'worker'),
    ]);
  });

  test('two associations that share one association role and one target role each get their own statement', () => {
    const stack = newStack(new App(), 'Stack');
    const targetRole = new PodIdentityTargetRole(stack, 'Target');
    const api = associate(stack, 'Api', { targetRole });
    associate(stack, 'Worker', { role: api.role, targetRole });

    const roleArn = { 'Fn::GetAtt': [logicalIdOf(api.role), 'Arn'] };
    expect(trustOf(targetRole)).toEqual([taggedTrust(roleArn, 'api'), taggedTrust(roleArn, 'worker')]);
  });

  test('a second, different target role is an error that names both', () => {
    const stack = newStack(new App(), 'Stack');
    const association = associate(stack, 'Api', { targetRole: new PodIdentityTargetRole(stack, 'Target') });

    expect(() => association.grantTargetRole(iam.Role.fromRoleArn(stack, 'Other', `arn:aws:iam::${TARGET_ACCOUNT}:role/other`))).toThrow(
      `An association has at most one target role; this one already has Stack/Target, got a second one: arn:aws:iam::${TARGET_ACCOUNT}:role/other. ` +
      'Give the pods that need the other role their own service account and association, or pass the same role to `targetRole` and `grantTargetRole()`.',
    );
  });

  test('the same target role again (in props and grantTargetRole, or an equal imported ARN) returns the same grant and adds nothing', () => {
    // GIVEN
    const stack = newStack(new App(), 'Stack');
    const targetRole = new PodIdentityTargetRole(stack, 'Target');
    const association = associate(stack, 'Api', { targetRole });
    const importedStack = newStack(new App(), 'Imported');
    const imported = associate(importedStack, 'Api', { targetRole: iam.Role.fromRoleArn(importedStack, 'Reader', `arn:aws:iam::${TARGET_ACCOUNT}:role/reader`) });

    // WHEN
    const first = association.grantTargetRole(targetRole);
    const second = association.grantTargetRole(targetRole);
    imported.grantTargetRole(iam.Role.fromRoleArn(importedStack, 'ReaderAgain', `arn:aws:iam::${TARGET_ACCOUNT}:role/reader`));

    // THEN
    expect(second).toBe(first);
    expect(trustOf(targetRole)).toEqual([taggedTrust({ 'Fn::GetAtt': [logicalIdOf(association.role), 'Arn'] }, 'api')]);
    expect(associationRolePolicy(association)).toHaveLength(1);
    expect(Object.keys(Template.fromStack(importedStack).findOutputs('*'))).toHaveLength(1);
  });
});

describe('the association role\'s own trust', () => {
  test('a created role without session tags has the plain documented trust', () => {
    const stack = newStack(new App(), 'Stack');
    const association = associate(stack, 'Api', { disableSessionTags: true });

    expect(trustOf(association.role)).toEqual([{
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
    }]);
  });

  test('a created role has no name unless another stack names it', () => {
    const stack = newStack(new App(), 'Stack');
    const association = associate(stack, 'Api', { targetRole: new PodIdentityTargetRole(stack, 'Target') });

    expect(roleNameOf(association.role)).toBeUndefined();
  });

  test('a created role passed to a second association gets one scoped statement per association', () => {
    // GIVEN
    const stack = newStack(new App(), 'Stack');
    const api = associate(stack, 'Api');

    // WHEN
    associate(stack, 'Worker', { role: api.role });

    // THEN
    expect(trustOf(api.role)).toEqual([podsTrust('api'), podsTrust('worker')]);
  });

  test('a Role of this app given in props keeps its statements and gets one scoped statement per association', () => {
    const stack = newStack(new App(), 'Stack');
    const role = new iam.Role(stack, 'Given', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });

    associate(stack, 'Api', { role });
    associate(stack, 'Worker', { role, disableSessionTags: true });

    expect(trustOf(role)).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' } },
      podsTrust('api'),
      { Action: ['sts:AssumeRole', 'sts:TagSession'], Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' } },
    ]);
  });

  test('a Role of another stack in the same account given in props gets the statement in its own template', () => {
    const app = new App();
    const roles = newStack(app, 'Roles');
    const workloads = newStack(app, 'Workloads');
    const role = new iam.Role(roles, 'Given', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com'), roleName: 'payments-api' });

    associate(workloads, 'Api', { role });
    app.synth();

    expect(trustOf(role)).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' } },
      podsTrust('api'),
    ]);
  });
});
