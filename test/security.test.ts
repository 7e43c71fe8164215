import { App, Aspects, CfnResource, IAspect, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { PodIdentityAssociation, PodIdentityAssociationProvider, PodIdentityTargetRole } from '../src';

const ACCOUNT = '111122223333';
const TARGET_ACCOUNT = '444455556666';
const REGION = 'us-east-1';

function newStack(app: App, id = 'Workloads', account = ACCOUNT): Stack {
  return new Stack(app, id, { env: { account, region: REGION } });
}

function cluster(stack: Stack, clusterName = 'prod'): eksv2.ICluster {
  const id = `Cluster-${clusterName}`;
  return stack.node.tryFindChild(id) as eksv2.ICluster ?? eksv2.Cluster.fromClusterAttributes(stack, id, { clusterName });
}

/** `arn:<partition>:<rest>` as CDK renders it in an environment-specific stack. */
function arn(rest: string) {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] };
}

function logicalIdOf(stack: Stack, path: string): string {
  const resource = stack.node.findAll().find(c => c.node.path === `${stack.node.path}/${path}`);
  return stack.getLogicalId(resource as CfnResource);
}

/** The six cdk-nag rule packs, by the prefix of their rule ids. */
const PACKS: Record<string, new () => IAspect> = {
  'AwsSolutions': AwsSolutionsChecks,
  'HIPAA.Security': HIPAASecurityChecks,
  'NIST.800.53.R4': NIST80053R4Checks,
  'NIST.800.53.R5': NIST80053R5Checks,
  'PCI.DSS.321': PCIDSS321Checks,
  'Serverless': ServerlessChecks,
};

/** A finding of cdk-nag: the resource's construct path and the finding id (`<pack>-<rule>` or `<pack>-<rule>[<finding>]`). */
interface Finding {
  readonly path: string;
  readonly id: string;
}

/** Runs every pack (cdk-nag 2, as aspects) on the app, and returns its findings, errors and warnings. */
function nagFindings(app: App, stacks: Stack[]): Finding[] {
  for (const pack of Object.values(PACKS)) {
    Aspects.of(app).add(new pack());
  }
  app.synth();
  const prefix = Match.stringLikeRegexp(`^(${Object.keys(PACKS).map(pack => pack.replace(/\./g, '\\.')).join('|')})-`);
  return stacks.flatMap(stack => [
    ...Annotations.fromStack(stack).findError('*', prefix),
    ...Annotations.fromStack(stack).findWarning('*', prefix),
  ].map(finding => ({ path: finding.id, id: String(finding.entry.data).split(': ')[0] })));
}

/** The associations of the apps under test, as `<stack>/<id>`. */
const associationIds = new Set<string>();
function track<T extends PodIdentityAssociation>(association: T): T {
  associationIds.add(`${Stack.of(association).node.id}/${association.node.id}`);
  return association;
}

/**
 * Whether the library answers for a finding: one on a resource it creates and configures. A created
 * association role's policy is the library's only as a form (IAMNoInlinePolicy): its statements are
 * the user's grants, which are judged as they are.
 */
function isLibrarys({ path, id }: Finding): boolean {
  const [stack, construct, ...rest] = path.split('/').slice(1);
  const inAssociation = associationIds.has(`${stack}/${construct}`) ? rest.join('/') : undefined;
  return construct === 'PodIdentityAssociationProvider'
    || inAssociation === 'Resource'
    || inAssociation === 'Role/Resource'
    || (inAssociation === 'Role/DefaultPolicy/Resource' && /-IAMNoInlinePolicy$/.test(id));
}

/** Removes every acknowledgement the library writes for cdk-nag 2, to see what they hide (cdk-nag 2 ignores cdk-nag 3's). */
class RemoveAcknowledgements implements IAspect {
  public visit(node: IConstruct): void {
    if (node instanceof CfnResource && node.getMetadata('cdk_nag')) {
      node.addMetadata('cdk_nag', { rules_to_suppress: [] });
    }
  }
}

/** The acknowledgements the library wrote, by resource path: cdk-nag 2's (`id` and patterns) and cdk-nag 3's (exact ids). */
function acknowledgements(app: App): { v2: Array<{ path: string; id: string; patterns: string[] }>; v3: Finding[] } {
  const resources = app.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource);
  return {
    v2: resources.flatMap(resource => ((resource.getMetadata('cdk_nag')?.rules_to_suppress ?? []) as Array<{ id: string; applies_to?: Array<{ regex: string }> }>)
      .map(rule => ({ path: `/${resource.node.path}`, id: rule.id, patterns: (rule.applies_to ?? []).map(a => a.regex) }))),
    v3: app.node.findAll().flatMap(c => c.node.metadata
      .filter(entry => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap(entry => Object.keys(entry.data as Record<string, string>).map(id => ({ path: `/${c.node.path}`, id })))),
  };
}

/** An app whose stacks use every feature of the library, with every option of the provider or none. */
function everyFeature(options?: 'all options'): { app: App; stacks: Stack[] } {
  const app = new App();
  const workloads = newStack(app);
  const data = newStack(app, 'Data', TARGET_ACCOUNT);
  if (options) {
    PodIdentityAssociationProvider.getOrCreate(workloads, {
      vpc: new ec2.Vpc(workloads, 'Vpc', { maxAzs: 2 }),
      reservedConcurrentExecutions: 5,
      activeTracing: true,
      frameworkMemorySize: 256,
      logEncryptionKey: new kms.Key(workloads, 'LogKey', { enableKeyRotation: true }),
    });
  }
  const blue = cluster(workloads, 'blue');
  const green = cluster(workloads, 'green');

  // a created role, with tags, chained to a target role of another account of this app
  const api = track(new PodIdentityAssociation(workloads, 'Api', { cluster: blue, namespace: 'payments', serviceAccount: 'api', tags: { team: 'payments' } }));
  api.grantTargetRole(new PodIdentityTargetRole(data, 'Reader'));
  // a target role in the same stack, without session tags, with a session policy, retained
  track(new PodIdentityAssociation(workloads, 'Reports', {
    cluster: blue,
    namespace: 'reports',
    serviceAccount: 'generator',
    targetRole: new iam.Role(workloads, 'ReportsTarget', { assumedBy: new iam.AccountPrincipal(ACCOUNT) }),
    disableSessionTags: true,
    policy: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::reports/*'] })] }),
    removalPolicy: RemovalPolicy.RETAIN,
  }));
  // one role of the app shared by two associations on two clusters, one adopting an existing association
  const shared = new iam.Role(workloads, 'Shared', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
  track(new PodIdentityAssociation(workloads, 'Blue', { cluster: blue, namespace: 'jobs', serviceAccount: 'worker', role: shared, adoptExisting: true }));
  track(new PodIdentityAssociation(workloads, 'Green', { cluster: green, namespace: 'jobs', serviceAccount: 'worker', role: shared }));
  // an imported target role
  track(new PodIdentityAssociation(workloads, 'Legacy', {
    cluster: green,
    namespace: 'legacy',
    serviceAccount: 'app',
    targetRole: iam.Role.fromRoleArn(workloads, 'LegacyTarget', `arn:aws:iam::${TARGET_ACCOUNT}:role/legacy`),
  }));
  Tags.of(app).add('cost-center', '42');
  return { app, stacks: [workloads, data] };
}

/** Adds what the library's acknowledgements must leave reported: the user's own resources, and the user's grants to an association. */
function withUserResources({ app, stacks }: { app: App; stacks: Stack[] }): { app: App; stacks: Stack[] } {
  const [workloads] = stacks;
  const files = track(new PodIdentityAssociation(workloads, 'Files', { cluster: cluster(workloads, 'blue'), namespace: 'files', serviceAccount: 'reader' }));
  new s3.Bucket(workloads, 'UserBucket').grantRead(files);
  return { app, stacks };
}

describe.each([['no options', undefined], ['every option', 'all options' as const]])('cdk-nag 2, every pack, provider with %s', (_name, options) => {
  test('no finding on a resource the library creates is left unacknowledged', () => {
    const { app, stacks } = everyFeature(options);
    expect(nagFindings(app, stacks).filter(isLibrarys)).toEqual([]);
  });

  test('each acknowledgement, for cdk-nag 2 and for cdk-nag 3, matches a finding that exists on its resource, and each finding has both', () => {
    const { app, stacks } = everyFeature(options);
    Aspects.of(app).add(new RemoveAcknowledgements());
    const findings = nagFindings(app, stacks);
    const { v2, v3 } = acknowledgements(app);
    const on = (path: string) => findings.filter(f => f.path === path || f.path.startsWith(`${path}/`)).map(f => f.id);

    // they are all on the library's resources
    expect(v3.length).toBeGreaterThan(0);
    expect([...v2, ...v3].filter(a => !isLibrarys(a))).toEqual([]);
    // cdk-nag 2: each rule, and each of its patterns, matches a finding
    const stale = v2.filter(({ path, id, patterns }) => patterns.length === 0
      ? !on(path).includes(id)
      : patterns.some(pattern => !on(path).some(found => found.startsWith(`${id}[`) && new RegExp(pattern.slice(1, -1)).test(found.slice(id.length + 1, -1)))));
    expect(stale).toEqual([]);
    // cdk-nag 3: each id is a finding's id (cdk-nag 2 and 3 name findings alike)
    expect(v3.filter(({ path, id }) => !on(path).includes(id))).toEqual([]);
    // and each finding on the library's resources is acknowledged for cdk-nag 3 too
    expect(findings.filter(isLibrarys).filter(f => !v3.some(a => (f.path === a.path || f.path.startsWith(`${a.path}/`)) && a.id === f.id))).toEqual([]);
  });

  test('no acknowledgement hides a finding on what the user owns: their resources, and their grants to an association', () => {
    const { app, stacks } = withUserResources(everyFeature(options));
    const findings = nagFindings(app, stacks);
    const ids = (path: string) => findings.filter(f => f.path === path).map(f => f.id);

    expect(findings.filter(isLibrarys)).toEqual([]);
    // bucket.grantRead(association): the grant's wildcards, on the created role's policy
    expect(ids('/Workloads/Files/Role/DefaultPolicy/Resource')).toEqual(expect.arrayContaining([
      'AwsSolutions-IAM5[Action::s3:GetObject*]',
      'AwsSolutions-IAM5[Action::s3:List*]',
      `AwsSolutions-IAM5[Resource::<${logicalIdOf(stacks[0], 'UserBucket/Resource')}.Arn>/*]`,
    ]));
    // the user's bucket
    expect(ids('/Workloads/UserBucket/Resource')).toEqual(expect.arrayContaining([
      'AwsSolutions-S1', 'HIPAA.Security-S3BucketLoggingEnabled', 'NIST.800.53.R5-S3BucketReplicationEnabled', 'PCI.DSS.321-S3BucketSSLRequestsOnly',
    ]));
  });
});

test('the functions\' runtime is acknowledged as not the newest only when aws-cdk-lib knows a newer one', () => {
  const outdated = () => {
    const { app, stacks } = everyFeature();
    Aspects.of(app).add(new RemoveAcknowledgements());
    const rule = /-(L1|LambdaLatestVersion)$/;
    return {
      findings: nagFindings(app, stacks).filter(f => rule.test(f.id)).map(f => `${f.path} ${f.id}`).sort(),
      acknowledged: acknowledgements(app).v3.filter(a => rule.test(a.id)).map(a => `${a.path} ${a.id}`).sort(),
    };
  };
  expect(outdated()).toEqual({ findings: [], acknowledged: [] });

  // GIVEN an aws-cdk-lib that knows a newer Node.js runtime than the library's
  const newer = new lambda.Runtime('nodejs26.x', lambda.RuntimeFamily.NODEJS);
  try {
    const expected = ['Handler/Resource', 'Provider/framework-onEvent/Resource']
      .flatMap(fn => ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion'].map(id => `/Workloads/PodIdentityAssociationProvider/${fn} ${id}`))
      .sort();
    expect(outdated()).toEqual({ findings: expected, acknowledged: expected });
  } finally {
    lambda.Runtime.ALL.splice(lambda.Runtime.ALL.indexOf(newer), 1);
  }
});

describe('the handler\'s permissions', () => {
  /** The stack's uuid, as the template computes it from the stack id. */
  const stackUuid = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };
  const ownedByThisStack = { 'Fn::Join': ['', [stackUuid, '/*']] };

  /** The statements of each policy attached to the handler's role, by the policy's construct id. */
  function handlerPolicies(stack: Stack): Record<string, unknown[]> {
    const handlerRole = { Ref: logicalIdOf(stack, 'PodIdentityAssociationProvider/HandlerRole/Resource') };
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [handlerRole] } });
    return Object.fromEntries(stack.node.findAll()
      .filter(c => c instanceof CfnResource && stack.getLogicalId(c) in policies)
      .map(c => [c.node.scope!.node.id === 'DefaultPolicy' ? 'DefaultPolicy' : c.node.scope!.node.id, policies[stack.getLogicalId(c as CfnResource)].Properties.PolicyDocument.Statement]));
  }

  test('one policy: read any association, change only those of this stack, create only on its clusters and mark only what carries no owner mark, pass created roles, keep transfer and agent records, read its own stack', () => {
    // GIVEN associations on two clusters
    const app = new App();
    const stack = newStack(app);
    new PodIdentityAssociation(stack, 'A', { cluster: cluster(stack, 'blue'), namespace: 'ns', serviceAccount: 'a' });
    new PodIdentityAssociation(stack, 'B', { cluster: cluster(stack, 'green'), namespace: 'ns', serviceAccount: 'b' });

    // THEN
    const associations = arn(`:eks:${REGION}:${ACCOUNT}:podidentityassociation/*/*`);
    const parameter = (path: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:${REGION}:${ACCOUNT}:parameter/cdk-eks-pod-identity/`, stackUuid, path]] });
    expect(handlerPolicies(stack)).toEqual({
      DefaultPolicy: [
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [logicalIdOf(stack, 'PodIdentityAssociationProvider/HandlerLogs/Resource'), 'Arn'] },
        },
        { Action: 'eks:DescribePodIdentityAssociation', Effect: 'Allow', Resource: associations },
        { Action: 'eks:ListPodIdentityAssociations', Effect: 'Allow', Resource: arn(`:eks:${REGION}:${ACCOUNT}:cluster/*`) },
        {
          Action: ['eks:UpdatePodIdentityAssociation', 'eks:DeletePodIdentityAssociation', 'eks:TagResource', 'eks:UntagResource'],
          Condition: { StringLike: { 'aws:ResourceTag/cdk-eks-pod-identity:owner': ownedByThisStack } },
          Effect: 'Allow',
          Resource: associations,
        },
        {
          Action: 'iam:PassRole',
          Condition: { StringEquals: { 'iam:PassedToService': 'pods.eks.amazonaws.com' } },
          Effect: 'Allow',
          Resource: arn(`:iam::${ACCOUNT}:role/cdk-eks-pod-identity/Workloads/*`),
        },
        {
          Action: ['ssm:PutParameter', 'ssm:GetParametersByPath', 'ssm:DeleteParameters'],
          Effect: 'Allow',
          // this stack's transfer records, and the records of the agent add-ons it changed
          Resource: [parameter('/transfers'), parameter('/transfers/*'), parameter('/agents'), parameter('/agents/*')],
        },
        { Action: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource', 'cloudformation:ListStackResources'], Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
        {
          Action: ['eks:CreatePodIdentityAssociation', 'eks:TagResource'],
          Condition: { StringLike: { 'aws:RequestTag/cdk-eks-pod-identity:owner': ownedByThisStack } },
          Effect: 'Allow',
          Resource: ['blue', 'green'].map(name => arn(`:eks:${REGION}:${ACCOUNT}:cluster/${name}`)),
        },
        {
          Action: 'eks:TagResource',
          Condition: {
            StringLike: { 'aws:RequestTag/cdk-eks-pod-identity:owner': ownedByThisStack },
            Null: { 'aws:ResourceTag/cdk-eks-pod-identity:owner': 'true' },
          },
          Effect: 'Allow',
          Resource: ['blue', 'green'].map(name => arn(`:eks:${REGION}:${ACCOUNT}:podidentityassociation/${name}/*`)),
        },
      ],
    });
  });

  test('a policy per role given as `role`, and two for adopting associations (their previous roles; marking what another owner marked, on their clusters only), each a dependency of the associations that need it', () => {
    // GIVEN associations with created roles, one role given twice, one adopting
    const app = new App();
    const stack = newStack(app);
    const given = iam.Role.fromRoleArn(stack, 'Given', `arn:aws:iam::${ACCOUNT}:role/payments`);
    const a = new PodIdentityAssociation(stack, 'A', { cluster: cluster(stack, 'blue'), namespace: 'ns', serviceAccount: 'a' });
    const b = new PodIdentityAssociation(stack, 'B', { cluster: cluster(stack, 'blue'), namespace: 'ns', serviceAccount: 'b', role: given });
    const c = new PodIdentityAssociation(stack, 'C', { cluster: cluster(stack, 'green'), namespace: 'ns', serviceAccount: 'c', role: given, adoptExisting: true });

    // THEN
    const policies = handlerPolicies(stack);
    const passRole = (resource: unknown) => [{
      Action: 'iam:PassRole',
      Condition: { StringEquals: { 'iam:PassedToService': 'pods.eks.amazonaws.com' } },
      Effect: 'Allow',
      Resource: resource,
    }];
    const roleId = Object.keys(policies).find(id => id.startsWith('Role'))!;
    expect(Object.keys(policies).sort()).toEqual(['AdoptedAssociationRoles', 'AdoptedAssociations', 'DefaultPolicy', expect.stringMatching(/^Role[0-9A-F]{8}$/)]);
    expect(policies[roleId]).toEqual(passRole(`arn:aws:iam::${ACCOUNT}:role/payments`));
    expect(policies.AdoptedAssociationRoles).toEqual(passRole(arn(`:iam::${ACCOUNT}:role/*`)));
    expect(policies.AdoptedAssociations).toEqual([{
      Action: 'eks:TagResource',
      Condition: { StringLike: { 'aws:RequestTag/cdk-eks-pod-identity:owner': { 'Fn::Join': ['', [{ 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }, '/*']] } } },
      Effect: 'Allow',
      Resource: arn(`:eks:${REGION}:${ACCOUNT}:podidentityassociation/green/*`),
    }]);

    const provider = 'PodIdentityAssociationProvider';
    const resources = Template.fromStack(stack).toJSON().Resources;
    const dependsOn = (association: PodIdentityAssociation) => [...resources[logicalIdOf(stack, `${association.node.id}/Resource`)].DependsOn].sort();
    const transfers = logicalIdOf(stack, `${provider}/Transfers`);
    const rolePolicy = logicalIdOf(stack, `${provider}/${roleId}/Resource`);
    expect(dependsOn(a)).toEqual([transfers]);
    expect(dependsOn(b)).toEqual([rolePolicy, transfers].sort());
    expect(dependsOn(c)).toEqual([
      logicalIdOf(stack, `${provider}/AdoptedAssociationRoles/Resource`),
      logicalIdOf(stack, `${provider}/AdoptedAssociations/Resource`),
      rolePolicy,
      transfers,
    ].sort());
  });

  test('the transfers resource changes when an association is added, moved, or changes service account, and only then', () => {
    /** The transfers resource's properties in an app of these associations. */
    const transfersOf = (...associations: Array<[string, string, string, string]>) => {
      const app = new App();
      const stack = newStack(app);
      for (const [id, clusterName, namespace, serviceAccount] of associations) {
        new PodIdentityAssociation(stack, id, { cluster: cluster(stack, clusterName), namespace, serviceAccount, tags: { id } });
      }
      return Object.values(Template.fromStack(stack).findResources('Custom::EksPodIdentityTransfers'))[0].Properties;
    };
    const base = transfersOf(['A', 'blue', 'ns', 'a'], ['B', 'green', 'jobs', 'b']);

    expect(base).toEqual({ ServiceToken: expect.anything(), ServiceTimeout: '900', AssociationsDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // the same identities in another order, with other props: the same
    expect(transfersOf(['B', 'green', 'jobs', 'b'], ['A', 'blue', 'ns', 'a'])).toEqual(base);
    for (const changed of [
      transfersOf(['A', 'blue', 'ns', 'a']),
      transfersOf(['A', 'blue', 'ns', 'a'], ['B', 'green', 'jobs', 'b'], ['C', 'blue', 'ns', 'c']),
      transfersOf(['Moved', 'blue', 'ns', 'a'], ['B', 'green', 'jobs', 'b']),
      transfersOf(['A', 'blue', 'ns', 'a'], ['B', 'green', 'jobs', 'c']),
      transfersOf(['A', 'blue', 'other', 'a'], ['B', 'green', 'jobs', 'b']),
      transfersOf(['A', 'green', 'ns', 'a'], ['B', 'green', 'jobs', 'b']),
    ]) {
      expect(changed.AssociationsDigest).not.toEqual(base.AssociationsDigest);
    }
  });

  test('200 associations on 20 clusters stay within IAM\'s 10,240 characters of inline policies per role', () => {
    // GIVEN
    const app = new App();
    const stack = newStack(app);
    for (let i = 0; i < 200; i++) {
      new PodIdentityAssociation(stack, `A${i}`, { cluster: cluster(stack, `cluster-${i % 20}-of-the-fleet`), namespace: `team-${i}`, serviceAccount: 'app' });
    }
    // WHEN
    const policies = handlerPolicies(stack);
    // THEN the size as IAM counts it (JSON without whitespace), with each intrinsic as its longest value
    const longest = JSON.stringify(Object.values(policies).map(statements => ({ Version: '2012-10-17', Statement: statements })))
      .replace(/\{"Ref":"AWS::Partition"\}/g, '"aws-us-gov"')
      .replace(/\{"Fn::Select":\[2,\{"Fn::Split":\["\/",\{"Ref":"AWS::StackId"\}\]\}\]\}/g, `"${'u'.repeat(36)}"`)
      .replace(/\{"Fn::GetAtt":\[[^\]]+\]\}/g, `"${'a'.repeat(160)}"`)
      .replace(/\{"Ref":"AWS::StackId"\}/g, `"${'s'.repeat(229)}"`);
    expect(Object.keys(policies)).toEqual(['DefaultPolicy']);
    expect(longest.length).toBeLessThan(10_240);
  });

  test('a stack whose policies would not fit IAM\'s limit fails at synth, naming the cause and the fix', () => {
    const app = new App();
    const stack = newStack(app);
    for (let i = 0; i < 60; i++) {
      const role = iam.Role.fromRoleArn(stack, `Given${i}`, `arn:aws:iam::${ACCOUNT}:role/team-${i}-application-role-with-a-long-name`);
      new PodIdentityAssociation(stack, `A${i}`, { cluster: cluster(stack, `cluster-${i % 20}`), namespace: `team-${i}`, serviceAccount: 'app', role });
    }
    expect(() => app.synth()).toThrow(/The policies of the Pod Identity association handler's role would hold about \d+ characters, over IAM's limit of 10240 per role: this stack's associations use 20 clusters \(about 160 characters each\) and 60 roles given as `role` \(a policy of about 230 characters each\)\. Let the associations create their roles/);
  });

  test('the provider framework may write its logs and invoke the handler, nothing else', () => {
    const app = new App();
    const stack = newStack(app);
    new PodIdentityAssociation(stack, 'A', { cluster: cluster(stack), namespace: 'ns', serviceAccount: 'a' });

    const handler = { 'Fn::GetAtt': [logicalIdOf(stack, 'PodIdentityAssociationProvider/Handler/Resource'), 'Arn'] };
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdOf(stack, 'PodIdentityAssociationProvider/FrameworkRole/Resource') }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logicalIdOf(stack, 'PodIdentityAssociationProvider/FrameworkLogs/Resource'), 'Arn'] },
          },
          { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [handler, { 'Fn::Join': ['', [handler, ':*']] }] },
          { Action: 'lambda:GetFunction', Effect: 'Allow', Resource: handler },
        ],
        Version: '2012-10-17',
      },
    });
  });

  test('the provider\'s roles have no managed policies, and created association roles no permissions until granted', () => {
    const app = new App();
    const stack = newStack(app);
    new PodIdentityAssociation(stack, 'A', { cluster: cluster(stack), namespace: 'ns', serviceAccount: 'a' });

    const template = Template.fromStack(stack);
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
    }
    const associationRole = { Ref: logicalIdOf(stack, 'A/Role/Resource') };
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies.filter(policy => JSON.stringify(policy.Properties.Roles).includes(JSON.stringify(associationRole)))).toEqual([]);
  });
});

describe('the provider\'s functions and logs', () => {
  test('both functions run the newest Node.js runtime and log to their own log groups, kept one year', () => {
    const app = new App();
    const stack = newStack(app);
    new PodIdentityAssociation(stack, 'A', { cluster: cluster(stack), namespace: 'ns', serviceAccount: 'a' });

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 300,
      LoggingConfig: { LogGroup: { Ref: logicalIdOf(stack, 'PodIdentityAssociationProvider/HandlerLogs/Resource') } },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'framework.onEvent',
      Runtime: 'nodejs24.x',
      LoggingConfig: Match.objectLike({ LogGroup: { Ref: logicalIdOf(stack, 'PodIdentityAssociationProvider/FrameworkLogs/Resource') } }),
    });
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('getOrCreate() sets the retention and an encryption key before the first association', () => {
    const app = new App();
    const stack = newStack(app);
    const key = new kms.Key(stack, 'LogKey');
    PodIdentityAssociationProvider.getOrCreate(stack, { logRetention: logs.RetentionDays.THREE_MONTHS, logEncryptionKey: key });
    new PodIdentityAssociation(stack, 'A', { cluster: cluster(stack), namespace: 'ns', serviceAccount: 'a' });

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90, KmsKeyId: { 'Fn::GetAtt': [logicalIdOf(stack, 'LogKey/Resource'), 'Arn'] } });
  });

  test('getOrCreate() with options after the provider exists is an error', () => {
    const app = new App();
    const stack = newStack(app);
    new PodIdentityAssociation(stack, 'A', { cluster: cluster(stack), namespace: 'ns', serviceAccount: 'a' });

    expect(() => PodIdentityAssociationProvider.getOrCreate(stack, { logRetention: logs.RetentionDays.ONE_WEEK })).toThrow(
      'The Pod Identity association provider of stack Workloads already exists, so its options can no longer be set; got: {"logRetention":7}. ' +
      'Call PodIdentityAssociationProvider.getOrCreate(stack, options) before the stack\'s first PodIdentityAssociation, and only once.',
    );
    expect(PodIdentityAssociationProvider.getOrCreate(stack)).toBe(stack.node.findChild('PodIdentityAssociationProvider'));
  });
});
