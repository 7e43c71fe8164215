import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { Node } from 'constructs';
import { PodIdentityAssociation, PodIdentityAssociationProvider, PodIdentityAssociationProviderProps } from '../src';

/*
 * The options of the provider's two functions for organisations whose controls require them: a
 * VPC, reserved concurrency, active tracing, the framework's memory. Defaults stay as they were.
 */

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';

function stackWith(props?: PodIdentityAssociationProviderProps, withVpc?: (stack: Stack) => PodIdentityAssociationProviderProps): Stack {
  const stack = new Stack(new App(), 'Workloads', { env: { account: ACCOUNT, region: REGION } });
  PodIdentityAssociationProvider.getOrCreate(stack, { ...props, ...withVpc?.(stack) });
  new PodIdentityAssociation(stack, 'Api', {
    cluster: eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' }),
    namespace: 'payments',
    serviceAccount: 'api',
  });
  return stack;
}

/** The two functions' properties: the handler's and the framework's. */
function functionsOf(stack: Stack): { handler: Record<string, any>; framework: Record<string, any> } {
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map(f => f.Properties);
  const handler = functions.find(f => f.Handler === 'index.handler')!;
  const framework = functions.find(f => f.Handler === 'framework.onEvent')!;
  expect([functions.length, Boolean(handler), Boolean(framework)]).toEqual([2, true, true]);
  return { handler, framework };
}

/** The statements of the policies attached to the role whose logical id starts with `prefix`. */
function statementsOfRole(stack: Stack, prefix: string): Array<Record<string, any>> {
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter(policy => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref.startsWith(prefix)))
    .flatMap(policy => policy.Properties.PolicyDocument.Statement);
}

const HANDLER_ROLE = 'PodIdentityAssociationProviderHandlerRole';
const FRAMEWORK_ROLE = 'PodIdentityAssociationProviderFrameworkRole';
const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

test('by default: no VPC, no reserved concurrency, no tracing, the framework on Lambda\'s default memory', () => {
  const { handler, framework } = functionsOf(stackWith());
  for (const fn of [handler, framework]) {
    expect(fn).not.toHaveProperty('VpcConfig');
    expect(fn).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(fn).not.toHaveProperty('TracingConfig');
  }
  expect(handler.MemorySize).toBe(256);
  expect(framework).not.toHaveProperty('MemorySize');
});

describe('vpc', () => {
  test('both functions in the VPC\'s private subnets, each with a security group of its own; their roles may manage network interfaces, with no managed policy', () => {
    const stack = stackWith({}, s => ({ vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2 }) }));
    const { handler, framework } = functionsOf(stack);
    const privateSubnets = (stack.node.findChild('Vpc') as ec2.Vpc).privateSubnets.map(subnet => stack.resolve(subnet.subnetId));

    for (const fn of [handler, framework]) {
      expect(fn.VpcConfig.SubnetIds).toEqual(privateSubnets);
      expect(fn.VpcConfig.SecurityGroupIds).toHaveLength(1);
    }
    expect(handler.VpcConfig.SecurityGroupIds).not.toEqual(framework.VpcConfig.SecurityGroupIds);
    for (const role of [HANDLER_ROLE, FRAMEWORK_ROLE]) {
      expect(statementsOfRole(stack, role)).toContainEqual({ Action: ENI_ACTIONS, Effect: 'Allow', Resource: '*' });
    }
    const roles = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'));
    expect(roles.filter(role => role.Properties.ManagedPolicyArns)).toEqual([]);
    // Lambda checks the permission when it creates a function in a VPC: each function waits for its role's policy
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    for (const [role, fn] of [[HANDLER_ROLE, handler], [FRAMEWORK_ROLE, framework]]) {
      const [, resource] = Object.entries(functions).find(([, f]) => f.Properties === fn || JSON.stringify(f.Properties) === JSON.stringify(fn))!;
      expect(resource.DependsOn).toContainEqual(expect.stringMatching(new RegExp(`^${role}DefaultPolicy`)));
    }
  });

  test('the given subnets and security groups, for both functions', () => {
    const stack = stackWith({}, s => {
      const vpc = new ec2.Vpc(s, 'Vpc', {
        maxAzs: 2,
        subnetConfiguration: [
          { name: 'Apps', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          { name: 'Endpoints', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
        ],
      });
      return { vpc, vpcSubnets: { subnetGroupName: 'Endpoints' }, securityGroups: [new ec2.SecurityGroup(s, 'Egress', { vpc })] };
    });
    const { handler, framework } = functionsOf(stack);
    const vpc = stack.node.findChild('Vpc') as ec2.Vpc;
    const isolated = vpc.isolatedSubnets.map(subnet => stack.resolve(subnet.subnetId));
    const group = stack.resolve((stack.node.findChild('Egress') as ec2.SecurityGroup).securityGroupId);

    for (const fn of [handler, framework]) {
      expect(fn.VpcConfig).toEqual({ SubnetIds: isolated, SecurityGroupIds: [group] });
    }
  });

  test.each<[string, (stack: Stack) => PodIdentityAssociationProviderProps]>([
    ['vpcSubnets', () => ({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })],
    ['securityGroups', s => ({ securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(s, 'Group', 'sg-12345678')] })],
  ])('%s without vpc is an error that names the provider', (_, props) => {
    expect(() => stackWith({}, props)).toThrow(/^\[Workloads\/PodIdentityAssociationProvider\] `vpcSubnets` and `securityGroups` place the functions in a VPC, but no `vpc` is given/);
  });
});

describe('reservedConcurrentExecutions', () => {
  test('both functions', () => {
    const { handler, framework } = functionsOf(stackWith({ reservedConcurrentExecutions: 20 }));
    expect([handler.ReservedConcurrentExecutions, framework.ReservedConcurrentExecutions]).toEqual([20, 20]);
  });

  test.each([0, -1, 2.5])('%s is an error', value => {
    expect(() => stackWith({ reservedConcurrentExecutions: value })).toThrow(
      new RegExp(`^\\[Workloads/PodIdentityAssociationProvider\\] \`reservedConcurrentExecutions\` must be a whole number of at least 1, got: ${value}\\.`),
    );
  });
});

test('activeTracing: both functions traced, and both roles may send traces (X-Ray takes no resource-level permissions)', () => {
  const stack = stackWith({ activeTracing: true });
  const { handler, framework } = functionsOf(stack);
  expect([handler.TracingConfig, framework.TracingConfig]).toEqual([{ Mode: 'Active' }, { Mode: 'Active' }]);
  for (const role of [HANDLER_ROLE, FRAMEWORK_ROLE]) {
    expect(statementsOfRole(stack, role)).toContainEqual({ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' });
  }
});

describe('frameworkMemorySize', () => {
  test('the framework\'s memory; the handler keeps its own', () => {
    const { handler, framework } = functionsOf(stackWith({ frameworkMemorySize: 512 }));
    expect([handler.MemorySize, framework.MemorySize]).toEqual([256, 512]);
  });

  test.each([64, 10_241, 200.5])('%s is an error', value => {
    expect(() => stackWith({ frameworkMemorySize: value })).toThrow(
      new RegExp(`^\\[Workloads/PodIdentityAssociationProvider\\] \`frameworkMemorySize\` must be a whole number of MB from 128 to 10,240 \\(what Lambda allows\\), got: ${value}\\.`),
    );
  });
});

test('every option at once synthesizes, and no other resource changes', () => {
  const plain = Template.fromStack(stackWith()).toJSON().Resources;
  const stack = stackWith({ reservedConcurrentExecutions: 5, activeTracing: true, frameworkMemorySize: 256 }, s => ({ vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 }) }));
  const options = Template.fromStack(stack).toJSON().Resources;
  const types = (resources: Record<string, { Type: string }>) => Object.entries(resources)
    .filter(([id]) => !id.startsWith('Vpc'))
    .map(([id, r]) => `${id} ${r.Type}`);
  // the same resources, besides the VPC and the functions' security groups
  expect(types(options).filter(line => !line.includes('SecurityGroup'))).toEqual(types(plain));
  Template.fromStack(stack).resourcePropertiesCountIs('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('Automatic security group for Lambda Function') }, 2);
});

describe('an aws-cdk-lib whose Provider no longer has the framework function where the library sets its options', () => {
  // aws-cdk-lib has no option for the framework's memory, concurrency or tracing: the provider sets them on
  // the child it names 'framework-onEvent'. Simulate a version that renamed it.
  let spy: jest.SpyInstance;
  beforeEach(() => {
    const tryFindChild = Node.prototype.tryFindChild;
    spy = jest.spyOn(Node.prototype, 'tryFindChild').mockImplementation(function (this: Node, id: string) {
      return id === 'framework-onEvent' ? undefined : tryFindChild.call(this, id);
    });
  });
  afterEach(() => spy.mockRestore());

  test.each<[string, PodIdentityAssociationProviderProps]>([
    ['frameworkMemorySize', { frameworkMemorySize: 256 }],
    ['reservedConcurrentExecutions', { reservedConcurrentExecutions: 5 }],
    ['activeTracing', { activeTracing: true }],
  ])('%s is an error that says why, rather than an option silently ignored', (_, props) => {
    expect(() => stackWith(props)).toThrow(/^\[Workloads\/PodIdentityAssociationProvider\] The provider framework's function is not where this version of the library expects it/);
  });

  test('without them, the stack synthesizes', () => {
    expect(functionsOf(stackWith()).framework.Handler).toEqual('framework.onEvent');
  });
});
