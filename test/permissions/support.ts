import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ControllerPermissions, PodIdentityAssociation, PodIdentityTargetRole } from '../../src';

/*
 * A permission set granted the three ways the library's grants land, and the policies it lands
 * in, resolved for a fixed account and region, replayed in the IAM policy evaluator
 * (@cloud-copilot/iam-simulate, as test/fixtures/iam-world.ts uses it).
 */

export const CLUSTER_ACCOUNT = '111122223333';
export const DATA_ACCOUNT = '444455556666';
export const REGION = 'us-east-1';
export const CLUSTER_NAME = 'prod';

/** How the pods get the permissions. */
export type Mode = 'created role' | 'given role' | 'target role in another account';
export const MODES: Mode[] = ['created role', 'given role', 'target role in another account'];

/** What a scenario builds in: the cluster (in the cluster's account), and the stack whose account the pods' credentials are for. */
export interface World {
  readonly app: App;
  /** The stack of the association and the cluster (account 111122223333). */
  readonly workloads: Stack;
  /** The stack the grant lands in: `workloads`, or the target role's (444455556666). Named resources are imported here. */
  readonly landing: Stack;
  readonly cluster: eks.ICluster;
  /** The account of the credentials the pods receive: where the controller acts. */
  readonly account: string;
}

/** One authorization of a request: an action on one resource, with the request's context keys. */
export interface Call {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
}

/** A controller's permission set, built in a world, with the calls it makes and calls it must not be allowed. */
export interface Scenario {
  /** The permission set's class name. */
  readonly name: string;
  build(world: World): ScenarioBuild;
}

export interface ScenarioBuild {
  readonly permissions: ControllerPermissions;
  /** The calls the controller makes, from its source or docs, on the resources the user named. */
  readonly allowed: Call[];
  /** Calls on resources outside what the user named (another zone, another cluster's groups...). */
  readonly denied: Call[];
  /**
   * The AwsSolutions-IAM5 findings (`Resource::...`) of wildcards the user chose (every hosted zone, a
   * prefix, the objects of a bucket): cdk-nag keeps reporting them. Every other wildcard is upstream's,
   * and acknowledged.
   */
  readonly reported?: string[];
}

/** A granted permission set: the role whose credentials the pods receive, and its policies resolved. */
export interface Granted extends Setup {
  /** The policy documents attached to that role, intrinsics resolved. */
  readonly documents: PolicyDocument[];
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: Array<Record<string, unknown>>;
}

/** A permission set granted, before synthesis: the association and the role the statements land on. */
export interface Setup {
  readonly world: World;
  readonly build: ScenarioBuild;
  readonly association: PodIdentityAssociation;
  /** The role the statements land on. */
  readonly role: iam.IRole;
}

/** Builds `scenario` and grants it the way `mode` says, through `associate()`; nothing synthesized yet. */
export function setUp(scenario: Scenario, mode: Mode): Setup {
  const app = new App();
  const workloads = new Stack(app, 'Workloads', { env: { account: CLUSTER_ACCOUNT, region: REGION } });
  const data = mode === 'target role in another account' ? new Stack(app, 'Data', { env: { account: DATA_ACCOUNT, region: REGION } }) : undefined;
  const landing = data ?? workloads;
  const cluster = eks.Cluster.fromClusterAttributes(workloads, 'Cluster', { clusterName: CLUSTER_NAME });
  const world: World = { app, workloads, landing, cluster, account: landing.account };
  const build = scenario.build(world);

  const givenRole = mode === 'given role' ? new iam.Role(workloads, 'GivenRole', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') }) : undefined;
  const targetRole = data ? new PodIdentityTargetRole(data, 'TargetRole') : undefined;
  const association = build.permissions.associate(workloads, 'Controller', {
    cluster,
    // A set without a chart default (an Envoy proxy, a Prometheus server) needs the application's.
    namespace: build.permissions.defaultNamespace ? undefined : 'apps',
    serviceAccount: build.permissions.defaultServiceAccount ? undefined : 'app',
    role: givenRole,
    targetRole,
  });
  return { world, build, association, role: targetRole ?? givenRole ?? association.role };
}

/** Builds `scenario`, grants it the way `mode` says, and synthesizes the policies it lands in. */
export function grant(scenario: Scenario, mode: Mode): Granted {
  const setup = setUp(scenario, mode);
  return { ...setup, documents: documentsOf(setup.role) };
}

/** The identity policies (inline and managed) attached to `role` in its stack's template, intrinsics resolved. */
export function documentsOf(role: iam.IRole): PolicyDocument[] {
  const stack = Stack.of(role);
  const roleRef = JSON.stringify(stack.resolve((role as iam.Role).roleName));
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
  return Object.values(resources)
    .filter(r => (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && (r.Properties.Roles ?? []).some((ref: unknown) => JSON.stringify(ref) === roleRef))
    .map(r => resolveIntrinsics(r.Properties.PolicyDocument, stack) as PolicyDocument);
}

/** Every statement of `documents`, in order. */
export function statementsOf(documents: PolicyDocument[]): Array<Record<string, unknown>> {
  return documents.flatMap(d => d.Statement);
}

/** Resolves `Fn::Join` and the pseudo parameters of `stack`'s environment; any other intrinsic is a test bug (use imported resources). */
export function resolveIntrinsics(value: unknown, stack: Stack): unknown {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': stack.region,
    'AWS::AccountId': stack.account,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      return v.map(walk);
    }
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('Fn::Join' in o) {
        const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
        return items.map(walk).join(delimiter);
      }
      if ('Ref' in o) {
        const resolved = pseudo[o.Ref as string];
        if (resolved === undefined) {
          throw new Error(`unresolvable reference in a policy: ${JSON.stringify(o)} (use an imported resource with a concrete ARN)`);
        }
        return resolved;
      }
      if (Object.keys(o).some(k => k.startsWith('Fn::'))) {
        throw new Error(`unresolvable intrinsic in a policy: ${JSON.stringify(o)}`);
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value);
}

/**
 * Whether the role's identity policies allow `call`, for a session of the role: IAM's decision as
 * it is for a resource of the role's own account. (A resource of another account, such as the
 * cluster seen through a target role in another account, also needs that account's consent, which
 * is not the permission set's to give.) A call iam-simulate cannot evaluate, or a context key the
 * action does not support, is a bug in the call list: it throws.
 */
export async function allows(granted: Granted, call: Call): Promise<boolean> {
  const account = granted.world.account;
  const context = { 'aws:RequestedRegion': REGION, ...call.context };
  const result = await runSimulation({
    request: {
      principal: `arn:aws:sts::${account}:assumed-role/controller-role/eks-pod-identity`,
      action: call.action,
      resource: { resource: call.resource, accountId: account },
      contextVariables: context,
    },
    identityPolicies: granted.documents.map((policy, i) => ({ name: `policy-${i}`, policy })),
    // KMS authorizes by the key policy first: the default key policy lets the account's IAM policies decide.
    resourcePolicy: call.action.startsWith('kms:') ? defaultKeyPolicy(account) : undefined,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }, {});
  const what = `${call.action} on ${call.resource} with ${JSON.stringify(context)}`;
  if (result.resultType === 'error') {
    throw new Error(`iam-simulate cannot evaluate ${what}: ${JSON.stringify(result.errors)}`);
  }
  const ignored = result.resultType === 'single' ? result.result.ignoredContextKeys ?? [] : result.results.flatMap(r => r.ignoredContextKeys ?? []);
  if (ignored.length > 0) {
    throw new Error(`context keys not supported by ${call.action}: ${[...new Set(ignored)].join(', ')} (call: ${what})`);
  }
  return result.overallResult === 'Allowed';
}

/** The default key policy (what `kms.Key` writes, and KMS's own default): the account's IAM policies decide. */
function defaultKeyPolicy(account: string) {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
  };
}

/** `arn:aws:<service>:<region>:<account>:<resource>`. */
export function arnOf(service: string, region: string, account: string, resource: string): string {
  return `arn:aws:${service}:${region}:${account}:${resource}`;
}
