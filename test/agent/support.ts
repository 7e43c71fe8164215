import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const AGENT_TYPE = 'Custom::EksPodIdentityAgent';
export const ASSOCIATION_TYPE = 'Custom::EksPodIdentityAssociation';
export const TRANSFERS_TYPE = 'Custom::EksPodIdentityTransfers';
export const PROVIDER = 'PodIdentityAssociationProvider';

export function newStack(app = new App(), id = 'Workloads', account = ACCOUNT): Stack {
  return new Stack(app, id, { env: { account, region: REGION } });
}

/** A cluster imported by name (aws-eks-v2), once per stack and name. */
export function importedCluster(stack: Stack, clusterName = 'prod'): eksv2.ICluster {
  const id = `Cluster-${clusterName}`;
  return stack.node.tryFindChild(id) as eksv2.ICluster ?? eksv2.Cluster.fromClusterAttributes(stack, id, { clusterName });
}

/** A real aws-eks Cluster (its kubectl layer imported, so nothing is bundled). */
export function eksCluster(stack: Stack, id = 'Cluster'): eks.Cluster {
  return new eks.Cluster(stack, id, {
    version: eks.KubernetesVersion.V1_32,
    kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, `${id}Kubectl`, `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:kubectl:1`),
  });
}

/** A real aws-eks-v2 Cluster (EKS Auto Mode, aws-cdk-lib's default). */
export function eksv2Cluster(stack: Stack, id = 'Cluster'): eksv2.Cluster {
  return new eksv2.Cluster(stack, id, { version: eksv2.KubernetesVersion.V1_34 });
}

/** `arn:<partition>:<rest>` as CDK renders it in an environment-specific stack. */
export function arn(...rest: unknown[]): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...rest]] };
}

/** The stack's uuid, as the template computes it from the stack id. */
export const STACK_UUID = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };

export function logicalIdOf(construct: IConstruct): string {
  const resource = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild as CfnResource;
  return Stack.of(construct).getLogicalId(resource);
}

/** The logical id of the resource at `path` below the stack. */
export function logicalIdAt(stack: Stack, path: string): string {
  const resource = stack.node.findAll().find(c => c.node.path === `${stack.node.path}/${path}`);
  if (!resource) {
    throw new Error(`no construct at ${stack.node.path}/${path}`);
  }
  return logicalIdOf(resource);
}

export function resources(stack: Stack): Record<string, any> {
  return Template.fromStack(stack).toJSON().Resources;
}

/** The resources of `type` in the stack's template, by logical id. */
export function resourcesOfType(stack: Stack, type: string): Record<string, any> {
  return Template.fromStack(stack).findResources(type);
}

/** The one resource of `type` in the stack's template. */
export function onlyOfType(stack: Stack, type: string): any {
  const found = Object.values(resourcesOfType(stack, type));
  if (found.length !== 1) {
    throw new Error(`expected one ${type} in ${stack.node.path}, found ${found.length}`);
  }
  return found[0];
}

/** The DependsOn of the resource at `logicalId`, sorted. */
export function dependsOn(stack: Stack, logicalId: string): string[] {
  return [...resources(stack)[logicalId].DependsOn ?? []].sort();
}

/** The statements of each policy attached to the handler's role, by the policy's construct id. */
export function handlerPolicies(stack: Stack): Record<string, any[]> {
  const handlerRole = { Ref: logicalIdAt(stack, `${PROVIDER}/HandlerRole/Resource`) };
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [handlerRole] } });
  return Object.fromEntries(stack.node.findAll()
    .filter(c => c instanceof CfnResource && stack.getLogicalId(c) in policies)
    .map(c => [c.node.scope!.node.id === 'DefaultPolicy' ? 'DefaultPolicy' : c.node.scope!.node.id, policies[stack.getLogicalId(c as CfnResource)].Properties.PolicyDocument.Statement]));
}

/** Every AWS::EKS::Addon of the app for the agent, as `<stack>/<logical id>`. */
export function agentAddons(app: App): string[] {
  const assembly = app.synth();
  return assembly.stacks.flatMap(stack => Object.entries(stack.template.Resources ?? {})
    .filter(([, resource]: [string, any]) => resource.Type === 'AWS::EKS::Addon' && resource.Properties.AddonName === 'eks-pod-identity-agent')
    .map(([id]) => `${stack.stackName}/${id}`));
}
