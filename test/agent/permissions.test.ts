import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  ACCOUNT,
  AGENT_TYPE,
  PROVIDER,
  REGION,
  STACK_UUID,
  TRANSFERS_TYPE,
  arn,
  dependsOn,
  handlerPolicies,
  importedCluster,
  logicalIdAt,
  logicalIdOf,
  newStack,
  onlyOfType,
} from './support';
import { PodIdentityAgent, PodIdentityAgentOptions, PodIdentityAssociation } from '../../src';

const cluster = (name: unknown) => arn(`:eks:${REGION}:${ACCOUNT}:cluster/`, name);
const agentAddons = (name: unknown) => arn(`:eks:${REGION}:${ACCOUNT}:addon/`, name, '/eks-pod-identity-agent/*');

/** The statements of the policy for the agent of a cluster whose name is a reference, as the template holds them. */
function agentStatements(name: unknown): unknown[] {
  const createdByThisStack = { 'aws:RequestTag/cdk-eks-pod-identity:created-by': { 'Fn::Join': ['', [STACK_UUID, '/*']] } };
  return [
    { Action: ['eks:DescribeCluster', 'eks:ListNodegroups', 'eks:ListFargateProfiles'], Effect: 'Allow', Resource: cluster(name) },
    { Action: ['eks:DescribeAddon', 'eks:UpdateAddon'], Effect: 'Allow', Resource: agentAddons(name) },
    { Action: 'eks:CreateAddon', Condition: { StringLike: createdByThisStack }, Effect: 'Allow', Resource: cluster(name) },
    {
      Action: 'eks:TagResource',
      Condition: { StringLike: createdByThisStack, Null: { 'aws:ResourceTag/cdk-eks-pod-identity:created-by': 'true' } },
      Effect: 'Allow',
      Resource: [cluster(name), agentAddons(name)],
    },
    {
      Action: ['eks:TagResource', 'eks:UntagResource'],
      Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': [{ 'Fn::Join': ['', ['cdk-eks-pod-identity:relied-on-by/', STACK_UUID, '/*']] }] } },
      Effect: 'Allow',
      Resource: agentAddons(name),
    },
    { Action: 'eks:DeleteAddon', Condition: { StringLike: { 'aws:ResourceTag/cdk-eks-pod-identity:created-by': '*/*' } }, Effect: 'Allow', Resource: agentAddons(name) },
    { Action: 'eks:DescribeAddonVersions', Effect: 'Allow', Resource: '*' },
  ];
}


describe('the handler\'s permissions for the agent', () => {
  test('a policy of its own per cluster: read the cluster and its compute, read and update the agent add-on, create it only with this stack\'s creator tag, lease it only with this stack\'s keys, delete only what the library created', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    PodIdentityAgent.ensure(stack, importedCluster(stack, 'blue'));
    // THEN
    const policies = handlerPolicies(stack);
    const [id] = Object.keys(policies).filter(name => name.startsWith('Agent'));
    expect(id).toMatch(/^Agent[0-9A-F]{8}$/);
    expect(Object.keys(policies).sort()).toEqual([id, 'DefaultPolicy']);
    const clusterArn = arn(`:eks:${REGION}:${ACCOUNT}:cluster/blue`);
    const addonArns = arn(`:eks:${REGION}:${ACCOUNT}:addon/blue/eks-pod-identity-agent/*`);
    const createdByThisStack = { 'aws:RequestTag/cdk-eks-pod-identity:created-by': { 'Fn::Join': ['', [STACK_UUID, '/*']] } };
    expect(policies[id]).toEqual([
      { Action: ['eks:DescribeCluster', 'eks:ListNodegroups', 'eks:ListFargateProfiles'], Effect: 'Allow', Resource: clusterArn },
      { Action: ['eks:DescribeAddon', 'eks:UpdateAddon'], Effect: 'Allow', Resource: addonArns },
      { Action: 'eks:CreateAddon', Condition: { StringLike: createdByThisStack }, Effect: 'Allow', Resource: clusterArn },
      {
        Action: 'eks:TagResource',
        Condition: { StringLike: createdByThisStack, Null: { 'aws:ResourceTag/cdk-eks-pod-identity:created-by': 'true' } },
        Effect: 'Allow',
        Resource: [clusterArn, addonArns],
      },
      {
        Action: ['eks:TagResource', 'eks:UntagResource'],
        Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': [{ 'Fn::Join': ['', ['cdk-eks-pod-identity:relied-on-by/', STACK_UUID, '/*']] }] } },
        Effect: 'Allow',
        Resource: addonArns,
      },
      { Action: 'eks:DeleteAddon', Condition: { StringLike: { 'aws:ResourceTag/cdk-eks-pod-identity:created-by': '*/*' } }, Effect: 'Allow', Resource: addonArns },
      { Action: 'eks:DescribeAddonVersions', Effect: 'Allow', Resource: '*' },
    ]);
  });

  test('a cluster of the stack, by reference: the same statements on its name', () => {
    const stack = newStack();
    const v2 = new eksv2.Cluster(stack, 'Cluster', { version: eksv2.KubernetesVersion.V1_34 });
    PodIdentityAgent.ensure(stack, v2);

    const policies = handlerPolicies(stack);
    const [id] = Object.keys(policies).filter(name => name.startsWith('Agent'));
    const name = { Ref: logicalIdOf(v2) };
    expect(policies[id]).toEqual(agentStatements(name));
  });

  test('one policy per cluster, each on its own cluster only; none for a stack without agents', () => {
    const app = new App();
    const stack = newStack(app);
    PodIdentityAgent.ensure(stack, importedCluster(stack, 'blue'));
    PodIdentityAgent.ensure(stack, importedCluster(stack, 'green'));
    const plain = newStack(app, 'Plain');
    new PodIdentityAssociation(plain, 'Api', { cluster: importedCluster(plain), namespace: 'payments', serviceAccount: 'api' });

    const policies = handlerPolicies(stack);
    const ids = Object.keys(policies).filter(name => name.startsWith('Agent'));
    expect(ids).toHaveLength(2);
    const clusters = ids.map(id => JSON.stringify(policies[id][0].Resource).match(/cluster\/(\w+)/)![1]).sort();
    expect(clusters).toEqual(['blue', 'green']);
    for (const id of ids) {
      const own = JSON.stringify(policies[id]).match(/cluster\/(\w+)/)![1];
      expect(JSON.stringify(policies[id])).not.toContain(own === 'blue' ? 'green' : 'blue');
    }
    expect(Object.keys(handlerPolicies(plain))).toEqual(['DefaultPolicy']);
  });

  test('the fixed SSM statement covers the agent records of this stack, next to its transfer records', () => {
    const stack = newStack();
    PodIdentityAgent.ensure(stack, importedCluster(stack));

    const ssm = handlerPolicies(stack).DefaultPolicy.find(statement => JSON.stringify(statement.Action).includes('ssm:'));
    const parameter = (suffix: string) => arn(`:ssm:${REGION}:${ACCOUNT}:parameter/cdk-eks-pod-identity/`, STACK_UUID, suffix);
    expect(ssm).toEqual({
      Action: ['ssm:PutParameter', 'ssm:GetParametersByPath', 'ssm:DeleteParameters'],
      Effect: 'Allow',
      Resource: [parameter('/transfers'), parameter('/transfers/*'), parameter('/agents'), parameter('/agents/*')],
    });
  });

  test('with iam.Role.customizeRoles(), the statements go to the pre-created handler role\'s report, and the template has no agent policy', () => {
    // GIVEN
    const app = new App();
    const stack = newStack(app);
    iam.Role.customizeRoles(stack, {
      usePrecreatedRoles: { [`Workloads/${PROVIDER}/HandlerRole`]: 'pod-identity-handler', [`Workloads/${PROVIDER}/FrameworkRole`]: 'pod-identity-framework' },
    });
    // WHEN
    const agent = PodIdentityAgent.ensure(stack, importedCluster(stack, 'blue'));
    const assembly = app.synth();
    // THEN
    const template = assembly.getStackByName('Workloads').template;
    const policies = Object.values(template.Resources).filter((r: any) => r.Type === 'AWS::IAM::Policy');
    expect(JSON.stringify(policies)).not.toContain('eks:CreateAddon');
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'iam-policy-report.json'), 'utf8'));
    const handler = report.roles.find((role: { roleConstructPath: string }) => role.roleConstructPath === `Workloads/${PROVIDER}/HandlerRole`);
    expect(handler.roleName).toBe('pod-identity-handler');
    const statements = JSON.stringify(handler.identityPolicyStatements);
    for (const action of ['eks:DescribeCluster', 'eks:CreateAddon', 'eks:DeleteAddon', 'eks:DescribeAddonVersions', 'eks:UntagResource']) {
      expect(statements).toContain(action);
    }
    expect(statements).toContain('addon/blue/eks-pod-identity-agent/*');
    // the agent still waits for the transfers resource
    expect(dependsOn(stack, logicalIdOf(agent))).toEqual([logicalIdAt(stack, `${PROVIDER}/Transfers`)]);
  });

  test('the policy of an agent cluster is counted in the handler role\'s size check, which names it', () => {
    const app = new App();
    const stack = newStack(app);
    for (let i = 0; i < 6; i++) {
      PodIdentityAgent.ensure(stack, importedCluster(stack, `cluster-${i}-of-the-fleet-with-a-long-name`));
    }
    expect(() => app.synth()).toThrow(/over IAM's limit of 10240 per role: .*, and it ensures the agent of 6 clusters \(a policy of about \d[\d,]* characters each\)\. .* \(the agent of a cluster in the stacks that use it\)\./);
  });
});

describe('dependencies', () => {
  test('the agent depends on its policy and on the transfers resource; the transfers resource on the policy; the stack\'s associations on the cluster on the agent', () => {
    // GIVEN associations on the agent's cluster, one created before it, and one on another cluster
    const stack = newStack();
    const prod = importedCluster(stack);
    const before = new PodIdentityAssociation(stack, 'Before', { cluster: prod, namespace: 'payments', serviceAccount: 'before' });
    const agent = new PodIdentityAgent(stack, 'Agent', { cluster: prod });
    const after = new PodIdentityAssociation(stack, 'After', { cluster: eksv2.Cluster.fromClusterAttributes(stack, 'Prod', { clusterName: 'prod' }), namespace: 'payments', serviceAccount: 'after' });
    const other = new PodIdentityAssociation(stack, 'Other', { cluster: importedCluster(stack, 'other'), namespace: 'payments', serviceAccount: 'other' });
    // THEN
    const policy = logicalIdAt(stack, `${PROVIDER}/${Object.keys(handlerPolicies(stack)).find(id => id.startsWith('Agent'))}/Resource`);
    const transfers = logicalIdAt(stack, `${PROVIDER}/Transfers`);
    expect(dependsOn(stack, logicalIdOf(agent))).toEqual([policy, transfers].sort());
    expect(dependsOn(stack, transfers)).toEqual([policy]);
    expect(dependsOn(stack, logicalIdOf(before))).toEqual([logicalIdOf(agent), transfers].sort());
    expect(dependsOn(stack, logicalIdOf(after))).toEqual([logicalIdOf(agent), transfers].sort());
    expect(dependsOn(stack, logicalIdOf(other))).toEqual([transfers]);
  });

  test('associations of another stack do not depend on this stack\'s agent', () => {
    const app = new App();
    const a = newStack(app, 'A');
    const b = newStack(app, 'B');
    PodIdentityAgent.ensure(a, importedCluster(a));
    const association = new PodIdentityAssociation(b, 'Api', { cluster: importedCluster(b), namespace: 'payments', serviceAccount: 'api' });

    expect(dependsOn(b, logicalIdOf(association))).toEqual([logicalIdAt(b, `${PROVIDER}/Transfers`)]);
    expect(a.dependencies).toEqual([]);
    expect(b.dependencies).toEqual([]);
  });

  test('node.addDependency(agent) waits for the agent resource', () => {
    const stack = newStack();
    const agent = PodIdentityAgent.ensure(stack, importedCluster(stack));
    const role = new iam.Role(stack, 'Waits', { assumedBy: new iam.AccountPrincipal(ACCOUNT) });
    role.node.addDependency(agent);
    expect(dependsOn(stack, logicalIdOf(role))).toEqual([logicalIdOf(agent)]);
  });
});

describe('the transfers resource follows the agents', () => {
  /** The transfers resource's digest in a stack with these associations and agents. */
  function digestOf(agents: Array<[string, string, PodIdentityAgentOptions?]>, associations: Array<[string, string]> = [['Api', 'prod']]): string {
    const app = new App();
    const stack = newStack(app);
    for (const [id, clusterName] of associations) {
      new PodIdentityAssociation(stack, id, { cluster: importedCluster(stack, clusterName), namespace: 'payments', serviceAccount: id.toLowerCase() });
    }
    for (const [id, clusterName, options] of agents) {
      new PodIdentityAgent(stack, id, { cluster: importedCluster(stack, clusterName), ...options });
    }
    return onlyOfType(stack, TRANSFERS_TYPE).Properties.AssociationsDigest;
  }

  test('the digest changes when an agent is added, removed, moved or changes cluster, version or configuration, and only then', () => {
    const base = digestOf([['Agent', 'prod', { addonVersion: 'v1.3.4-eksbuild.1' }]]);

    // the same agent, created in another order or with installOnAutoMode: the same
    expect(digestOf([['Agent', 'prod', { addonVersion: 'v1.3.4-eksbuild.1', installOnAutoMode: true }]])).toEqual(base);
    for (const changed of [
      digestOf([]),
      digestOf([['Agent', 'prod', { addonVersion: 'v1.3.4-eksbuild.1' }], ['Other', 'other']]),
      digestOf([['Moved', 'prod', { addonVersion: 'v1.3.4-eksbuild.1' }]]),
      digestOf([['Agent', 'other', { addonVersion: 'v1.3.4-eksbuild.1' }]]),
      digestOf([['Agent', 'prod', { addonVersion: 'v1.3.5-eksbuild.1' }]]),
      digestOf([['Agent', 'prod']]),
      digestOf([['Agent', 'prod', { addonVersion: 'v1.3.4-eksbuild.1', configurationValues: { daemonsets: { hybrid: { create: true } } } }]]),
    ]) {
      expect(changed).not.toEqual(base);
    }
  });

  test('without agents, the digest is what it was before agents existed (associations only)', () => {
    // The digest of one association Api on prod (namespace payments, service account api), as versions without agents computed it.
    const app = new App();
    const stack = newStack(app);
    const association = new PodIdentityAssociation(stack, 'Api', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api' });
    const expected = createHash('sha256').update(JSON.stringify([logicalIdOf(association), 'prod', 'payments', 'api'])).digest('hex');
    expect(onlyOfType(stack, TRANSFERS_TYPE).Properties.AssociationsDigest).toEqual(expected);
  });
});

test('the agent resource type is Custom::EksPodIdentityAgent, one per agent', () => {
  const stack = newStack();
  PodIdentityAgent.ensure(stack, importedCluster(stack));
  Template.fromStack(stack).resourceCountIs(AGENT_TYPE, 1);
});
