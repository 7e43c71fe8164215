import { App, PhysicalName, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ACCOUNT, handoverIdOf, importedCluster, logicalIdOf, newStack, resourceOf } from './support';
import { AddonRole, AdotCollector, PodIdentityAssociation } from '../../src';
import { addonResourcesOf, addonRolesOf } from '../../src/private/addon-attachment';
import { ServiceAccountRegistry } from '../../src/private/service-account-registry';

/*
 * One association per service account: an app that gives an add-on's service account both a
 * PodIdentityAssociation and an add-on role fails at synthesis, naming both; grants reach the
 * add-on role; what it owns follows its removal policy; its props are checked.
 */

function synthError(app: App): string {
  try {
    app.synth();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

describe('a PodIdentityAssociation and an add-on role for one service account', () => {
  test.each(['before', 'after'])('the association declared %s the add-on role: a synth error naming both, and how to fix it', order => {
    // GIVEN
    const app = new App();
    const stack = newStack(app);
    const cluster = importedCluster(stack);
    const associate = () => new PodIdentityAssociation(stack, 'EbsAssociation', { cluster, namespace: 'kube-system', serviceAccount: 'ebs-csi-controller-sa' });
    // WHEN
    if (order === 'before') associate();
    const addonRole = AddonRole.ebsCsiDriver(stack, 'EbsCsiDriverRole', { cluster });
    addonRole.attachToAddon(new eksv2.Addon(stack, 'EbsCsiDriver', { cluster, addonName: 'aws-ebs-csi-driver' }));
    if (order === 'after') associate();
    // THEN
    expect(synthError(app)).toMatch(new RegExp(
      '\\[Workloads/EbsCsiDriverRole\\] Service account "kube-system/ebs-csi-controller-sa" of this cluster has both this add-on role \\(for the aws-ebs-csi-driver add-on\\) and the PodIdentityAssociation at Workloads/EbsAssociation\\. ' +
      'EKS allows one association per service account, and an add-on cannot take over a standalone association \\(it fails with "already exists"\\)\\. ' +
      'Remove the PodIdentityAssociation at Workloads/EbsAssociation and grant its permissions to this role',
    ));
  });

  test('in two stacks of the app, on one cluster imported in each', () => {
    const app = new App();
    const associations = newStack(app, 'Associations');
    const addons = newStack(app, 'Addons');
    new PodIdentityAssociation(associations, 'Cni', { cluster: importedCluster(associations), namespace: 'kube-system', serviceAccount: 'aws-node' });
    AddonRole.vpcCni(addons, 'VpcCniRole', { cluster: importedCluster(addons) });

    expect(synthError(app)).toMatch(/\[Addons\/VpcCniRole\] Service account "kube-system\/aws-node" of this cluster has both this add-on role \(for the vpc-cni add-on\) and the PodIdentityAssociation at Associations\/Cni\./);
  });

  test('on a created cluster, named by reference: the same cluster is recognized', () => {
    const app = new App();
    const stack = newStack(app);
    const cluster = new eksv2.Cluster(stack, 'Cluster', { version: eksv2.KubernetesVersion.V1_34 });
    new PodIdentityAssociation(stack, 'Cni', { cluster, namespace: 'kube-system', serviceAccount: 'aws-node' });
    AddonRole.vpcCni(stack, 'VpcCniRole', { cluster });

    expect(synthError(app)).toMatch(/\[Workloads\/VpcCniRole\] Service account "kube-system\/aws-node" of this cluster has both/);
  });

  test.each<[string, (stack: Stack) => void]>([
    ['another cluster', stack => new PodIdentityAssociation(stack, 'Cni', { cluster: importedCluster(stack, 'staging'), namespace: 'kube-system', serviceAccount: 'aws-node' })],
    ['another service account', stack => new PodIdentityAssociation(stack, 'Cni', { cluster: importedCluster(stack), namespace: 'kube-system', serviceAccount: 'aws-node-2' })],
    ['another namespace', stack => new PodIdentityAssociation(stack, 'Cni', { cluster: importedCluster(stack), namespace: 'networking', serviceAccount: 'aws-node' })],
  ])('%s: no error', (_, associate) => {
    const app = new App();
    const stack = newStack(app);
    associate(stack);
    AddonRole.vpcCni(stack, 'VpcCniRole', { cluster: importedCluster(stack) });
    expect(synthError(app)).toBe('');
  });
});

test('two add-on roles for one service account: a synth error naming the first', () => {
  const app = new App();
  const stack = newStack(app);
  AddonRole.vpcCni(stack, 'First', { cluster: importedCluster(stack) });
  AddonRole.vpcCni(stack, 'Second', { cluster: importedCluster(stack) });

  const message = synthError(app);
  expect(message).toMatch(/\[Workloads\/Second\] Service account "kube-system\/aws-node" of this cluster already has the add-on role at Workloads\/First; EKS allows one association per service account\./);
  expect(message).not.toMatch(/\[Workloads\/First\]/);
});

describe('grants work on add-on roles as on associations', () => {
  test('bucket.grantRead(addonRole) lands on the role, and the add-on waits for it, granted after attaching', () => {
    // GIVEN
    const stack = newStack();
    const cluster = importedCluster(stack);
    const bucket = new s3.Bucket(stack, 'Data');
    const addonRole = AddonRole.mountpointS3CsiDriver(stack, 'MountpointRole', { cluster });
    const addon = new eksv2.Addon(stack, 'Mountpoint', { cluster, addonName: 'aws-mountpoint-s3-csi-driver' });
    addonRole.attachToAddon(addon);
    // WHEN
    const grant = bucket.grantRead(addonRole);
    // THEN
    expect(grant.success).toBe(true);
    const policy = addonRole.role.node.findChild('DefaultPolicy');
    expect(resourceOf(policy).Properties).toEqual(expect.objectContaining({
      Roles: [{ Ref: logicalIdOf(addonRole.role) }],
      PolicyDocument: expect.objectContaining({ Statement: [expect.objectContaining({ Action: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'] })] }),
    }));
    expect(resourceOf(addon).DependsOn).toEqual([logicalIdOf(policy), handoverIdOf(stack, 'aws-mountpoint-s3-csi-driver')].sort());
    expect(addonRole.grantPrincipal).toBe(addonRole.role);
  });

  test('a bucket policy of another account names the role', () => {
    const app = new App();
    const stack = newStack(app);
    const data = newStack(app, 'Data', '444455556666');
    const bucket = new s3.Bucket(data, 'Data', { bucketName: PhysicalName.GENERATE_IF_NEEDED });
    const addonRole = AddonRole.mountpointS3CsiDriver(stack, 'MountpointRole', { cluster: importedCluster(stack) });
    bucket.grantRead(addonRole);

    const statement = Template.fromStack(data).toJSON().Resources[logicalIdOf(bucket.policy!)].Properties.PolicyDocument.Statement[0];
    // the role's name, generated where another environment names it
    expect(JSON.stringify(statement.Principal)).toMatch(new RegExp(`:iam::${ACCOUNT}:role/workloads\\w*mountpointrole[0-9a-f]+`));
  });
});

describe('removal policy', () => {
  test('RETAIN keeps the role and its policies, except when the deployment that created them rolls back', () => {
    const stack = newStack();
    const addonRole = AddonRole.mountpointS3CsiDriver(stack, 'MountpointRole', { cluster: importedCluster(stack), buckets: [s3.Bucket.fromBucketName(stack, 'Mounted', 'mounted-bucket')] });
    new s3.Bucket(stack, 'Late').grantRead(addonRole);

    addonRole.applyRemovalPolicy(RemovalPolicy.RETAIN);

    for (const construct of [addonRole.role, addonRole.node.findChild('Policy'), addonRole.role.node.findChild('DefaultPolicy')]) {
      expect(resourceOf(construct)).toEqual(expect.objectContaining({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' }));
    }
  });

  test('by default they go with the stack; SNAPSHOT is an error', () => {
    const stack = newStack();
    const addonRole = AddonRole.vpcCni(stack, 'VpcCniRole', { cluster: importedCluster(stack), ipv6: true });
    expect(resourceOf(addonRole.role).DeletionPolicy).toBeUndefined();
    expect(resourceOf(addonRole.node.findChild('Policy')).DeletionPolicy).toBeUndefined();
    expect(() => addonRole.applyRemovalPolicy(RemovalPolicy.SNAPSHOT)).toThrow(/^\[Workloads\/VpcCniRole\] `applyRemovalPolicy\(\)` takes RemovalPolicy.DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE, got: RemovalPolicy.SNAPSHOT/);
  });
});

describe('new AddonRole(): any add-on that takes Pod Identity associations', () => {
  test('the role trusts the given service account; no policy until granted; no version or namespace check', () => {
    const stack = newStack();
    const addonRole = new AddonRole(stack, 'EfsNodeRole', { cluster: importedCluster(stack), addonName: 'aws-efs-csi-driver', namespace: 'kube-system', serviceAccount: 'efs-csi-node-sa' });
    addonRole.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonElasticFileSystemsUtils'));
    const addon = new eks.CfnAddon(stack, 'Efs', { clusterName: 'prod', addonName: 'aws-efs-csi-driver', addonVersion: 'v1.0.0-eksbuild.1' });

    addonRole.attachToAddon(addon);

    const trust = resourceOf(addonRole.role).Properties.AssumeRolePolicyDocument.Statement[0];
    expect(trust.Condition.StringEquals['aws:RequestTag/kubernetes-service-account']).toBe('efs-csi-node-sa');
    expect(addonRole.minimumAddonVersion).toBeUndefined();
    expect(resourceOf(addon).Properties.PodIdentityAssociations).toEqual([{ RoleArn: stack.resolve(addonRole.role.roleArn), ServiceAccount: 'efs-csi-node-sa' }]);
  });
});

describe('every error says what, the value, and how to fix it, at the construct\'s path', () => {
  test.each<[string, (stack: Stack) => unknown, RegExp]>([
    ['a namespace Kubernetes refuses', stack => AddonRole.vpcCni(stack, 'Role', { cluster: importedCluster(stack), namespace: 'Kube_System' }), /^\[Workloads\/Role\] `namespace` must be a Kubernetes namespace name .* got: "Kube_System"/],
    ['a role name IAM refuses', stack => AddonRole.vpcCni(stack, 'Role', { cluster: importedCluster(stack), roleName: 'vpc cni' }), /^\[Workloads\/Role\] `roleName` must be an IAM role name .* got: "vpc cni"/],
    ['an add-on name EKS has not', stack => new AddonRole(stack, 'Role', { cluster: importedCluster(stack), addonName: 'VPC CNI', namespace: 'kube-system', serviceAccount: 'aws-node' }), /^\[Workloads\/Role\] `addonName` must be the name of an EKS add-on .* got: "VPC CNI"/],
    ['a cluster of another account', stack => AddonRole.vpcCni(stack, 'Role', { cluster: eksv2.Cluster.fromClusterAttributes(newStack(new App(), 'Other', '444455556666'), 'C', { clusterName: 'prod' }) }),
      /^\[Workloads\/Role\] `cluster` must be in the account of the stack that holds the role .* got: cluster account 444455556666, stack account 111122223333\. Define the add-on role in a stack of the cluster's account\./],
    ['prometheusDestinations for another collector', stack => AddonRole.adot(stack, 'Role', { cluster: importedCluster(stack), collector: 'adot-col-otlp-ingest' as any, prometheusDestinations: ['amp' as any] }),
      /^\[Workloads\/Role\] `prometheusDestinations` is only for AdotCollector.PROMETHEUS_METRICS, got it for collector "adot-col-otlp-ingest"\. Remove it\./],
    ['no Prometheus destination', stack => AddonRole.adot(stack, 'Role', { cluster: importedCluster(stack), collector: 'adot-col-prom-metrics' as any, prometheusDestinations: [] }),
      /^\[Workloads\/Role\] `prometheusDestinations` must list at least one AdotPrometheusDestination, got: \[\]/],
    ['a collector that is none (from JavaScript)', stack => AddonRole.adot(stack, 'Role', { cluster: importedCluster(stack), collector: 'adot-col-metrics' as any }),
      /^\[Workloads\/Role\] `collector` must be an AdotCollector, got: "adot-col-metrics"/],
    ['an EBS policy that is none (from JavaScript)', stack => AddonRole.ebsCsiDriver(stack, 'Role', { cluster: importedCluster(stack), managedPolicy: 'AmazonEBSCSIDriverPolicyV3' as any }),
      /^\[Workloads\/Role\] `managedPolicy` must be an EbsCsiDriverPolicy, got: "AmazonEBSCSIDriverPolicyV3"/],
    ['a Mountpoint access that is none (from JavaScript)', stack => AddonRole.mountpointS3CsiDriver(stack, 'Role', { cluster: importedCluster(stack), access: 'WRITE' as any }),
      /^\[Workloads\/Role\] `access` must be a MountpointS3Access, got: "WRITE"/],
  ])('%s', (_, define, message) => {
    expect(() => define(newStack())).toThrow(message);
  });
});

describe('what the app records, for steps that act on add-on roles', () => {
  test('the registry lists the add-on roles of a service account; the attachment, the add-on resources of a role', () => {
    // GIVEN
    const stack = newStack();
    const cluster = importedCluster(stack);
    const metrics = AddonRole.adot(stack, 'Metrics', { cluster, collector: AdotCollector.PROMETHEUS_METRICS });
    const addon = new eksv2.Addon(stack, 'Adot', { cluster, addonName: 'adot' });
    const direct = new eks.CfnAddon(stack, 'Direct', { clusterName: 'prod', addonName: 'adot', podIdentityAssociations: [metrics.podIdentityAssociation()] });
    // WHEN
    metrics.attachToAddon(addon);
    Template.fromStack(stack);
    // THEN
    expect(ServiceAccountRegistry.of(stack).addonRolesOf(cluster, 'opentelemetry-operator-system', 'adot-col-prom-metrics')).toEqual([metrics]);
    expect(ServiceAccountRegistry.of(stack).addonRolesOf(importedCluster(stack, 'staging'), 'opentelemetry-operator-system', 'adot-col-prom-metrics')).toEqual([]);
    expect(addonResourcesOf(metrics)).toEqual([addon.node.defaultChild, direct]);
    expect(addonRolesOf(direct)).toEqual([metrics]);
  });
});
