import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { AddonRole } from '../../src';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';

export function newStack(app = new App(), id = 'Workloads', account = ACCOUNT): Stack {
  return new Stack(app, id, { env: { account, region: REGION } });
}

/** A cluster imported by name (aws-eks-v2). */
export function importedCluster(stack: Stack, clusterName = 'prod'): eksv2.ICluster {
  const id = `Cluster-${clusterName}`;
  return stack.node.tryFindChild(id) as eksv2.ICluster ?? eksv2.Cluster.fromClusterAttributes(stack, id, { clusterName });
}

/** The clusters of both modules, created in the stack: their names are references. */
export const CLUSTERS: Array<[string, (stack: Stack) => eks.ICluster | eksv2.ICluster]> = [
  ['aws-eks Cluster', stack => new eks.Cluster(stack, 'Cluster', {
    version: eks.KubernetesVersion.V1_32,
    kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:kubectl:1`),
  })],
  ['aws-eks-v2 Cluster', stack => new eksv2.Cluster(stack, 'Cluster', { version: eksv2.KubernetesVersion.V1_34 })],
];

/** `arn:<partition>:<rest>` as CDK renders it in an environment-specific stack. */
export function arn(rest: string | Array<unknown>): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...[rest].flat()]] };
}

export function logicalIdOf(construct: IConstruct): string {
  const resource = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild as CfnResource;
  return Stack.of(construct).getLogicalId(resource);
}

/** The template resource of a construct (or its default child). */
export function resourceOf(construct: IConstruct): Record<string, any> {
  return Template.fromStack(Stack.of(construct)).toJSON().Resources[logicalIdOf(construct)];
}

/** The trust policy of an add-on role's role, as in the template. */
export function trustOf(addonRole: AddonRole): Record<string, any> {
  return resourceOf(addonRole.role).Properties.AssumeRolePolicyDocument;
}

/** The ARNs of the role's managed policies, as in the template. */
export function managedPolicyArnsOf(addonRole: AddonRole): unknown[] {
  return resourceOf(addonRole.role).Properties.ManagedPolicyArns ?? [];
}

/** The customer managed policy the library wrote for the role, if any (`<role>/Policy`). */
export function customerPolicyOf(addonRole: AddonRole): Record<string, any> | undefined {
  const policy = addonRole.node.tryFindChild('Policy');
  return policy && resourceOf(policy);
}

/** The statements of the customer managed policy, as in the template. */
export function customerStatementsOf(addonRole: AddonRole): Array<Record<string, unknown>> {
  return customerPolicyOf(addonRole)?.Properties.PolicyDocument.Statement ?? [];
}

/** The `PodIdentityAssociations` of an add-on resource (a `CfnAddon`, or an L2 `Addon`'s child), as in the template. */
export function associationsOf(addon: IConstruct): unknown {
  return resourceOf(addon).Properties.PodIdentityAssociations;
}

/**
 * A policy document of the template as IAM receives it: the partition `aws`, every `Fn::Join`
 * joined. Anything else (a reference to a resource) is an error: the tests that evaluate policies
 * use resources with known ARNs.
 */
export function concrete(value: unknown): any {
  if (Array.isArray(value)) {
    return value.map(concrete);
  }
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if ('Ref' in object) {
      if (object.Ref === 'AWS::Partition') return 'aws';
      throw new Error(`concrete(): a reference to ${JSON.stringify(object.Ref)} has no known value`);
    }
    if ('Fn::Join' in object) {
      const [delimiter, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(concrete).join(delimiter);
    }
    if (Object.keys(object).some(key => key.startsWith('Fn::'))) {
      throw new Error(`concrete(): ${JSON.stringify(object)} has no known value`);
    }
    return Object.fromEntries(Object.entries(object).map(([key, v]) => [key, concrete(v)]));
  }
  return value;
}

/** The key policy KMS gives a key by default (and `kms.Key` writes): the account may use IAM policies to grant its use. */
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};

/**
 * Whether IAM (the policy evaluator `@cloud-copilot/iam-simulate`) allows the role `action` on
 * `resource`, given `policies` as its identity policies.
 */
export async function allows(
  policies: Array<Record<string, unknown>>, action: string, resource: string, context: Record<string, string> = {},
): Promise<boolean> {
  const result = await runSimulation({
    request: {
      principal: `arn:aws:iam::${ACCOUNT}:role/addon-role`,
      action,
      resource: { resource, accountId: ACCOUNT },
      contextVariables: context,
    },
    identityPolicies: policies.map((policy, i) => ({ name: `policy${i}`, policy })),
    // KMS authorizes nothing without the key policy: the default one, which lets IAM policies of the account grant its use.
    resourcePolicy: resource.startsWith('arn:aws:kms:') ? DEFAULT_KEY_POLICY : undefined,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }, {});
  if (result.resultType === 'error') {
    throw new Error(`iam-simulate cannot evaluate ${action} on ${resource}: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult === 'Allowed';
}

/** The identity policies of an add-on role that the library writes (its customer managed policy) and the role's own (its grants), as IAM receives them. */
export function identityPoliciesOf(addonRole: AddonRole): Array<Record<string, unknown>> {
  const stack = Stack.of(addonRole);
  const template = Template.fromStack(stack);
  const roleRef = stack.resolve((addonRole.role as iam.Role).roleName);
  const grants = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter(policy => JSON.stringify(policy.Properties.Roles) === JSON.stringify([roleRef]))
    .map(policy => policy.Properties.PolicyDocument);
  const customer = customerPolicyOf(addonRole);
  return [...customer ? [customer.Properties.PolicyDocument] : [], ...grants].map(concrete);
}

/** The logical id of the hand-over resource the add-on `addonName` of `stack` waits for (src/provider.ts `handoverOf`). */
export function handoverIdOf(stack: Stack, addonName: string): string {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: { AddonName?: string } }>;
  const found = Object.entries(resources).find(([, r]) => r.Type === 'Custom::EksPodIdentityHandover' && r.Properties.AddonName === addonName);
  if (!found) {
    throw new Error(`stack ${stack.node.path} has no hand-over for add-on ${addonName}`);
  }
  return found[0];
}
