import { createHash } from 'crypto';
import { Annotations, AspectPriority, Aspects, CfnResource, Lazy, Resource, Stack, Stage, Token } from 'aws-cdk-lib';
import { IClusterRef } from 'aws-cdk-lib/aws-eks';
import { Construct, Dependable, IConstruct } from 'constructs';
import { isAddonResource } from './private/addon-attachment';
import { clusterKeyOf, clusterNameDigest, describeClusterName } from './private/cluster-key';
import {
  AGENT_ADDON_NAME,
  AGENT_ATTRIBUTE,
  AGENT_RESOURCE_TYPE,
  AGENT_SOURCE,
  AgentResourceProperties,
  SERVICE_TIMEOUT_SECONDS,
} from './private/contract';
import { errorAt } from './private/errors';
import { PodIdentityAssociationProvider } from './provider';

/**
 * Options of the Pod Identity agent of a cluster, for `PodIdentityAgent.ensure()`.
 */
export interface PodIdentityAgentOptions {
  /**
   * The version of the `eks-pod-identity-agent` add-on, as `aws eks describe-addon-versions
   * --addon-name eks-pod-identity-agent` lists them (`v1.3.4-eksbuild.1`). An add-on that already
   * exists is brought to this version; the version it had is recorded, and given back if the
   * deployment fails.
   *
   * @default - an existing add-on keeps its own version; a new one gets EKS's default version for
   * the cluster's Kubernetes version.
   */
  readonly addonVersion?: string;

  /**
   * The add-on's configuration values, serialized as JSON into its `ConfigurationValues` (as
   * aws-cdk-lib's `Addon` does). For hybrid nodes, `{ daemonsets: { hybrid: { create: true } } }`
   * runs the agent's hybrid DaemonSet (add-on `v1.3.3-eksbuild.1` or later). An add-on that already
   * exists gets these values; what it had is recorded, and given back if the deployment fails.
   *
   * @default - an existing add-on keeps its own configuration; a new one gets none (EKS's defaults).
   */
  readonly configurationValues?: { [key: string]: any };

  /**
   * Install the add-on on an EKS Auto Mode cluster that has no managed node group and no Fargate
   * profile. Auto Mode runs the agent on its own nodes; other compute needs the add-on, and the
   * handler sees node groups and Fargate profiles (through the EKS API) but not self-managed nodes
   * (EC2 instances or Auto Scaling groups that join the cluster themselves) nor hybrid nodes. Set it
   * for an Auto Mode cluster that has those.
   *
   * @default false - on an Auto Mode cluster with no node group and no Fargate profile, nothing is
   * installed; on any other cluster, the add-on is used or installed.
   */
  readonly installOnAutoMode?: boolean;
}

/**
 * Properties of a `PodIdentityAgent`.
 */
export interface PodIdentityAgentProps extends PodIdentityAgentOptions {
  /**
   * The EKS cluster: an `aws-eks` or `aws-eks-v2` `Cluster`, a `CfnCluster`, or an imported
   * cluster. It must be in the account and region of the stack that holds the agent.
   */
  readonly cluster: IClusterRef;
}

/**
 * Makes sure the EKS Pod Identity agent runs on a cluster, for the Pod Identity associations of
 * this stack: EKS Pod Identity serves credentials to pods only through it. One per cluster in a
 * stack; `PodIdentityAgent.ensure()` finds it or creates it, and `ensureAgent: true` on an
 * association does the same.
 *
 * At deploy time, through the stack's `PodIdentityAssociationProvider`, the handler looks at the
 * cluster: on an EKS Auto Mode cluster with no other compute, Auto Mode runs the agent and nothing
 * is installed; an existing `eks-pod-identity-agent` add-on is used as it is, and leased (a tag of
 * this stack on it); otherwise the add-on is created. An add-on the library created is deleted
 * only when no stack relies on it any more; an add-on it did not create never is.
 *
 * When the app itself declares the `eks-pod-identity-agent` add-on of the cluster (a `CfnAddon`,
 * aws-cdk-lib's `Addon`, or the one `cluster.eksPodIdentityAgent` creates), the agent uses it and
 * creates nothing: the stack's associations on the cluster depend on that add-on. Otherwise they
 * depend on this agent.
 *
 * @resource Custom::EksPodIdentityAgent
 *
 * @exampleMetadata fixture=agent
 * @example
 * declare const cluster: eks.ICluster;
 *
 * // The pods of the stack's associations on the cluster get credentials: the agent runs there.
 * PodIdentityAgent.ensure(this, cluster);
 */
export class PodIdentityAgent extends Resource {
  /**
   * The agent of `cluster` in the stack of `scope`, created with `options` (as a child of the
   * stack, with id `PodIdentityAgent<digest of the cluster name>`) if the stack has none yet.
   *
   * Passing `options` when the stack's agent of the cluster already exists with other options is an
   * error, naming it: the options of an agent are set where it is created.
   *
   * @exampleMetadata fixture=agent
   * @example
   * declare const cluster: eks.ICluster;
   *
   * PodIdentityAgent.ensure(this, cluster, { configurationValues: { daemonsets: { hybrid: { create: true } } } });
   */
  public static ensure(scope: IConstruct, cluster: IClusterRef, options?: PodIdentityAgentOptions): PodIdentityAgent {
    const stack = Stack.of(scope);
    const existing = PodIdentityAgent.of(stack, cluster);
    if (!existing) {
      const clusterName = cluster.clusterRef.clusterName;
      return new PodIdentityAgent(stack, `PodIdentityAgent${clusterNameDigest(stack, clusterName)}`, { cluster, ...options });
    }
    if (options && optionsKey(options) !== existing.optionsKey) {
      throw errorAt(scope,
        `The Pod Identity agent of cluster ${describeClusterName(existing, existing.clusterName)} in stack ${stack.node.path} already exists, at ${existing.node.path}, with other options; ` +
        `got: ${optionsKey(options)}, it has: ${existing.optionsKey}. ` +
        'A stack ensures the agent of a cluster once: pass the options where it is created (the first PodIdentityAgent.ensure() or new PodIdentityAgent() of this cluster in the stack, before any association with `ensureAgent: true`).',
      );
    }
    return existing;
  }

  /** The agent of `cluster` in the stack of `scope`, or undefined when the stack has none. */
  public static of(scope: IConstruct, cluster: IClusterRef): PodIdentityAgent | undefined {
    const stack = Stack.of(scope);
    return agentsByStack.get(stack)?.get(clusterKeyOf(stack, cluster.clusterRef.clusterName));
  }

  /** The name of the cluster. */
  public readonly clusterName: string;

  /**
   * How the agent runs on the cluster, once deployed: `auto-mode` (EKS Auto Mode runs it; nothing
   * installed), `created` (this stack installed the add-on) or `existing` (the add-on existed, and
   * this stack leases it). `existing` too when the agent uses an add-on this app declares.
   *
   * @attribute
   */
  public readonly source: string;

  /**
   * The ARN of the `eks-pod-identity-agent` add-on; an empty string when nothing is installed
   * (`auto-mode`). The add-on's `Arn` when the agent uses an add-on this app declares.
   *
   * @attribute
   */
  public readonly addonArn: string;

  /**
   * The version of the `eks-pod-identity-agent` add-on once deployed; an empty string when nothing
   * is installed (`auto-mode`). When the agent uses an add-on this app declares: the `addonVersion`
   * it declares, or an empty string when it declares none (CloudFormation does not return an
   * add-on's version).
   *
   * @attribute
   */
  public readonly addonVersion: string;

  /** The normalized options, to compare with those of a later `ensure()`. */
  private readonly optionsKey: string;
  private readonly resource: CfnResource;
  private readonly configurationJson?: string;
  private readonly requestedVersion?: string;
  /** The add-on of the app this agent uses instead of its own resource, once the app is complete. */
  private reusedAddon?: CfnResource;
  private computeDigest?: string;
  private settled = false;

  constructor(scope: Construct, id: string, props: PodIdentityAgentProps) {
    super(scope, id);

    const stack = Stack.of(this);
    const cluster = props.cluster;
    this.clusterName = cluster.clusterRef.clusterName;
    checkClusterEnvironment(this, cluster, stack);
    validateAddonVersion(this, props.addonVersion);
    this.requestedVersion = props.addonVersion;
    this.configurationJson = serializeConfiguration(this, props.configurationValues);
    this.optionsKey = optionsKey(props);
    register(this);

    const provider = PodIdentityAssociationProvider.getOrCreate(this);
    const properties: AgentResourceProperties = {
      ClusterName: this.clusterName,
      AddonVersion: props.addonVersion,
      ConfigurationValues: this.configurationJson,
      InstallOnAutoMode: props.installOnAutoMode || undefined,
      ComputeDigest: Lazy.string({ produce: () => this.computeDigest }),
    };
    this.resource = new CfnResource(this, 'Resource', {
      type: AGENT_RESOURCE_TYPE,
      properties: { ServiceToken: provider.serviceToken, ServiceTimeout: SERVICE_TIMEOUT_SECONDS, ...properties },
    });

    // Decided once the app is complete: this resource's attributes, or the app's add-on.
    const attribute = (name: string) => Token.asString(this.resource.getAtt(name));
    this.source = Lazy.string({ produce: () => this.reusedAddon ? AGENT_SOURCE.existing : attribute(AGENT_ATTRIBUTE.source) });
    this.addonArn = Lazy.string({ produce: () => this.reusedAddon ? Token.asString(this.reusedAddon.getAtt('Arn')) : attribute(AGENT_ATTRIBUTE.addonArn) });
    this.addonVersion = Lazy.string({
      produce: () => this.reusedAddon ? (this.reusedAddon as CfnAddonLike).addonVersion ?? '' : attribute(AGENT_ATTRIBUTE.addonVersion),
    });

    // What depends on the agent (node.addDependency(agent)) depends on the resource that runs it.
    const agent = this;
    Dependable.implement(this, {
      get dependencyRoots(): IConstruct[] {
        return agent.reusedAddon ? [agent.reusedAddon] : [agent];
      },
    });
  }

  /**
   * Once the app is complete: uses the `eks-pod-identity-agent` add-on the app declares for the
   * cluster, if any (its own resource leaves the tree), else binds its resource to the provider;
   * then makes the stack's associations on the cluster depend on it.
   */
  /** @internal */
  public _settle(addons: CfnResource[], compute: CfnResource[]): void {
    if (this.settled) {
      return;
    }
    this.settled = true;
    const stack = Stack.of(this);
    const provider = PodIdentityAssociationProvider.getOrCreate(this);
    if (addons.length > 0) {
      // The one in this stack if there is one: a resource dependency rather than a stack dependency.
      this.reusedAddon = addons.find(addon => Stack.of(addon) === stack) ?? addons[0];
      this.node.tryRemoveChild(this.resource.node.id);
      if (addons.length > 1) {
        Annotations.of(this).addWarningV2(TWO_AGENT_ADDONS_WARNING,
          `The app declares ${addons.length} AWS::EKS::Addon resources for ${AGENT_ADDON_NAME} on cluster ${describeClusterName(this, this.clusterName)}: ${addons.map(a => a.node.path).join(', ')}. ` +
          'EKS allows one add-on of a name per cluster, so CloudFormation will fail to create all but the first (ResourceInUseException, 409). ' +
          'This agent uses ' + this.reusedAddon.node.path + '. Keep one: reading `cluster.eksPodIdentityAgent` next to an Addon of your own for the agent declares it twice (aws/aws-cdk#32580).',
        );
      }
    } else {
      provider._bindAgent(this.resource, {
        clusterName: this.clusterName,
        addonVersion: this.requestedVersion,
        configurationValues: this.configurationJson,
      });
      // The handler decides whether Auto Mode alone runs the agent once the app's compute of the cluster exists.
      for (const resource of compute) {
        this.resource.node.addDependency(resource);
      }
      if (compute.length > 0) {
        const ids = compute.map(resource => `${resource.node.path} ${resource.cfnResourceType}`).sort();
        this.computeDigest = createHash('sha256').update(ids.join('\n')).digest('hex');
      }
    }
    for (const association of provider._associationsOn(this, this.clusterName)) {
      association.node.addDependency(this);
    }
  }
}

/** The id of the warning about two agent add-ons of one cluster in the app, to acknowledge it with `Annotations.acknowledgeWarning()`. */
const TWO_AGENT_ADDONS_WARNING = 'cdk-eks-pod-identity:twoAgentAddons';

/** The properties of aws-cdk-lib's `CfnAddon` (aws-eks and aws-eks-v2) that the agent reads. */
interface CfnAddonLike extends CfnResource {
  readonly addonName?: string;
  readonly clusterName?: string;
  readonly addonVersion?: string;
}

/** The agents of each stack, by the key of their cluster (`clusterKeyOf`). */
const agentsByStack = new WeakMap<Stack, Map<string, PodIdentityAgent>>();
/** The agents of each stage (an App, or a Stage in it), settled together once the stage is complete. */
const agentsByStage = new WeakMap<IConstruct, PodIdentityAgent[]>();

/** The EKS resources whose existence makes an Auto Mode cluster need the add-on, as the handler sees them. */
const COMPUTE_RESOURCE_TYPES = ['AWS::EKS::Nodegroup', 'AWS::EKS::FargateProfile'];

/**
 * Records `agent` as its stack's agent of its cluster (a second one is an error that names the
 * first), and in its stage, whose agents are settled once the stage is complete: by an aspect on
 * the stage, at priority MUTATING on the stage itself, so before any other aspect visits the
 * stacks (the provider's READONLY one included), and with the whole stage in view.
 */
function register(agent: PodIdentityAgent): void {
  const stack = Stack.of(agent);
  const key = clusterKeyOf(agent, agent.clusterName);
  const agents = agentsByStack.get(stack) ?? new Map<string, PodIdentityAgent>();
  agentsByStack.set(stack, agents);
  const existing = agents.get(key);
  if (existing) {
    throw errorAt(agent,
      `Stack ${stack.node.path} already has a PodIdentityAgent for cluster ${describeClusterName(agent, agent.clusterName)}, at ${existing.node.path}: a stack ensures the agent of a cluster once. ` +
      'Use that one (`PodIdentityAgent.of(stack, cluster)` returns it), or remove this one. An association with `ensureAgent: true` creates the stack\'s agent when there is none yet: ' +
      'create the PodIdentityAgent with your options before such associations, or pass them to `PodIdentityAgent.ensure(scope, cluster, options)` there.',
    );
  }
  agents.set(key, agent);

  const stage = Stage.of(agent) ?? agent.node.root;
  let staged = agentsByStage.get(stage);
  if (!staged) {
    staged = [];
    agentsByStage.set(stage, staged);
    Aspects.of(stage).add({ visit: node => node === stage && settleStage(stage) }, { priority: AspectPriority.MUTATING });
  }
  staged.push(agent);
}

/** Settles the agents of `stage` with the agent add-ons and the compute the stage declares. */
function settleStage(stage: IConstruct): void {
  const agents = agentsByStage.get(stage) ?? [];
  const ofStage = stage.node.findAll().filter(c => (Stage.of(c) ?? c.node.root) === stage);
  const addons = ofStage.filter(isAddonResource).filter(addon => resolvedIn(addon, (addon as CfnAddonLike).addonName) === AGENT_ADDON_NAME);
  const compute = ofStage.filter((c): c is CfnResource => CfnResource.isCfnResource(c) && COMPUTE_RESOURCE_TYPES.includes(c.cfnResourceType));
  const onCluster = (agent: PodIdentityAgent, resources: CfnResource[]) => {
    const key = clusterKeyOf(agent, agent.clusterName);
    return resources.filter(resource => {
      const clusterName = (resource as CfnAddonLike).clusterName;
      return typeof clusterName === 'string' && clusterKeyOf(resource, clusterName) === key;
    });
  };
  for (const agent of agents) {
    agent._settle(onCluster(agent, addons), onCluster(agent, compute));
  }
}

/** A property of `resource` as its template holds it. */
function resolvedIn(resource: IConstruct, value: unknown): unknown {
  return Token.isUnresolved(value) ? Stack.of(resource).resolve(value) : value;
}

/** Throws when the cluster is known to be in another account or region than the agent's stack. */
function checkClusterEnvironment(agent: PodIdentityAgent, cluster: IClusterRef, stack: Stack): void {
  for (const [what, clusterValue, stackValue] of [['account', cluster.env.account, stack.account], ['region', cluster.env.region, stack.region]]) {
    if (!Token.isUnresolved(clusterValue) && !Token.isUnresolved(stackValue) && clusterValue !== stackValue) {
      throw errorAt(agent,
        `\`cluster\` must be in the same ${what} as the stack that holds the agent, got: ${what} ${clusterValue}, expected ${stackValue}. ` +
        'The handler calls EKS in its own stack\'s account and region: define the agent in a stack of the cluster\'s account and region.',
      );
    }
  }
}

/** EKS add-on versions: `v<major>.<minor>.<patch>-eksbuild.<n>` (`aws eks describe-addon-versions`). */
const ADDON_VERSION = /^v\d+\.\d+\.\d+(-eksbuild\.\d+)?$/;

function validateAddonVersion(agent: PodIdentityAgent, version: string | undefined): void {
  if (version === undefined || Token.isUnresolved(version)) {
    return;
  }
  if (!ADDON_VERSION.test(version)) {
    throw errorAt(agent,
      `\`addonVersion\` must be an EKS add-on version such as v1.3.4-eksbuild.1, got: ${JSON.stringify(version)}. ` +
      `\`aws eks describe-addon-versions --addon-name ${AGENT_ADDON_NAME}\` lists them; leave it out to keep an existing add-on's version, or to let EKS pick its default for the cluster's Kubernetes version.`,
    );
  }
}

/** The configuration values as the JSON string of ConfigurationValues; undefined when absent. */
function serializeConfiguration(agent: PodIdentityAgent, values: { [key: string]: any } | undefined): string | undefined {
  if (values === undefined) {
    return undefined;
  }
  let json: string | undefined;
  let problem: string | undefined;
  try {
    json = JSON.stringify(values);
  } catch (e) {
    problem = (e as Error).message.split('\n')[0];
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values) || json === undefined) {
    problem = problem ?? `a ${Array.isArray(values) ? 'list' : typeof values}, not a JSON object`;
  }
  if (problem !== undefined) {
    throw errorAt(agent,
      `\`configurationValues\` must be a JSON object (it becomes the add-on's ConfigurationValues), got: ${describeValue(values)}, which cannot be serialized: ${problem}. ` +
      'Pass plain objects, lists, strings, numbers and booleans, for example { daemonsets: { hybrid: { create: true } } }.',
    );
  }
  // Tokens inside the values (a value known at deploy time) are written as CloudFormation resolves them.
  return Token.isUnresolved(json) ? Stack.of(agent).toJsonString(values) : json;
}

/** A value for an error message: its JSON when it has one, else what it is. */
function describeValue(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) {
      return json;
    }
  } catch {
    // circular, or a BigInt
  }
  return Object.prototype.toString.call(value);
}

/** The options of an agent as one comparable string. */
function optionsKey(options: PodIdentityAgentOptions): string {
  return JSON.stringify({
    addonVersion: options.addonVersion,
    configurationValues: options.configurationValues === undefined ? undefined : describeValue(options.configurationValues),
    installOnAutoMode: options.installOnAutoMode === true || undefined,
  });
}
