import { App, Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ACCOUNT, REGION, associationsOf, handoverIdOf, importedCluster, logicalIdOf, newStack, resourceOf } from './support';
import { AddonRole, AdotCollector } from '../../src';

/*
 * Attaching add-on roles to add-ons: the entry lands in the PodIdentityAssociations of the
 * AWS::EKS::Addon, whether the add-on is a CfnAddon or aws-cdk-lib's L2 Addon (aws-eks or
 * aws-eks-v2, through its L1 child), next to the entries the app set, and the add-on waits for the
 * role's policies.
 */

/** The entry of an add-on role, as in the template. */
function entryOf(addonRole: AddonRole) {
  return { RoleArn: Stack.of(addonRole).resolve(addonRole.role.roleArn), ServiceAccount: addonRole.serviceAccount };
}

function ebsAddon(scope: Construct, id = 'EbsCsiDriver', props: Partial<eks.CfnAddonProps> = {}): eks.CfnAddon {
  return new eks.CfnAddon(scope, id, { clusterName: 'prod', addonName: 'aws-ebs-csi-driver', ...props });
}

describe('a CfnAddon', () => {
  test('attachToAddon(): the role\'s entry, and the add-on waits for the role\'s policies', () => {
    // GIVEN
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Bucket');
    const addonRole = AddonRole.mountpointS3CsiDriver(stack, 'MountpointRole', { cluster: importedCluster(stack), buckets: [bucket] });
    const addon = new eks.CfnAddon(stack, 'Mountpoint', { clusterName: 'prod', addonName: 'aws-mountpoint-s3-csi-driver' });
    // WHEN
    addonRole.attachToAddon(addon);
    // THEN
    expect(associationsOf(addon)).toEqual([entryOf(addonRole)]);
    expect(resourceOf(addon).DependsOn).toEqual([logicalIdOf(addonRole.node.findChild('Policy')), handoverIdOf(stack, 'aws-mountpoint-s3-csi-driver')].sort());
  });

  test('podIdentityAssociation() in its props: the same entry, attached as by attachToAddon()', () => {
    const stack = newStack();
    const addonRole = AddonRole.vpcCni(stack, 'VpcCniRole', { cluster: importedCluster(stack) });
    const addon = new eks.CfnAddon(stack, 'VpcCni', { clusterName: 'prod', addonName: 'vpc-cni', podIdentityAssociations: [addonRole.podIdentityAssociation()] });
    new s3.Bucket(stack, 'Bucket').grantRead(addonRole);

    expect(associationsOf(addon)).toEqual([entryOf(addonRole)]);
    // attached: it waits for the grants, and it is checked
    expect(resourceOf(addon).DependsOn).toEqual([logicalIdOf(addonRole.role.node.findChild('DefaultPolicy')), handoverIdOf(stack, 'vpc-cni')].sort());
    expect(stack.resolve(addonRole.podIdentityAssociation())).toEqual({ roleArn: stack.resolve(addonRole.role.roleArn), serviceAccount: 'aws-node' });
  });

  test('podIdentityAssociation() given to another add-on is checked too', () => {
    const stack = newStack();
    const addonRole = AddonRole.vpcCni(stack, 'VpcCniRole', { cluster: importedCluster(stack) });
    ebsAddon(stack, 'Ebs', { podIdentityAssociations: [addonRole.podIdentityAssociation()] });

    expect(() => Template.fromStack(stack)).toThrow(/\[Workloads\/VpcCniRole\] This role is for the vpc-cni add-on, but it is attached to add-on Workloads\/Ebs, whose addonName is "aws-ebs-csi-driver"/);
  });

  test('the entries the app set are kept, before the role\'s; attaching twice is attaching once', () => {
    const stack = newStack();
    const addon = new eks.CfnAddon(stack, 'Adot', {
      clusterName: 'prod',
      addonName: 'adot',
      podIdentityAssociations: [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/otlp`, serviceAccount: 'adot-col-otlp-ingest' }],
    });
    const addonRole = AddonRole.adot(stack, 'Metrics', { cluster: importedCluster(stack), collector: AdotCollector.PROMETHEUS_METRICS });

    addonRole.attachToAddon(addon);
    addonRole.attachToAddon(addon);

    expect(associationsOf(addon)).toEqual([
      { RoleArn: `arn:aws:iam::${ACCOUNT}:role/otlp`, ServiceAccount: 'adot-col-otlp-ingest' },
      entryOf(addonRole),
    ]);
  });

  test('entries the app sets after attaching, by assignment or push, are merged at synthesis', () => {
    const stack = newStack();
    const addon = new eks.CfnAddon(stack, 'Adot', { clusterName: 'prod', addonName: 'adot' });
    const metrics = AddonRole.adot(stack, 'Metrics', { cluster: importedCluster(stack), collector: AdotCollector.PROMETHEUS_METRICS });
    metrics.attachToAddon(addon);

    addon.podIdentityAssociations = [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/otlp`, serviceAccount: 'adot-col-otlp-ingest' }];
    (addon.podIdentityAssociations as eks.CfnAddon.PodIdentityAssociationProperty[]).push({ roleArn: `arn:aws:iam::${ACCOUNT}:role/logs`, serviceAccount: 'adot-col-container-logs' });

    expect(associationsOf(addon)).toEqual([
      { RoleArn: `arn:aws:iam::${ACCOUNT}:role/otlp`, ServiceAccount: 'adot-col-otlp-ingest' },
      { RoleArn: `arn:aws:iam::${ACCOUNT}:role/logs`, ServiceAccount: 'adot-col-container-logs' },
      entryOf(metrics),
    ]);
  });

  test('the roles of several service accounts of one add-on (adot\'s collectors) merge', () => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    const addon = new eks.CfnAddon(stack, 'Adot', { clusterName: 'prod', addonName: 'adot' });
    const roles = [AdotCollector.PROMETHEUS_METRICS, AdotCollector.OTLP_INGEST, AdotCollector.CONTAINER_LOGS]
      .map(collector => AddonRole.adot(stack, collector, { cluster, collector }));

    roles.forEach(role => role.attachToAddon(addon));

    expect(associationsOf(addon)).toEqual(roles.map(entryOf));
  });

  test('an entry of the app with tokens is kept', () => {
    const stack = newStack();
    const otlp = new iam.Role(stack, 'Otlp', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    const addon = new eks.CfnAddon(stack, 'Adot', { clusterName: 'prod', addonName: 'adot', podIdentityAssociations: [{ roleArn: otlp.roleArn, serviceAccount: 'adot-col-otlp-ingest' }] });
    const addonRole = AddonRole.adot(stack, 'Metrics', { cluster: importedCluster(stack), collector: AdotCollector.PROMETHEUS_METRICS });
    addonRole.attachToAddon(addon);

    expect(associationsOf(addon)).toEqual([{ RoleArn: stack.resolve(otlp.roleArn), ServiceAccount: 'adot-col-otlp-ingest' }, entryOf(addonRole)]);
  });

  test('a list of entries that is a token cannot be merged: an error naming the add-on and the role', () => {
    const stack = newStack();
    const addon = ebsAddon(stack, 'Ebs', { podIdentityAssociations: Lazy.any({ produce: () => [] }) });
    const addonRole = AddonRole.ebsCsiDriver(stack, 'EbsRole', { cluster: importedCluster(stack) });

    expect(() => addonRole.attachToAddon(addon)).toThrow(/^\[Workloads\/Ebs\] `podIdentityAssociations` is a token \(\[\]\), so the entries of add-on role\(s\) Workloads\/EbsRole cannot be added to it\. Give the entries as an array/);
  });
});

describe('aws-cdk-lib\'s L2 Addon, through its L1 child', () => {
  test('aws-eks-v2 Addon on an aws-eks-v2 Cluster', () => {
    // GIVEN
    const stack = newStack();
    const cluster = new eksv2.Cluster(stack, 'Cluster', { version: eksv2.KubernetesVersion.V1_34 });
    const addonRole = AddonRole.ebsCsiDriver(stack, 'EbsCsiDriverRole', { cluster });
    const addon = new eksv2.Addon(stack, 'EbsCsiDriver', { cluster, addonName: 'aws-ebs-csi-driver' });
    // WHEN
    addonRole.attachToAddon(addon);
    // THEN
    expect(associationsOf(addon)).toEqual([entryOf(addonRole)]);
    expect(resourceOf(addon).Properties.ClusterName).toEqual({ Ref: logicalIdOf(cluster) });
  });

  test('aws-eks Addon on an aws-eks Cluster', () => {
    const stack = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_32,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:kubectl:1`),
    });
    const addonRole = AddonRole.efsCsiDriver(stack, 'EfsCsiDriverRole', { cluster });
    const addon = new eks.Addon(stack, 'EfsCsiDriver', { cluster, addonName: 'aws-efs-csi-driver' });

    addonRole.attachToAddon(addon);

    expect(associationsOf(addon)).toEqual([entryOf(addonRole)]);
  });

  test('an L2 Addon whose L1 child already has entries: they are kept', () => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    const addon = new eksv2.Addon(stack, 'Adot', { cluster, addonName: 'adot' });
    (addon.node.defaultChild as eks.CfnAddon).podIdentityAssociations = [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/otlp`, serviceAccount: 'adot-col-otlp-ingest' }];
    const metrics = AddonRole.adot(stack, 'Metrics', { cluster, collector: AdotCollector.PROMETHEUS_METRICS });

    metrics.attachToAddon(addon);

    expect(associationsOf(addon)).toEqual([{ RoleArn: `arn:aws:iam::${ACCOUNT}:role/otlp`, ServiceAccount: 'adot-col-otlp-ingest' }, entryOf(metrics)]);
  });

  test('the role in another stack of the environment: the add-on names it across stacks and waits for its stack', () => {
    const app = new App();
    const roles = newStack(app, 'Roles');
    const addons = newStack(app, 'Addons');
    const addonRole = AddonRole.vpcCni(roles, 'VpcCniRole', { cluster: importedCluster(roles) });
    const addon = new eksv2.Addon(addons, 'VpcCni', { cluster: importedCluster(addons), addonName: 'vpc-cni' });

    addonRole.attachToAddon(addon);

    const [entry] = associationsOf(addon) as Array<Record<string, unknown>>;
    expect(entry.ServiceAccount).toBe('aws-node');
    expect(JSON.stringify(entry.RoleArn)).toContain('Fn::ImportValue');
    expect(addons.dependencies).toEqual([roles]);
  });
});

describe('what attachToAddon() takes', () => {
  test.each<[string, (stack: Stack) => Construct, RegExp]>([
    ['a construct that is no add-on', stack => new s3.Bucket(stack, 'Bucket'), /^\[Workloads\/Role\] `attachToAddon\(\)` takes an aws-eks or aws-eks-v2 `Addon` of this app, or a `CfnAddon`, got: Workloads\/Bucket, which holds no AWS::EKS::Addon resource\./],
    ['an imported add-on', stack => eksv2.Addon.fromAddonAttributes(stack, 'Imported', { addonName: 'vpc-cni', clusterName: 'prod' }) as unknown as Construct, /got: Workloads\/Imported, which holds no AWS::EKS::Addon resource\. An imported add-on .* cannot be changed from this app/],
  ])('%s is an error naming it', (_, create, message) => {
    const stack = newStack();
    const addonRole = AddonRole.vpcCni(stack, 'Role', { cluster: importedCluster(stack) });
    expect(() => addonRole.attachToAddon(create(stack))).toThrow(message);
  });
});

describe('at synthesis, an attachment that EKS would refuse is an error naming the role and the add-on', () => {
  function synthError(define: (stack: Stack, role: AddonRole) => void, create = (stack: Stack) => AddonRole.ebsCsiDriver(stack, 'EbsRole', { cluster: importedCluster(stack) })): string {
    const stack = newStack();
    define(stack, create(stack));
    try {
      Template.fromStack(stack);
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  }

  test('another add-on', () => {
    expect(synthError((stack, role) => role.attachToAddon(new eks.CfnAddon(stack, 'Cni', { clusterName: 'prod', addonName: 'vpc-cni' }))))
      .toMatch(/\[Workloads\/EbsRole\] This role is for the aws-ebs-csi-driver add-on, but it is attached to add-on Workloads\/Cni, whose addonName is "vpc-cni"\. Attach it to the aws-ebs-csi-driver add-on, or create the role for vpc-cni\./);
  });

  test('another cluster', () => {
    expect(synthError((stack, role) => role.attachToAddon(ebsAddon(stack, 'Ebs', { clusterName: 'staging' }))))
      .toMatch(/\[Workloads\/EbsRole\] This role trusts the pods of cluster "prod", but add-on Workloads\/Ebs is on cluster "staging"\. Create the role with the add-on's cluster\./);
  });

  test('a version older than the add-on\'s first with Pod Identity', () => {
    expect(synthError((stack, role) => role.attachToAddon(ebsAddon(stack, 'Ebs', { addonVersion: 'v1.25.0-eksbuild.1' }))))
      .toMatch(/\[Workloads\/EbsRole\] add-on Workloads\/Ebs has addonVersion "v1\.25\.0-eksbuild\.1", older than v1\.26\.0-eksbuild\.1, the first version of aws-ebs-csi-driver that takes a Pod Identity association for ebs-csi-controller-sa; EKS would refuse it\. Use v1\.26\.0-eksbuild\.1 or later/);
  });

  test.each(['v1.26.0-eksbuild.1', 'v1.40.1-eksbuild.2', 'v2.0.0-eksbuild.1', 'latest-build'])('version %s is accepted', addonVersion => {
    expect(synthError((stack, role) => role.attachToAddon(ebsAddon(stack, 'Ebs', { addonVersion })))).toBe('');
  });

  test('Mountpoint S3, whose minimum version no source states: any version is accepted', () => {
    expect(synthError(
      (stack, role) => role.attachToAddon(new eks.CfnAddon(stack, 'S3', { clusterName: 'prod', addonName: 'aws-mountpoint-s3-csi-driver', addonVersion: 'v1.0.0-eksbuild.1' })),
      stack => AddonRole.mountpointS3CsiDriver(stack, 'S3Role', { cluster: importedCluster(stack) }),
    )).toBe('');
  });

  test('an add-on installed in another namespace than the role trusts', () => {
    expect(synthError((stack, role) => role.attachToAddon(ebsAddon(stack, 'Ebs', { namespaceConfig: { namespace: 'storage' } }))))
      .toMatch(/\[Workloads\/EbsRole\] This role trusts service account kube-system\/ebs-csi-controller-sa, but add-on Workloads\/Ebs installs into namespace "storage" \(its namespaceConfig\)\. Pass `namespace: "storage"` when creating the role\./);
  });

  test('a role for a namespace of the user\'s, on an add-on in its default namespace', () => {
    expect(synthError(
      (stack, role) => role.attachToAddon(ebsAddon(stack, 'Ebs')),
      stack => AddonRole.ebsCsiDriver(stack, 'EbsRole', { cluster: importedCluster(stack), namespace: 'storage' }),
    )).toMatch(/This role trusts service account storage\/ebs-csi-controller-sa, but add-on Workloads\/Ebs installs into namespace "kube-system"\. Pass `namespace: "kube-system"` when creating the role, or set the add-on's namespaceConfig to the role's namespace\./);
  });

  test('the same namespace in the role and the add-on\'s namespaceConfig is accepted', () => {
    expect(synthError(
      (stack, role) => role.attachToAddon(ebsAddon(stack, 'Ebs', { namespaceConfig: { namespace: 'storage' } })),
      stack => AddonRole.ebsCsiDriver(stack, 'EbsRole', { cluster: importedCluster(stack), namespace: 'storage' }),
    )).toBe('');
  });

  test('an entry of the app for the same service account', () => {
    expect(synthError((stack, role) => role.attachToAddon(ebsAddon(stack, 'Ebs', {
      podIdentityAssociations: [{ roleArn: `arn:aws:iam::${ACCOUNT}:role/ebs`, serviceAccount: 'ebs-csi-controller-sa' }],
    })))).toMatch(/\[Workloads\/EbsRole\] add-on Workloads\/Ebs already has a Pod Identity association entry for service account "ebs-csi-controller-sa" \(role "arn:aws:iam::111122223333:role\/ebs"\), and EKS takes one role per service account\. Remove that entry/);
  });

  test('tokens are not judged', () => {
    expect(synthError((stack, role) => role.attachToAddon(ebsAddon(stack, 'Ebs', {
      addonName: Lazy.string({ produce: () => 'aws-ebs-csi-driver' }),
      clusterName: Lazy.string({ produce: () => 'prod' }),
      addonVersion: Lazy.string({ produce: () => 'v1.0.0' }),
    })))).toBe('');
  });
});
