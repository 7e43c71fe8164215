import { App, Aws, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { ACCOUNT, AGENT_TYPE, PROVIDER, REGION, importedCluster, logicalIdOf, newStack, onlyOfType, resourcesOfType } from './support';
import { PodIdentityAgent, PodIdentityAssociation } from '../../src';

describe('the agent resource', () => {
  test('writes the cluster, and nothing optional', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new PodIdentityAgent(stack, 'Agent', { cluster: importedCluster(stack) });
    // THEN
    expect(onlyOfType(stack, AGENT_TYPE).Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^PodIdentityAssociationProviderframeworkonEvent/), 'Arn'] },
      ServiceTimeout: '900',
      ClusterName: 'prod',
    });
  });

  test('writes the version, the configuration as JSON and installOnAutoMode', () => {
    const stack = newStack();
    new PodIdentityAgent(stack, 'Agent', {
      cluster: importedCluster(stack),
      addonVersion: 'v1.3.4-eksbuild.1',
      configurationValues: { daemonsets: { hybrid: { create: true } } },
      installOnAutoMode: true,
    });

    expect(onlyOfType(stack, AGENT_TYPE).Properties).toMatchObject({
      ClusterName: 'prod',
      AddonVersion: 'v1.3.4-eksbuild.1',
      ConfigurationValues: '{"daemonsets":{"hybrid":{"create":true}}}',
      InstallOnAutoMode: true,
    });
  });

  test('installOnAutoMode: false writes nothing', () => {
    const stack = newStack();
    new PodIdentityAgent(stack, 'Agent', { cluster: importedCluster(stack), installOnAutoMode: false });
    expect(onlyOfType(stack, AGENT_TYPE).Properties.InstallOnAutoMode).toBeUndefined();
  });

  test('configuration values with a token are written as CloudFormation resolves them', () => {
    const stack = newStack();
    new PodIdentityAgent(stack, 'Agent', { cluster: importedCluster(stack), configurationValues: { region: stack.region, stack: Aws.STACK_NAME } });

    expect(onlyOfType(stack, AGENT_TYPE).Properties.ConfigurationValues).toEqual({
      'Fn::Join': ['', ['{"region":"us-east-1","stack":"', { Ref: 'AWS::StackName' }, '"}']],
    });
  });

  test('the cluster of an aws-eks-v2 Cluster in the stack is a reference to it', () => {
    const stack = newStack();
    const cluster = new eksv2.Cluster(stack, 'Cluster', { version: eksv2.KubernetesVersion.V1_34 });
    new PodIdentityAgent(stack, 'Agent', { cluster });
    expect(onlyOfType(stack, AGENT_TYPE).Properties.ClusterName).toEqual({ Ref: logicalIdOf(cluster) });
  });

  test('its attributes are the custom resource\'s', () => {
    const stack = newStack();
    const agent = new PodIdentityAgent(stack, 'Agent', { cluster: importedCluster(stack) });
    const logicalId = logicalIdOf(agent);
    Template.fromStack(stack);

    expect(stack.resolve(agent.source)).toEqual({ 'Fn::GetAtt': [logicalId, 'Source'] });
    expect(stack.resolve(agent.addonArn)).toEqual({ 'Fn::GetAtt': [logicalId, 'AddonArn'] });
    expect(stack.resolve(agent.addonVersion)).toEqual({ 'Fn::GetAtt': [logicalId, 'AddonVersion'] });
    expect(agent.clusterName).toBe('prod');
    expect(Token.isUnresolved(agent.source)).toBe(true);
  });

  test('uses the stack\'s provider, and creates it if there is none', () => {
    const stack = newStack();
    new PodIdentityAgent(stack, 'Agent', { cluster: importedCluster(stack) });
    expect(stack.node.tryFindChild(PROVIDER)).toBeDefined();
    Template.fromStack(stack).resourceCountIs('Custom::EksPodIdentityTransfers', 1);
  });
});

describe('one agent per cluster in a stack', () => {
  test('PodIdentityAgent.ensure() creates the stack\'s agent once, as a child of the stack, and returns it after', () => {
    // GIVEN
    const stack = newStack();
    const cluster = importedCluster(stack);
    // WHEN
    const first = PodIdentityAgent.ensure(stack, cluster);
    const second = PodIdentityAgent.ensure(stack.node.findChild('Cluster-prod'), cluster);
    // THEN
    expect(second).toBe(first);
    expect(first.node.scope).toBe(stack);
    expect(first.node.id).toMatch(/^PodIdentityAgent[0-9A-F]{8}$/);
    expect(Object.keys(resourcesOfType(stack, AGENT_TYPE))).toHaveLength(1);
  });

  test('PodIdentityAgent.ensure() finds an agent created with new, and of() returns it', () => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    const agent = new PodIdentityAgent(stack, 'Agent', { cluster, addonVersion: 'v1.3.4-eksbuild.1' });

    expect(PodIdentityAgent.ensure(stack, cluster)).toBe(agent);
    expect(PodIdentityAgent.ensure(stack, cluster, { addonVersion: 'v1.3.4-eksbuild.1' })).toBe(agent);
    expect(PodIdentityAgent.of(stack, cluster)).toBe(agent);
    // another object for the same cluster name
    expect(PodIdentityAgent.of(stack, eksv2.Cluster.fromClusterAttributes(stack, 'Again', { clusterName: 'prod' }))).toBe(agent);
    expect(PodIdentityAgent.of(stack, importedCluster(stack, 'other'))).toBeUndefined();
  });

  test('a cluster of another name, or the same cluster in another stack, has its own agent', () => {
    const app = new App();
    const a = newStack(app, 'A');
    const b = newStack(app, 'B');
    const inA = PodIdentityAgent.ensure(a, importedCluster(a));
    const other = PodIdentityAgent.ensure(a, importedCluster(a, 'other'));
    const inB = PodIdentityAgent.ensure(b, importedCluster(b));

    expect(new Set([inA, other, inB]).size).toBe(3);
    expect(Object.keys(resourcesOfType(a, AGENT_TYPE))).toHaveLength(2);
    expect(Object.keys(resourcesOfType(b, AGENT_TYPE))).toHaveLength(1);
  });

  test('a second PodIdentityAgent of a cluster in a stack is an error that names both', () => {
    const stack = newStack();
    new PodIdentityAgent(stack, 'First', { cluster: importedCluster(stack) });

    expect(() => new PodIdentityAgent(stack, 'Second', { cluster: eksv2.Cluster.fromClusterAttributes(stack, 'Again', { clusterName: 'prod' }) })).toThrow(
      '[Workloads/Second] Stack Workloads already has a PodIdentityAgent for cluster "prod", at Workloads/First: a stack ensures the agent of a cluster once. ' +
      'Use that one (`PodIdentityAgent.of(stack, cluster)` returns it), or remove this one.',
    );
  });

  test('an agent after an association with ensureAgent is an error that says what to do', () => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: true });

    expect(() => new PodIdentityAgent(stack, 'Agent', { cluster, addonVersion: 'v1.3.4-eksbuild.1' }))
      .toThrow(/^\[Workloads\/Agent\] Stack Workloads already has a PodIdentityAgent for cluster "prod", at Workloads\/PodIdentityAgent[0-9A-F]{8}: .* create the PodIdentityAgent with your options before such associations, or pass them to `PodIdentityAgent.ensure\(scope, cluster, options\)` there\.$/);
  });

  test('ensure() with other options than the existing agent\'s is an error that names it and both options', () => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    PodIdentityAgent.ensure(stack, cluster, { addonVersion: 'v1.3.4-eksbuild.1' });

    expect(() => PodIdentityAgent.ensure(stack, cluster, { addonVersion: 'v1.3.5-eksbuild.1', installOnAutoMode: true })).toThrow(
      /^\[Workloads\] The Pod Identity agent of cluster "prod" in stack Workloads already exists, at Workloads\/PodIdentityAgent[0-9A-F]{8}, with other options; got: \{"addonVersion":"v1\.3\.5-eksbuild\.1","installOnAutoMode":true\}, it has: \{"addonVersion":"v1\.3\.4-eksbuild\.1"\}\./,
    );
  });

  test('the clusters of a CfnCluster and of a Cluster in the stack are told apart by the resource they reference', () => {
    const stack = newStack();
    const blue = new eksv2.Cluster(stack, 'Blue', { version: eksv2.KubernetesVersion.V1_34 });
    const green = new eksv2.Cluster(stack, 'Green', { version: eksv2.KubernetesVersion.V1_34 });
    const blueAgent = PodIdentityAgent.ensure(stack, blue);

    expect(PodIdentityAgent.ensure(stack, green)).not.toBe(blueAgent);
    expect(PodIdentityAgent.ensure(stack, eksv2.Cluster.fromClusterAttributes(stack, 'BlueByRef', { clusterName: blue.clusterName }))).toBe(blueAgent);
  });
});

describe('ensureAgent on an association', () => {
  test('creates the stack\'s agent of the cluster once, for every association that sets it', () => {
    // GIVEN
    const stack = newStack();
    const cluster = importedCluster(stack);
    // WHEN
    new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: true });
    new PodIdentityAssociation(stack, 'Worker', { cluster, namespace: 'payments', serviceAccount: 'worker', ensureAgent: true });
    // THEN
    const agent = PodIdentityAgent.of(stack, cluster);
    expect(agent).toBeDefined();
    expect(Object.keys(resourcesOfType(stack, AGENT_TYPE))).toEqual([logicalIdOf(agent!)]);
  });

  test('uses the agent the stack already has, with its options', () => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    const agent = new PodIdentityAgent(stack, 'Agent', { cluster, installOnAutoMode: true });
    new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: true });

    expect(PodIdentityAgent.of(stack, cluster)).toBe(agent);
    expect(onlyOfType(stack, AGENT_TYPE).Properties.InstallOnAutoMode).toBe(true);
  });

  test('without it, and without a PodIdentityAgent, the stack has no agent resource', () => {
    const stack = newStack();
    new PodIdentityAssociation(stack, 'Api', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api' });
    Template.fromStack(stack).resourceCountIs(AGENT_TYPE, 0);
  });
});

describe('checked at synth time', () => {
  test.each([
    ['', '""'],
    ['1.3.4', '"1.3.4"'],
    ['v1.3.4-eksbuild', '"v1.3.4-eksbuild"'],
    [' v1.3.4-eksbuild.1', '" v1.3.4-eksbuild.1"'],
  ])('addonVersion %j is an error that names the agent and the value', (addonVersion, shown) => {
    const stack = newStack();
    expect(() => new PodIdentityAgent(stack, 'Agent', { cluster: importedCluster(stack), addonVersion })).toThrow(
      `[Workloads/Agent] \`addonVersion\` must be an EKS add-on version such as v1.3.4-eksbuild.1, got: ${shown}. ` +
      '`aws eks describe-addon-versions --addon-name eks-pod-identity-agent` lists them;',
    );
  });

  test.each(['v1.3.4-eksbuild.1', 'v1.0.0'])('addonVersion %s is accepted', addonVersion => {
    const stack = newStack();
    expect(() => new PodIdentityAgent(stack, 'Agent', { cluster: importedCluster(stack), addonVersion })).not.toThrow();
  });

  test('a version that is a token is not checked', () => {
    const stack = newStack();
    expect(() => new PodIdentityAgent(stack, 'Agent', { cluster: importedCluster(stack), addonVersion: Token.asString({ Ref: 'Version' }) })).not.toThrow();
  });

  test('configuration values that do not serialize are an error that names the agent, the value and the cause', () => {
    const stack = newStack();
    const circular: Record<string, unknown> = { daemonsets: {} };
    (circular.daemonsets as Record<string, unknown>).self = circular;

    expect(() => new PodIdentityAgent(stack, 'Circular', { cluster: importedCluster(stack), configurationValues: circular }))
      .toThrow(/^\[Workloads\/Circular\] `configurationValues` must be a JSON object \(it becomes the add-on's ConfigurationValues\), got: \[object Object\], which cannot be serialized: Converting circular structure to JSON/);
    expect(() => new PodIdentityAgent(stack, 'Big', { cluster: importedCluster(stack), configurationValues: { replicas: BigInt(2) } }))
      .toThrow(/^\[Workloads\/Big\] `configurationValues` must be a JSON object .*, got: \[object Object\], which cannot be serialized: Do not know how to serialize a BigInt/);
    expect(() => new PodIdentityAgent(stack, 'List', { cluster: importedCluster(stack), configurationValues: ['hybrid'] as unknown as Record<string, unknown> }))
      .toThrow('[Workloads/List] `configurationValues` must be a JSON object (it becomes the add-on\'s ConfigurationValues), got: ["hybrid"], which cannot be serialized: a list, not a JSON object.');
  });

  test('a cluster in another account or region than the stack is an error', () => {
    const app = new App();
    const stack = newStack(app);
    const elsewhere = new Stack(app, 'Elsewhere', { env: { account: '444455556666', region: REGION } });
    const west = new Stack(app, 'West', { env: { account: ACCOUNT, region: 'us-west-2' } });

    expect(() => new PodIdentityAgent(stack, 'Account', { cluster: importedCluster(elsewhere) })).toThrow(
      '[Workloads/Account] `cluster` must be in the same account as the stack that holds the agent, got: account 444455556666, expected 111122223333. ',
    );
    expect(() => new PodIdentityAgent(stack, 'Region', { cluster: importedCluster(west) })).toThrow(
      '[Workloads/Region] `cluster` must be in the same region as the stack that holds the agent, got: region us-west-2, expected us-east-1. ',
    );
  });
});
