import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AspectPriority, Aspects, CfnResource, IAspect, PropertyInjectors, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { PodIdentityAssociation, PodIdentityAssociationProps, PodIdentitySessionTag, PodIdentityTargetRole } from '../src';

/*
 * What a CDK user expects of a construct beyond its resource: removal policies that cover what it
 * owns, ids that stay put across versions, organisations' role conventions, names the user picks,
 * and errors that say where they come from.
 */

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const ASSOCIATION_TYPE = 'Custom::EksPodIdentityAssociation';
const TRANSFERS_TYPE = 'Custom::EksPodIdentityTransfers';

function newStack(app = new App(), id = 'Workloads'): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region: REGION } });
}

function associate(stack: Stack, id = 'Api', props: Partial<PodIdentityAssociationProps> = {}): PodIdentityAssociation {
  const cluster = stack.node.tryFindChild('Cluster') as eksv2.ICluster ?? eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' });
  return new PodIdentityAssociation(stack, id, { cluster, namespace: 'payments', serviceAccount: id.toLowerCase(), ...props });
}

function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnResource);
}

/** DeletionPolicy and UpdateReplacePolicy of each resource the association created, by construct path below the association. */
function retentionOf(association: PodIdentityAssociation): Record<string, { DeletionPolicy?: string; UpdateReplacePolicy?: string }> {
  const stack = Stack.of(association);
  const resources = Template.fromStack(stack).toJSON().Resources;
  const owned: Record<string, { DeletionPolicy?: string; UpdateReplacePolicy?: string }> = {};
  for (const construct of association.node.findAll()) {
    if (CfnResource.isCfnResource(construct) && resources[stack.getLogicalId(construct)]) {
      const { DeletionPolicy, UpdateReplacePolicy } = resources[stack.getLogicalId(construct)];
      owned[construct.node.path.slice(association.node.path.length + 1)] = { DeletionPolicy, UpdateReplacePolicy };
    }
  }
  return owned;
}

const KEPT = { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' };
const DELETED = { DeletionPolicy: undefined, UpdateReplacePolicy: undefined };

describe('the removal policy covers everything the association owns', () => {
  test.each([RemovalPolicy.RETAIN, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE])('%s by prop: the resource, the created role, and every policy of the role, granted before or after', removalPolicy => {
    // GIVEN
    const stack = newStack();
    const early = new s3.Bucket(stack, 'Early');
    const late = new s3.Bucket(stack, 'Late');
    // WHEN grants land in the role's default policy and in a policy of the user's
    const association = associate(stack, 'Api', { removalPolicy });
    early.grantRead(association);
    const extra = new iam.Policy(stack, 'Extra', { statements: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['*'] })] });
    association.role.attachInlinePolicy(extra);
    late.grantWrite(association);
    // THEN the role keeps its permissions with the association it serves
    expect(retentionOf(association)).toEqual({
      'Resource': KEPT,
      'Role/Resource': KEPT,
      'Role/DefaultPolicy/Resource': KEPT,
    });
    expect(Template.fromStack(stack).toJSON().Resources[logicalIdOf(extra)]).toMatchObject(KEPT);
  });

  test('applyRemovalPolicy() after construction, and grants after it', () => {
    const stack = newStack();
    const association = associate(stack);
    new s3.Bucket(stack, 'Early').grantRead(association);

    association.applyRemovalPolicy(RemovalPolicy.RETAIN);
    new s3.Bucket(stack, 'Late').grantWrite(association);
    const extra = new iam.Policy(stack, 'Extra', { statements: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: ['*'] })] });
    extra.attachToRole(association.role);

    expect(retentionOf(association)).toEqual({
      'Resource': KEPT,
      'Role/Resource': KEPT,
      'Role/DefaultPolicy/Resource': KEPT,
    });
    expect(Template.fromStack(stack).toJSON().Resources[logicalIdOf(extra)]).toMatchObject(KEPT);
  });

  test('applyRemovalPolicy(DESTROY) undoes RETAIN', () => {
    const stack = newStack();
    const association = associate(stack, 'Api', { removalPolicy: RemovalPolicy.RETAIN });
    new s3.Bucket(stack, 'Bucket').grantRead(association);

    association.applyRemovalPolicy(RemovalPolicy.DESTROY);

    const template = Template.fromStack(stack).toJSON().Resources;
    for (const id of ['Resource', 'Role/Resource', 'Role/DefaultPolicy/Resource']) {
      const resource = template[stack.getLogicalId(association.node.findAll().find(c => c.node.path === `Workloads/Api/${id}`) as CfnResource)];
      expect({ path: id, DeletionPolicy: resource.DeletionPolicy, UpdateReplacePolicy: resource.UpdateReplacePolicy }).toEqual({ path: id, DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    }
  });

  test('a given role is not the association\'s: its removal policy is its own', () => {
    const stack = newStack();
    const role = new iam.Role(stack, 'Given', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    const association = associate(stack, 'Api', { role, removalPolicy: RemovalPolicy.RETAIN });
    association.applyRemovalPolicy(RemovalPolicy.RETAIN);
    new s3.Bucket(stack, 'Bucket').grantRead(association);

    const resources = Template.fromStack(stack).toJSON().Resources;
    expect(resources[logicalIdOf(role)]).not.toHaveProperty('DeletionPolicy');
    expect(resources[stack.getLogicalId(role.node.findChild('DefaultPolicy').node.defaultChild as CfnResource)]).not.toHaveProperty('DeletionPolicy');
    expect(retentionOf(association)).toEqual({ Resource: KEPT });
  });

  test('applyRemovalPolicy(SNAPSHOT) is an error that names the association', () => {
    const association = associate(newStack());
    expect(() => association.applyRemovalPolicy(RemovalPolicy.SNAPSHOT)).toThrow(/^\[Workloads\/Api\] `applyRemovalPolicy\(\)` takes RemovalPolicy.DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE, got: RemovalPolicy.SNAPSHOT/);
  });

  test('by default, the association, its role and the role\'s policies go with the stack', () => {
    const stack = newStack();
    const association = associate(stack);
    new s3.Bucket(stack, 'Bucket').grantRead(association);
    expect(retentionOf(association)).toEqual({ 'Resource': DELETED, 'Role/Resource': DELETED, 'Role/DefaultPolicy/Resource': DELETED });
  });
});

describe('the provider\'s ids are a contract', () => {
  /*
   * CloudFormation sends every request of an existing custom resource to its ServiceToken, which
   * can never change; the framework function's logical id determines it. The other ids are pinned
   * too: a changed id replaces the resource (a new log group, a new role the handler's sessions do
   * not hold). These lists change only with a major version, and a migration note.
   */
  test('logical ids of the provider and its ServiceToken', () => {
    const stack = newStack();
    associate(stack, 'Api', { role: new iam.Role(stack, 'Given', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }) });
    const resources = Template.fromStack(stack).toJSON().Resources;

    const provider = Object.entries(resources)
      .filter(([id]) => id.startsWith('PodIdentityAssociationProvider'))
      .map(([id, resource]) => `${id} ${(resource as { Type: string }).Type}`);
    expect(provider).toEqual([
      'PodIdentityAssociationProviderHandlerLogs878C184D AWS::Logs::LogGroup',
      'PodIdentityAssociationProviderFrameworkLogs1012E27E AWS::Logs::LogGroup',
      'PodIdentityAssociationProviderHandlerRoleD92149A0 AWS::IAM::Role',
      'PodIdentityAssociationProviderHandlerRoleDefaultPolicyD5BC6D06 AWS::IAM::Policy',
      'PodIdentityAssociationProviderFrameworkRole60D5328B AWS::IAM::Role',
      'PodIdentityAssociationProviderFrameworkRoleDefaultPolicy87B9F371 AWS::IAM::Policy',
      'PodIdentityAssociationProviderHandlerACA0A547 AWS::Lambda::Function',
      'PodIdentityAssociationProviderframeworkonEventD3AD0517 AWS::Lambda::Function',
      'PodIdentityAssociationProviderTransfers1D6C5686 Custom::EksPodIdentityTransfers',
      'PodIdentityAssociationProviderStackOperationEnded88F78293 AWS::Events::Rule',
      'PodIdentityAssociationProviderStackOperationEndedAllowEventRuleWorkloadsPodIdentityAssociationProviderHandlerFA13B848564B32BF AWS::Lambda::Permission',
      expect.stringMatching(/^PodIdentityAssociationProviderRole[0-9A-F]{8}[0-9A-F]{8} AWS::IAM::Policy$/),
    ]);
    const token = { 'Fn::GetAtt': ['PodIdentityAssociationProviderframeworkonEventD3AD0517', 'Arn'] };
    for (const resource of Object.values(resources) as Array<{ Type: string; Properties: Record<string, unknown> }>) {
      if (resource.Type === ASSOCIATION_TYPE || resource.Type === TRANSFERS_TYPE) {
        expect(resource.Properties.ServiceToken).toEqual(token);
      }
    }
    // An association's own id is CDK's, from its path (a CfnResource directly below it, as in 1.x).
    expect(Object.keys(resources).filter(id => resources[id].Type === ASSOCIATION_TYPE)).toEqual(['ApiF70053CD']);
  });

  /*
   * aws-cdk-lib's Provider has no option for its framework function's runtime, and picks it from a
   * regional fact that lags; the provider sets it on the child aws-cdk-lib names 'framework-onEvent'.
   * This test fails if aws-cdk-lib renames or reshapes that child.
   */
  test('the framework function is where the provider expects it in aws-cdk-lib\'s Provider, and runs the handler\'s runtime', () => {
    const stack = newStack();
    associate(stack);
    const provider = stack.node.findChild('PodIdentityAssociationProvider').node.findChild('Provider') as cr.Provider;

    const framework = provider.node.tryFindChild('framework-onEvent');
    expect(framework).toBeInstanceOf(lambda.Function);
    expect(framework!.node.defaultChild).toBeInstanceOf(lambda.CfnFunction);
    const handler = stack.node.findChild('PodIdentityAssociationProvider').node.findChild('Handler') as lambda.Function;
    expect(stack.resolve((framework!.node.defaultChild as lambda.CfnFunction).runtime)).toEqual(handler.runtime.name);
    expect(provider.serviceToken).toEqual((framework as lambda.Function).functionArn);
  });

  test('CloudFormation waits 15 minutes for each request, not an hour (ServiceTimeout), on both custom resources', () => {
    const stack = newStack();
    associate(stack);
    const template = Template.fromStack(stack);
    for (const type of [ASSOCIATION_TYPE, TRANSFERS_TYPE]) {
      template.hasResourceProperties(type, { ServiceTimeout: '900' });
    }
    // within the framework function's own timeout
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'framework.onEvent', Timeout: 900 });
  });
});

describe('organisations\' role conventions', () => {
  const PRECREATED = {
    'Workloads/Api/Role': 'payments-api-pods',
    'Workloads/PodIdentityAssociationProvider/HandlerRole': 'pod-identity-handler',
    'Workloads/PodIdentityAssociationProvider/FrameworkRole': 'pod-identity-framework',
  };
  const GIVEN = { 'Workloads/Given': 'worker-pods' };

  /** The roles of the IAM policy report that customizeRoles() writes, by construct path. */
  function reportOf(outdir: string): Record<string, { roleName: string; identityPolicyStatements: string[] }> {
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'iam-policy-report.json'), 'utf8'));
    return Object.fromEntries(report.roles.map((role: { roleConstructPath: string }) => [role.roleConstructPath, role]));
  }

  test('iam.Role.customizeRoles(): no role in the template, every role in the report with its statements, and the handler may pass the pre-created association role', () => {
    // GIVEN roles the organisation pre-creates
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'customize-roles-'));
    const app = new App({ outdir });
    const stack = newStack(app);
    iam.Role.customizeRoles(stack, { usePrecreatedRoles: { ...PRECREATED, ...GIVEN } });
    // WHEN an association creates its role, another on a second cluster uses a role of the app and adopts
    const association = associate(stack);
    new s3.Bucket(stack, 'Bucket').grantRead(association);
    new PodIdentityAssociation(stack, 'Worker', {
      cluster: eksv2.Cluster.fromClusterAttributes(stack, 'Staging', { clusterName: 'staging' }),
      namespace: 'payments',
      serviceAccount: 'worker',
      role: new iam.Role(stack, 'Given', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }),
      adoptExisting: true,
    });
    app.synth();
    // THEN
    const template = Template.fromStack(stack);
    // the template changes no role: every statement is in the report
    template.resourceCountIs('AWS::IAM::Role', 0);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.hasResourceProperties(ASSOCIATION_TYPE, { RoleArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:role/payments-api-pods`]] } });
    const report = reportOf(outdir);
    expect(Object.fromEntries(Object.entries(report).map(([rolePath, role]) => [rolePath, role.roleName]))).toEqual({ ...PRECREATED, ...GIVEN });
    const statements = (rolePath: string) => JSON.stringify(report[rolePath].identityPolicyStatements);
    expect(statements('Workloads/Api/Role')).toContain('s3:GetObject*');
    expect(statements('Workloads/PodIdentityAssociationProvider/HandlerRole')).toContain('eks:CreatePodIdentityAssociation');
    // both clusters, though the handler role recorded its statements before the second one was known
    expect(statements('Workloads/PodIdentityAssociationProvider/HandlerRole')).toContain('cluster/prod');
    expect(statements('Workloads/PodIdentityAssociationProvider/HandlerRole')).toContain('cluster/staging');
    // the pre-created association role is not on the created-role path: the handler may pass it by name; and the given one
    expect(statements('Workloads/PodIdentityAssociationProvider/HandlerRole')).toContain(`arn:(PARTITION):iam::${ACCOUNT}:role/payments-api-pods`);
    expect(statements('Workloads/PodIdentityAssociationProvider/HandlerRole')).toContain(`arn:(PARTITION):iam::${ACCOUNT}:role/worker-pods`);
    expect(statements('Workloads/PodIdentityAssociationProvider/HandlerRole')).toContain(`arn:(PARTITION):iam::${ACCOUNT}:role/*`);
  });

  test('iam.Role.customizeRoles() without preventing synthesis: the roles as usual, and the report', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'customize-roles-'));
    const app = new App({ outdir });
    const stack = newStack(app);
    iam.Role.customizeRoles(stack, { preventSynthesis: false });
    associate(stack);
    app.synth();

    Template.fromStack(stack).resourceCountIs('AWS::IAM::Role', 3);
    expect(Object.keys(reportOf(outdir)).sort()).toEqual(Object.keys(PRECREATED).sort());
  });

  test('an aspect that rewrites created roles\' paths: the handler may still pass them, by ARN', () => {
    // GIVEN an organisation's aspect that puts every role under its own path
    class OrgPath implements IAspect {
      public visit(node: IConstruct): void {
        if (node instanceof iam.CfnRole) node.path = '/org/workloads/';
      }
    }
    const stack = newStack();
    Aspects.of(stack).add(new OrgPath());
    const association = associate(stack);
    const other = associate(stack, 'Worker');
    // WHEN
    const statements: Array<Record<string, any>> = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap(policy => policy.Properties.PolicyDocument.Statement);
    // THEN one statement lets the handler pass exactly those roles, to EKS Pod Identity only
    const passMoved = statements.filter(statement => statement.Action === 'iam:PassRole' && Array.isArray(statement.Resource) && statement.Resource.length === 2);
    expect(passMoved).toEqual([{
      Action: 'iam:PassRole',
      Effect: 'Allow',
      Condition: { StringEquals: { 'iam:PassedToService': 'pods.eks.amazonaws.com' } },
      Resource: [association, other].map(a => stack.resolve(a.role.roleArn)),
    }]);
  });

  test('a property injector that sets role paths: the handler may pass the created roles, by ARN', () => {
    const app = new App();
    const stack = newStack(app);
    PropertyInjectors.of(app).add({
      constructUniqueId: iam.Role.PROPERTY_INJECTION_ID,
      inject: (props: iam.RoleProps) => ({ ...props, path: '/org/' }),
    });
    const association = associate(stack);

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', { Path: '/org/', AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'pods.eks.amazonaws.com' } })] } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'iam:PassRole', Resource: stack.resolve(association.role.roleArn) })] },
    });
  });

  test('an aspect that rewrites role paths after the provider looked: synthesis fails, naming the role and the fix', () => {
    const stack = newStack();
    Aspects.of(stack).add({ visit: node => { if (node instanceof iam.CfnRole) node.path = '/late/'; } }, { priority: AspectPriority.READONLY + 1 });
    associate(stack);

    expect(() => Template.fromStack(stack)).toThrow(/The path of role Workloads\/Api\/Role changed to "\/late\/" after this provider looked .*Rewrite role paths in an aspect of priority below AspectPriority.READONLY/);
  });

  test('without such an aspect, the path covers the created roles: no statement per role', () => {
    const stack = newStack();
    associate(stack);
    associate(stack, 'Worker');
    const statements: Array<Record<string, any>> = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap(policy => policy.Properties.PolicyDocument.Statement);
    expect(statements.filter(statement => statement.Action === 'iam:PassRole' && JSON.stringify(statement.Resource).includes('GetAtt'))).toEqual([]);
  });
});

describe('roleName', () => {
  test('names the created role, on the created-role path', () => {
    const stack = newStack();
    const association = associate(stack, 'Api', { roleName: 'payments-api-pods' });

    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', { RoleName: 'payments-api-pods', Path: '/cdk-eks-pod-identity/Workloads/' });
    expect(stack.resolve(association.role.roleArn)).toEqual({ 'Fn::GetAtt': [logicalIdOf(association.role), 'Arn'] });
  });

  test('a trust in another account names the role by its ARN, with its path; the name survives a move in the construct tree, a generated one does not', () => {
    /** The association role's ARN as the target role's trust (in the data account) names it. */
    const trustedArn = (roleName: string | undefined, parent?: string) => {
      const app = new App();
      const stack = newStack(app);
      const data = new Stack(app, 'Data', { env: { account: '444455556666', region: REGION } });
      const scope = parent ? new Construct(stack, parent) : stack;
      const cluster = eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' });
      new PodIdentityAssociation(scope, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', roleName, targetRole: new PodIdentityTargetRole(data, 'Reader') });
      const [trust] = Object.values(Template.fromStack(data).findResources('AWS::IAM::Role'));
      const arn = trust.Properties.AssumeRolePolicyDocument.Statement[0].Condition.ArnEquals['aws:PrincipalARN'];
      return arn['Fn::Join'][1].slice(2).join('');
    };
    const named = `:iam::${ACCOUNT}:role/cdk-eks-pod-identity/Workloads/payments-api-pods`;
    expect(trustedArn('payments-api-pods')).toBe(named);
    expect(trustedArn('payments-api-pods', 'Moved')).toBe(named);
    expect(trustedArn(undefined)).toMatch(new RegExp(`^:iam::${ACCOUNT}:role/cdk-eks-pod-identity/Workloads/workloads\\w*apirole[0-9a-f]+$`));
    expect(trustedArn(undefined, 'Moved')).not.toBe(trustedArn(undefined));
  });

  test.each([
    ['too long', 'r'.repeat(65)],
    ['a slash', 'team/api'],
    ['a space', 'payments api'],
    ['empty', ''],
  ])('rejects a name IAM would reject: %s', (_, roleName) => {
    expect(() => associate(newStack(), 'Api', { roleName })).toThrow(/^\[Workloads\/Api\] `roleName` must be an IAM role name \(1 to 64 letters, digits and \+=,\.@_-\), got: /);
  });

  test('accepts 64 characters of every kind IAM allows', () => {
    expect(() => associate(newStack(), 'Api', { roleName: 'aZ09+=,.@_-'.padEnd(64, 'x') })).not.toThrow();
  });

  test('with `role` it is an error: only a created role has a name to set', () => {
    const stack = newStack();
    const role = iam.Role.fromRoleName(stack, 'Given', 'given');
    expect(() => associate(stack, 'Api', { role, roleName: 'payments-api-pods' })).toThrow(/^\[Workloads\/Api\] `roleName` names the role this construct creates, but `role` is given/);
  });
});

describe('every synth-time error names the construct', () => {
  test.each<[string, (stack: Stack) => unknown, RegExp]>([
    ['a bad namespace', stack => associate(stack, 'Api', { namespace: 'Payments' }), /^\[Workloads\/Api\] `namespace` must be a Kubernetes namespace name/],
    ['a bad service account', stack => associate(stack, 'Api', { serviceAccount: 'API' }), /^\[Workloads\/Api\] `serviceAccount` must be/],
    ['a session policy with session tags', stack => associate(stack, 'Api', { policy: new iam.PolicyDocument() }), /^\[Workloads\/Api\] `policy` requires `disableSessionTags: true`/],
    ['SNAPSHOT', stack => associate(stack, 'Api', { removalPolicy: RemovalPolicy.SNAPSHOT }), /^\[Workloads\/Api\] `removalPolicy` must be/],
    ['a role of another account', stack => associate(stack, 'Api', { role: iam.Role.fromRoleArn(stack, 'Other', 'arn:aws:iam::444455556666:role/x') }), /^\[Workloads\/Api\] `role` must be in the same account as the cluster/],
    ['a second association of one service account', stack => { associate(stack, 'Api'); return associate(stack, 'Again', { serviceAccount: 'api' }); }, /^\[Workloads\/Again\] Service account "payments\/api" of this cluster already has a Pod Identity association in this app, at Workloads\/Api/],
    ['a second target role', stack => {
      const association = associate(stack, 'Api', { targetRole: iam.Role.fromRoleArn(stack, 'One', 'arn:aws:iam::444455556666:role/one') });
      return association.grantTargetRole(iam.Role.fromRoleArn(stack, 'Two', 'arn:aws:iam::444455556666:role/two'));
    }, /^\[Workloads\/Api\] An association has at most one target role/],
    ['principalTagConditions() without session tags', stack => associate(stack, 'Api', { disableSessionTags: true }).principalTagConditions(), /^\[Workloads\/Api\] `principalTagConditions\(\)` needs session tags/],
    ['a bad association ARN', stack => PodIdentityAssociation.fromPodIdentityAssociationArn(stack, 'Imported', 'arn:aws:eks:us-east-1:111122223333:cluster/prod'), /^\[Workloads\/Imported\] `associationArn` must be/],
    ['a target role trusting a bad namespace', stack => new PodIdentityTargetRole(stack, 'Reader', {
      trustedAssociations: [{ associationRoleArn: `arn:aws:iam::${ACCOUNT}:role/api`, clusterArn: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/prod`, namespace: 'Payments', serviceAccount: 'api' }],
    }), /^\[Workloads\/Reader\] `namespace` must be/],
  ])('%s', (_, define, message) => {
    expect(() => define(newStack())).toThrow(message);
  });
});

test('exported constant arrays are read-only', () => {
  const keys = PodIdentitySessionTag.ALL;
  expect(Object.isFrozen(keys)).toBe(true);
  expect(() => keys.push('x')).toThrow(TypeError);
  expect(PodIdentitySessionTag.ALL).toHaveLength(6);
});
