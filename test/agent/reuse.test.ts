import { App, CfnOutput, CfnResource, Stack, Stage } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import {
  AGENT_TYPE,
  PROVIDER,
  TRANSFERS_TYPE,
  agentAddons,
  dependsOn,
  eksCluster,
  eksv2Cluster,
  handlerPolicies,
  importedCluster,
  logicalIdAt,
  logicalIdOf,
  newStack,
  onlyOfType,
  resourcesOfType,
} from './support';
import { PodIdentityAgent, PodIdentityAssociation } from '../../src';

/** The AWS::EKS::Addon resource of an add-on construct (a CfnAddon, or an L2 Addon's child). */
function addonResource(addon: IConstruct): CfnResource {
  return (CfnResource.isCfnResource(addon) ? addon : addon.node.defaultChild) as CfnResource;
}

/** What reusing an add-on of the app leaves in the agent's stack: no agent resource, no agent policy; the associations depend on the add-on. */
function expectReused(stack: Stack, agent: PodIdentityAgent, addon: IConstruct, associations: PodIdentityAssociation[]): void {
  const template = Template.fromStack(stack);
  template.resourceCountIs(AGENT_TYPE, 0);
  expect(Object.keys(handlerPolicies(stack)).filter(id => id.startsWith('Agent'))).toEqual([]);
  expect(agent.node.tryFindChild('Resource')).toBeUndefined();
  const addonId = logicalIdOf(addonResource(addon));
  for (const association of associations) {
    expect(dependsOn(stack, logicalIdOf(association))).toContain(addonId);
  }
  // the transfers resource does not wait for, nor digest, an agent it does not serve
  expect(dependsOn(stack, logicalIdAt(stack, `${PROVIDER}/Transfers`))).toEqual([]);
  expect(stack.resolve(agent.source)).toBe('existing');
  expect(stack.resolve(agent.addonArn)).toEqual({ 'Fn::GetAtt': [addonId, 'Arn'] });
}

type Order = 'agent first' | 'add-on first';
const ORDERS: Order[] = ['agent first', 'add-on first'];

/** Builds `addon` and `agent` (with an association that ensures it) in the given order. */
function inOrder(
  order: Order,
  addon: () => IConstruct,
  agent: () => PodIdentityAssociation,
): { addon: IConstruct; association: PodIdentityAssociation } {
  if (order === 'agent first') {
    const association = agent();
    return { association, addon: addon() };
  }
  const built = addon();
  return { addon: built, association: agent() };
}

describe('an eks-pod-identity-agent add-on that the app declares is used, and the library creates nothing', () => {
  test.each(ORDERS)('a CfnAddon on the same cluster name (%s)', order => {
    // GIVEN
    const stack = newStack();
    const cluster = importedCluster(stack);
    // WHEN
    const { addon, association } = inOrder(order,
      () => new eks.CfnAddon(stack, 'AgentAddon', { clusterName: 'prod', addonName: 'eks-pod-identity-agent' }),
      () => new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: true }));
    // THEN
    expectReused(stack, PodIdentityAgent.of(stack, cluster)!, addon, [association]);
    expect(agentAddons(stack.node.root as App)).toHaveLength(1);
  });

  test.each(ORDERS)('aws-eks Addon on an imported aws-eks cluster (%s)', order => {
    const stack = newStack();
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' });
    const { addon, association } = inOrder(order,
      () => new eks.Addon(stack, 'AgentAddon', { cluster, addonName: 'eks-pod-identity-agent' }),
      () => new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: true }));

    expectReused(stack, PodIdentityAgent.of(stack, cluster)!, addon, [association]);
    expect(agentAddons(stack.node.root as App)).toHaveLength(1);
  });

  test.each(ORDERS)('aws-eks-v2 Addon on an imported aws-eks-v2 cluster (%s)', order => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    const { addon, association } = inOrder(order,
      () => new eksv2.Addon(stack, 'AgentAddon', { cluster, addonName: 'eks-pod-identity-agent', addonVersion: 'v1.3.4-eksbuild.1' }),
      () => new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: true }));

    expectReused(stack, PodIdentityAgent.of(stack, cluster)!, addon, [association]);
    // the version the add-on declares
    expect(stack.resolve(PodIdentityAgent.of(stack, cluster)!.addonVersion)).toBe('v1.3.4-eksbuild.1');
    expect(agentAddons(stack.node.root as App)).toHaveLength(1);
  });

  test.each(ORDERS)('cluster.eksPodIdentityAgent of an aws-eks Cluster (%s)', order => {
    const stack = newStack();
    const cluster = eksCluster(stack);
    const { addon, association } = inOrder(order,
      () => cluster.eksPodIdentityAgent!,
      () => new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: true }));

    expectReused(stack, PodIdentityAgent.of(stack, cluster)!, addon, [association]);
    expect(agentAddons(stack.node.root as App)).toHaveLength(1);
    // the add-on is a reference to the cluster, as the association is
    expect(onlyOfType(stack, 'AWS::EKS::Addon').Properties.ClusterName).toEqual(onlyOfType(stack, 'Custom::EksPodIdentityAssociation').Properties.ClusterName);
  });

  test.each(ORDERS)('cluster.eksPodIdentityAgent of an aws-eks-v2 Cluster (%s)', order => {
    const stack = newStack();
    const cluster = eksv2Cluster(stack);
    const { addon, association } = inOrder(order,
      () => cluster.eksPodIdentityAgent!,
      () => new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: true }));

    expectReused(stack, PodIdentityAgent.of(stack, cluster)!, addon, [association]);
    expect(agentAddons(stack.node.root as App)).toHaveLength(1);
  });

  test('a CfnAddon given the cluster\'s name of a CfnCluster', () => {
    const stack = newStack();
    const cluster = new eks.CfnCluster(stack, 'Cluster', { roleArn: 'arn:aws:iam::111122223333:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] } });
    const agent = PodIdentityAgent.ensure(stack, cluster);
    const addon = new eks.CfnAddon(stack, 'AgentAddon', { clusterName: cluster.ref, addonName: 'eks-pod-identity-agent' });
    const association = new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api' });

    expectReused(stack, agent, addon, [association]);
  });

  test('every association of the stack on the cluster depends on the add-on, whether or not it sets ensureAgent; those on other clusters do not', () => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    const addon = new eksv2.Addon(stack, 'AgentAddon', { cluster, addonName: 'eks-pod-identity-agent' });
    PodIdentityAgent.ensure(stack, cluster);
    const plain = new PodIdentityAssociation(stack, 'Plain', { cluster, namespace: 'payments', serviceAccount: 'plain' });
    const other = new PodIdentityAssociation(stack, 'Other', { cluster: importedCluster(stack, 'other'), namespace: 'payments', serviceAccount: 'other' });

    expect(dependsOn(stack, logicalIdOf(plain))).toContain(logicalIdOf(addonResource(addon)));
    expect(dependsOn(stack, logicalIdOf(other))).not.toContain(logicalIdOf(addonResource(addon)));
  });

  test('the digest of the transfers resource is the same as without the agent', () => {
    const digest = (withAgent: boolean) => {
      const stack = newStack();
      const cluster = importedCluster(stack);
      new eksv2.Addon(stack, 'AgentAddon', { cluster, addonName: 'eks-pod-identity-agent' });
      new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: withAgent });
      return onlyOfType(stack, TRANSFERS_TYPE).Properties.AssociationsDigest;
    };
    expect(digest(true)).toEqual(digest(false));
  });

  test('an add-on of another name, on another cluster, or in another account is not the agent\'s', () => {
    const app = new App();
    const stack = newStack(app);
    const cluster = importedCluster(stack);
    new eksv2.Addon(stack, 'Cni', { cluster, addonName: 'vpc-cni' });
    new eksv2.Addon(stack, 'OtherCluster', { cluster: importedCluster(stack, 'other'), addonName: 'eks-pod-identity-agent' });
    const elsewhere = newStack(app, 'Elsewhere', '444455556666');
    new eks.CfnAddon(elsewhere, 'SameName', { clusterName: 'prod', addonName: 'eks-pod-identity-agent' });
    const agent = PodIdentityAgent.ensure(stack, cluster);

    Template.fromStack(stack).resourceCountIs(AGENT_TYPE, 1);
    expect(agent.node.tryFindChild('Resource')).toBeDefined();
  });

  test('an add-on in a stack without a resolved environment is the agent\'s only in that stack', () => {
    const app = new App();
    const agnostic = new Stack(app, 'Agnostic');
    new eks.CfnAddon(agnostic, 'AgentAddon', { clusterName: 'prod', addonName: 'eks-pod-identity-agent' });
    const stack = newStack(app);
    PodIdentityAgent.ensure(stack, importedCluster(stack));

    Template.fromStack(stack).resourceCountIs(AGENT_TYPE, 1);
  });
});

describe('an add-on of another stack', () => {
  test('the cluster\'s stack declares it: the associations\' stack depends on that stack, and nothing is created', () => {
    // GIVEN the cluster and its agent add-on in one stack, associations in another of the same environment
    const app = new App();
    const clusters = newStack(app, 'Clusters');
    const cluster = new eksv2.Cluster(clusters, 'Cluster', { version: eksv2.KubernetesVersion.V1_34, vpc: new ec2.Vpc(clusters, 'Vpc') });
    cluster.eksPodIdentityAgent;
    const workloads = newStack(app, 'Workloads');
    // WHEN
    const association = new PodIdentityAssociation(workloads, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', ensureAgent: true });
    // THEN
    Template.fromStack(workloads).resourceCountIs(AGENT_TYPE, 0);
    expect(workloads.dependencies).toContain(clusters);
    expect(dependsOn(workloads, logicalIdOf(association))).toEqual([logicalIdAt(workloads, `${PROVIDER}/Transfers`)]);
    expect(agentAddons(app)).toEqual([expect.stringMatching(/^Clusters\//)]);
  });

  test('the agent\'s addonArn is the add-on\'s, imported from its stack', () => {
    const app = new App();
    const clusters = newStack(app, 'Clusters');
    const cluster = new eksv2.Cluster(clusters, 'Cluster', { version: eksv2.KubernetesVersion.V1_34, vpc: new ec2.Vpc(clusters, 'Vpc') });
    cluster.eksPodIdentityAgent;
    const workloads = newStack(app, 'Workloads');
    const agent = PodIdentityAgent.ensure(workloads, cluster);
    new CfnOutput(workloads, 'AgentArn', { value: agent.addonArn });

    expect(Template.fromStack(workloads).toJSON().Outputs.AgentArn.Value).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Clusters:ExportsOutputFnGetAttClusterEksPodIdentityAgentAddon/) });
  });

  test('two stacks with agents of one cluster: each leases the add-on at deploy time, neither declares one', () => {
    const app = new App();
    const a = newStack(app, 'A');
    const b = newStack(app, 'B');
    new PodIdentityAssociation(a, 'Api', { cluster: importedCluster(a), namespace: 'payments', serviceAccount: 'api', ensureAgent: true });
    new PodIdentityAssociation(b, 'Worker', { cluster: importedCluster(b), namespace: 'payments', serviceAccount: 'worker', ensureAgent: true });

    Template.fromStack(a).resourceCountIs(AGENT_TYPE, 1);
    Template.fromStack(b).resourceCountIs(AGENT_TYPE, 1);
    expect(agentAddons(app)).toEqual([]);
  });

  test('two stacks with agents of one cluster and an add-on in the app: both use it, and their associations wait for it', () => {
    const app = new App();
    const platform = newStack(app, 'Platform');
    const addon = new eks.CfnAddon(platform, 'AgentAddon', { clusterName: 'prod', addonName: 'eks-pod-identity-agent' });
    const a = newStack(app, 'A');
    const b = newStack(app, 'B');
    new PodIdentityAssociation(a, 'Api', { cluster: importedCluster(a), namespace: 'payments', serviceAccount: 'api', ensureAgent: true });
    new PodIdentityAssociation(b, 'Worker', { cluster: importedCluster(b), namespace: 'payments', serviceAccount: 'worker', ensureAgent: true });

    Template.fromStack(a).resourceCountIs(AGENT_TYPE, 0);
    Template.fromStack(b).resourceCountIs(AGENT_TYPE, 0);
    expect(a.dependencies.map(s => s.node.path)).toEqual(['Platform']);
    expect(b.dependencies.map(s => s.node.path)).toEqual(['Platform']);
    expect(platform.dependencies).toEqual([]);
    expect(agentAddons(app)).toEqual([`Platform/${logicalIdOf(addon)}`]);
  });

  test('an add-on whose stack depends on the associations\' stack: CDK\'s cyclic reference error at synth', () => {
    const app = new App();
    const workloads = newStack(app, 'Workloads');
    const later = newStack(app, 'Later');
    later.addDependency(workloads);
    new eks.CfnAddon(later, 'AgentAddon', { clusterName: 'prod', addonName: 'eks-pod-identity-agent' });
    new PodIdentityAssociation(workloads, 'Api', { cluster: importedCluster(workloads), namespace: 'payments', serviceAccount: 'api', ensureAgent: true });

    expect(() => app.synth()).toThrow(/cyclic reference/);
  });

  test('each Stage settles its own agents: an add-on of a nested Stage is the agents\' of that Stage only', () => {
    const app = new App();
    const stack = newStack(app);
    PodIdentityAgent.ensure(stack, importedCluster(stack));
    const stage = new Stage(app, 'Staging');
    const platform = newStack(stage as unknown as App, 'Platform');
    new eks.CfnAddon(platform, 'AgentAddon', { clusterName: 'prod', addonName: 'eks-pod-identity-agent' });
    const staged = newStack(stage as unknown as App, 'Workloads');
    PodIdentityAgent.ensure(staged, importedCluster(staged));

    Template.fromStack(stack).resourceCountIs(AGENT_TYPE, 1);
    Template.fromStack(staged).resourceCountIs(AGENT_TYPE, 0);
    Template.fromStack(platform).resourceCountIs('AWS::EKS::Addon', 1);
  });
});

describe('never two AWS::EKS::Addon resources for one cluster', () => {
  test('the library declares none itself, with any number of agents and associations', () => {
    const app = new App();
    for (const id of ['A', 'B']) {
      const stack = newStack(app, id);
      for (const name of ['blue', 'green']) {
        new PodIdentityAssociation(stack, `Api-${name}`, { cluster: importedCluster(stack, name), namespace: 'payments', serviceAccount: `api-${id.toLowerCase()}`, ensureAgent: true });
      }
    }
    const stacks = app.synth().stacks;
    expect(stacks.flatMap(s => Object.values(s.template.Resources).filter((r: any) => r.Type === 'AWS::EKS::Addon'))).toEqual([]);
  });

  test('two add-ons of the app for the agent of one cluster (aws/aws-cdk#32580): the agent uses the first, and warns, naming both', () => {
    const stack = newStack();
    const cluster = eksv2Cluster(stack);
    new eksv2.Addon(stack, 'AgentAddon', { cluster, addonName: 'eks-pod-identity-agent' });
    const first = cluster.eksPodIdentityAgent!;
    const agent = PodIdentityAgent.ensure(stack, cluster);
    const association = new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api' });

    expect(agentAddons(stack.node.root as App)).toHaveLength(2);
    Template.fromStack(stack).resourceCountIs(AGENT_TYPE, 0);
    expect(dependsOn(stack, logicalIdOf(association))).toContain(logicalIdOf(addonResource(first)));
    Annotations.fromStack(stack).hasWarning(`/${agent.node.path}`, Match.stringLikeRegexp(
      '^The app declares 2 AWS::EKS::Addon resources for eks-pod-identity-agent on cluster .*: Workloads/Cluster/EksPodIdentityAgentAddon/Resource, Workloads/AgentAddon/Resource\\. .*This agent uses Workloads/Cluster/EksPodIdentityAgentAddon/Resource\\. .*aws/aws-cdk#32580',
    ));
  });
});

describe('the compute the app declares for the cluster', () => {
  test('the agent waits for the cluster\'s node groups and Fargate profiles, and their digest is a property', () => {
    // GIVEN an Auto Mode cluster with a node group and a Fargate profile
    const stack = newStack();
    const cluster = eksv2Cluster(stack);
    const nodegroup = cluster.addNodegroupCapacity('Workers', { minSize: 1 });
    const profile = cluster.addFargateProfile('Batch', { selectors: [{ namespace: 'batch' }] });
    // WHEN
    const agent = PodIdentityAgent.ensure(stack, cluster);
    // THEN
    expect(dependsOn(stack, logicalIdOf(agent))).toEqual(expect.arrayContaining([logicalIdOf(nodegroup), logicalIdOf(profile)]));
    expect(onlyOfType(stack, AGENT_TYPE).Properties.ComputeDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  test('the digest changes when compute is added, and is absent without any', () => {
    const computeDigest = (nodegroups: string[]) => {
      const stack = newStack();
      const cluster = eksv2Cluster(stack);
      for (const id of nodegroups) {
        cluster.addNodegroupCapacity(id, { minSize: 1 });
      }
      PodIdentityAgent.ensure(stack, cluster);
      return onlyOfType(stack, AGENT_TYPE).Properties.ComputeDigest;
    };
    expect(computeDigest([])).toBeUndefined();
    expect(computeDigest(['Workers'])).toEqual(computeDigest(['Workers']));
    expect(computeDigest(['Workers', 'Gpu'])).not.toEqual(computeDigest(['Workers']));
  });

  test('node groups of another cluster are not waited for', () => {
    const stack = newStack();
    const cluster = eksv2Cluster(stack);
    const other = eksv2Cluster(stack, 'Other');
    other.addNodegroupCapacity('Workers', { minSize: 1 });
    const agent = PodIdentityAgent.ensure(stack, cluster);

    expect(JSON.stringify(dependsOn(stack, logicalIdOf(agent)))).not.toContain('Other');
    expect(Object.keys(resourcesOfType(stack, 'AWS::EKS::Nodegroup'))).toHaveLength(1);
    expect(onlyOfType(stack, AGENT_TYPE).Properties.ComputeDigest).toBeUndefined();
  });
});

describe('with aws-cdk-lib\'s stabilized aspects (@aws-cdk/core:aspectStabilization)', () => {
  test('the same decisions: an add-on of the app used, an agent resource where there is none, the associations waiting for each', () => {
    // GIVEN
    const app = new App({ context: { '@aws-cdk/core:aspectStabilization': true } });
    const stack = newStack(app);
    const blue = importedCluster(stack, 'blue');
    const addon = new eksv2.Addon(stack, 'AgentAddon', { cluster: blue, addonName: 'eks-pod-identity-agent' });
    // WHEN
    const onBlue = new PodIdentityAssociation(stack, 'Blue', { cluster: blue, namespace: 'payments', serviceAccount: 'api', ensureAgent: true });
    const onGreen = new PodIdentityAssociation(stack, 'Green', { cluster: importedCluster(stack, 'green'), namespace: 'payments', serviceAccount: 'api', ensureAgent: true });
    // THEN
    expect(dependsOn(stack, logicalIdOf(onBlue))).toContain(logicalIdOf(addonResource(addon)));
    const greenAgent = PodIdentityAgent.of(stack, importedCluster(stack, 'green'))!;
    expect(dependsOn(stack, logicalIdOf(onGreen))).toContain(logicalIdOf(greenAgent));
    expect(Object.keys(resourcesOfType(stack, AGENT_TYPE))).toEqual([logicalIdOf(greenAgent)]);
  });
});
