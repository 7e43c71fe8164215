import { App, CfnResource, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import {
  AmazonManagedPrometheusPermissions,
  AwsLoadBalancerControllerTargetGroupBindingPermissions,
  AwsVpcCniPermissions,
  CertManagerPermissions,
  ClusterAutoscalerPermissions,
  ControllerPermissions,
  ExternalDnsPermissions,
  ExternalSecretsPermissions,
  KarpenterPermissions,
  MountpointS3CsiDriverPermissions,
  VeleroPermissions,
} from '../../src';

/*
 * A permission set checks what it is given when it is granted, and says, prefixed with the path of
 * the construct it is granted to, what was wrong, the value received and how to fix it. Values
 * that are tokens are not checked.
 */

function world() {
  const app = new App();
  const stack = new Stack(app, 'Workloads', { env: { account: '111122223333', region: 'us-east-1' } });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' });
  return { stack, cluster };
}

/** The error of granting `permissions` through `associate()`, as `[path] message`. */
function errorOf(make: (w: ReturnType<typeof world>) => ControllerPermissions): string {
  const w = world();
  try {
    make(w).associate(w.stack, 'Controller', { cluster: w.cluster, namespace: 'ops', serviceAccount: 'controller' });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('scoped by default: the resources, or the explicit choice of all', () => {
  test.each([
    ['ExternalDnsPermissions', () => new ExternalDnsPermissions({})],
    ['CertManagerPermissions', () => new CertManagerPermissions({})],
  ])('%s without hostedZones or allHostedZones: an error that names both', (name, make) => {
    expect(errorOf(make)).toBe(
      `[Workloads/Controller] ${name}: name the hosted zones the controller may change in \`hostedZones\`, or set \`allHostedZones: true\` to grant every one of the account, got: neither. ` +
      'A permission set is scoped by default: `allHostedZones` is the explicit choice of a wildcard.');
  });

  test('hostedZones and allHostedZones together: an error, with the number of zones received', () => {
    const message = errorOf(({ stack }) => new ExternalDnsPermissions({ hostedZones: [route53.HostedZone.fromHostedZoneId(stack, 'Zone', 'Z0EXTDNS1')], allHostedZones: true }));

    expect(message).toBe('[Workloads/Controller] ExternalDnsPermissions: `hostedZones` and `allHostedZones: true` both given, got: 1 hosted zones and allHostedZones. ' +
      'Keep `hostedZones` to name the hosted zones the controller may change, or remove it to grant every one with `allHostedZones`.');
  });

  test('an empty list: an error that says it must name one, and the alternative', () => {
    expect(errorOf(() => new ExternalDnsPermissions({ hostedZones: [] }))).toBe(
      '[Workloads/Controller] ExternalDnsPermissions: `hostedZones` must name at least one of the hosted zones, got: []. ' +
      'Pass the hosted zones the controller works with, or set `allHostedZones: true` to grant every one of the account.');
  });

  test.each([
    ['KarpenterPermissions', 'nodeRoles', ({ cluster }: ReturnType<typeof world>) => new KarpenterPermissions({ cluster, nodeRoles: [] })],
    ['AwsLoadBalancerControllerTargetGroupBindingPermissions', 'targetGroups', () => new AwsLoadBalancerControllerTargetGroupBindingPermissions({ targetGroups: [] })],
    ['MountpointS3CsiDriverPermissions', 'buckets', () => new MountpointS3CsiDriverPermissions({ buckets: [] })],
    ['AmazonManagedPrometheusPermissions', 'workspaces', () => new AmazonManagedPrometheusPermissions({ workspaces: [] })],
  ])('%s with no %s: an error', (name, prop, make) => {
    expect(errorOf(make)).toMatch(new RegExp(`^\\[Workloads/Controller\\] ${name}: \`${prop}\` must name at least one of the .*, got: \\[\\]\\. Pass the `));
  });

  test('External Secrets with nothing to read: an error that lists the four props and shows a prefix and a path', () => {
    expect(errorOf(() => new ExternalSecretsPermissions({}))).toBe(
      '[Workloads/Controller] ExternalSecretsPermissions: name what External Secrets may read, got: none of `secrets`, `secretNamePrefixes`, `parameters`, `parameterPaths`. ' +
      'Pass the secrets or parameters, or a name prefix (`secretNamePrefixes: [\'platform/\']`) or path (`parameterPaths: [\'/platform/\']`) to read a group of them.');
  });
});

describe('names and paths', () => {
  test.each([
    ['secretNamePrefixes', { secretNamePrefixes: ['platform/*'] }, '"platform/*"'],
    ['secretNamePrefixes', { secretNamePrefixes: [''] }, '""'],
    ['parameterPaths', { parameterPaths: ['platform/'] }, '"platform/"'],
    ['parameterPaths', { parameterPaths: ['/platform/*'] }, '"/platform/*"'],
  ])('External Secrets: a %s that is not a prefix or path, or holds a wildcard: an error with the value', (prop, props, value) => {
    expect(errorOf(() => new ExternalSecretsPermissions(props))).toContain(`ExternalSecretsPermissions: each of \`${prop}\` must be `);
    expect(errorOf(() => new ExternalSecretsPermissions(props))).toContain(`, got: ${value}. Give the `);
  });

  test('External Secrets: a prefix or path that is a token is not checked', () => {
    const w = world();
    const prefix = ssm.StringParameter.valueForStringParameter(w.stack, '/config/prefix');

    const association = new ExternalSecretsPermissions({ secretNamePrefixes: [prefix], parameterPaths: [Token.asString({ Ref: 'Path' })] })
      .associate(w.stack, 'Controller', { cluster: w.cluster });

    expect(association.serviceAccount).toBe('external-secrets');
  });

  test('Velero: a prefix with a wildcard or a leading slash: an error with the value', () => {
    expect(errorOf(({ stack }) => new VeleroPermissions({ bucket: s3.Bucket.fromBucketName(stack, 'B', 'backups'), prefix: '/prod' }))).toBe(
      '[Workloads/Controller] VeleroPermissions: `prefix` must be the prefix of the backup storage location, without a wildcard or a leading \'/\', got: "/prod". ' +
      'Give it as in the BackupStorageLocation, e.g. \'backups\'.');
  });
});

describe('a cluster name that goes into a tag key must be known at synth time', () => {
  function tokenNamedCluster(stack: Stack): eks.ICluster {
    return eks.Cluster.fromClusterAttributes(stack, 'Unnamed', { clusterName: Token.asString({ Ref: 'ClusterName' }) });
  }

  test.each([
    ['KarpenterPermissions', (stack: Stack) => new KarpenterPermissions({ cluster: tokenNamedCluster(stack), nodeRoles: [iam.Role.fromRoleName(stack, 'Node', 'node')] })],
    ['ClusterAutoscalerPermissions', (stack: Stack) => new ClusterAutoscalerPermissions({ cluster: tokenNamedCluster(stack) })],
    ['AwsVpcCniPermissions', (stack: Stack) => new AwsVpcCniPermissions({ cluster: tokenNamedCluster(stack), vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0a1b2c3d4e5f60001', availabilityZones: ['us-east-1a'] }) })],
  ])('%s: an error that says why and how to name the cluster', (name, make) => {
    const message = errorOf(({ stack }) => make(stack));

    expect(message).toBe(
      `[Workloads/Controller] ${name}: the cluster's name goes into the tag keys of the policy's conditions (kubernetes.io/cluster/<name>), so it must be known at synth time, got: a token (Workloads/Unnamed). ` +
      'Give the Cluster an explicit `clusterName`, or import the cluster by name with `Cluster.fromClusterAttributes()`.');
  });
});

describe('associate()', () => {
  test('the chart\'s namespace and service account by default, or the ones given', () => {
    const w = world();
    const zone = route53.HostedZone.fromHostedZoneId(w.stack, 'Zone', 'Z0EXTDNS1');
    const permissions = new ExternalDnsPermissions({ hostedZones: [zone] });

    const byDefault = permissions.associate(w.stack, 'ExternalDns', { cluster: w.cluster });
    const given = permissions.associate(w.stack, 'ExternalDnsPrivate', { cluster: w.cluster, namespace: 'dns', serviceAccount: 'external-dns-private' });

    expect([byDefault.namespace, byDefault.serviceAccount]).toEqual(['external-dns', 'external-dns']);
    expect([given.namespace, given.serviceAccount]).toEqual(['dns', 'external-dns-private']);
  });

  test('a set without a chart (the application\'s service account) needs namespace and service account', () => {
    const w = world();
    expect(() => new AmazonManagedPrometheusPermissions({ workspaces: [] }).associate(w.stack, 'Prometheus', { cluster: w.cluster })).toThrow(
      '[Workloads/Prometheus] AmazonManagedPrometheusPermissions.associate(): Amazon Managed Service for Prometheus runs with the application\'s service account, which has no default, got: namespace undefined, serviceAccount undefined. ' +
      'Pass the `namespace` and `serviceAccount` of the pods that need these permissions.');
  });

  test('grant() returns the grant of every statement; an association waits for the policy that holds them', () => {
    // GIVEN
    const w = world();
    const zone = route53.HostedZone.fromHostedZoneId(w.stack, 'Zone', 'Z0EXTDNS1');
    const role = new iam.Role(w.stack, 'Other', { assumedBy: new iam.AccountRootPrincipal() });
    // WHEN
    const grant = new ExternalDnsPermissions({ hostedZones: [zone] }).grant(role);
    const association = new ExternalDnsPermissions({ hostedZones: [zone] }).associate(w.stack, 'ExternalDns', { cluster: w.cluster });
    // THEN
    expect(grant.success).toBe(true);
    expect(grant.principalStatements.map(s => s.actions)).toEqual([
      ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets', 'route53:ListTagsForResources'],
      ['route53:ListHostedZones'],
    ]);
    const resources = Template.fromStack(w.stack).toJSON().Resources;
    const policy = w.stack.getLogicalId(association.role.node.findChild('DefaultPolicy').node.defaultChild as CfnResource);
    expect(resources[w.stack.getLogicalId(association.node.defaultChild as CfnResource)].DependsOn).toContain(policy);
  });
});
