import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import { ACCOUNT, importedCluster, logicalIdOf, newStack } from './support';
import { AddonRole, PodIdentityAssociation } from '../../src';
import { HANDOVER_RESOURCE_TYPE } from '../../src/private/contract';

/*
 * Handing a service account over to an EKS add-on, and back, in one deployment: the add-on waits
 * for a hand-over resource that frees the service account of this stack's association first, and
 * an association waits for the add-ons of its cluster that take Pod Identity associations.
 */

function handovers(stack: Stack): Record<string, any> {
  return Template.fromStack(stack).findResources(HANDOVER_RESOURCE_TYPE);
}

test('an add-on role attached to an add-on gives the add-on a hand-over of its service account to wait for', () => {
  // GIVEN
  const stack = newStack();
  const cluster = importedCluster(stack);
  const addon = new eks.CfnAddon(stack, 'EbsCsiDriver', { clusterName: 'prod', addonName: 'aws-ebs-csi-driver' });

  // WHEN
  AddonRole.ebsCsiDriver(stack, 'EbsCsiRole', { cluster }).attachToAddon(addon);

  // THEN
  const found = handovers(stack);
  expect(Object.values(found)).toEqual([expect.objectContaining({
    Properties: expect.objectContaining({
      ClusterName: 'prod',
      AddonName: 'aws-ebs-csi-driver',
      ServiceAccounts: ['kube-system/ebs-csi-controller-sa'],
      ServiceTimeout: '900',
    }),
    DependsOn: [expect.stringMatching(/^PodIdentityAssociationProviderTransfers/)],
  })]);
  const addonResource = Template.fromStack(stack).toJSON().Resources[logicalIdOf(addon)];
  expect(addonResource.DependsOn).toEqual(expect.arrayContaining(Object.keys(found)));
});

test('each add-on gets one hand-over, for the service accounts of its roles; attaching a role twice counts once', () => {
  const stack = newStack();
  const cluster = importedCluster(stack);
  const ebs = new eks.CfnAddon(stack, 'EbsCsiDriver', { clusterName: 'prod', addonName: 'aws-ebs-csi-driver' });
  const cni = new eks.CfnAddon(stack, 'VpcCni', { clusterName: 'prod', addonName: 'vpc-cni' });
  const ebsRole = AddonRole.ebsCsiDriver(stack, 'EbsCsiRole', { cluster });

  ebsRole.attachToAddon(ebs);
  ebsRole.attachToAddon(ebs);
  AddonRole.vpcCni(stack, 'VpcCniRole', { cluster }).attachToAddon(cni);

  expect(Object.values(handovers(stack)).map(h => h.Properties.ServiceAccounts).sort()).toEqual([['kube-system/aws-node'], ['kube-system/ebs-csi-controller-sa']]);
});

test('an add-on that takes Pod Identity associations gets a hand-over in a stack with associations even without roles: it may take a service account back in a rollback', () => {
  const stack = newStack();
  const cluster = importedCluster(stack);
  const ebs = new eks.CfnAddon(stack, 'EbsCsiDriver', { clusterName: 'prod', addonName: 'aws-ebs-csi-driver' });
  new PodIdentityAssociation(stack, 'Ebs', { cluster, namespace: 'kube-system', serviceAccount: 'ebs-csi-controller-sa' });

  const found = handovers(stack);
  expect(Object.values(found).map(h => h.Properties.ServiceAccounts)).toEqual([[]]);
  expect(Template.fromStack(stack).toJSON().Resources[logicalIdOf(ebs)].DependsOn).toEqual(Object.keys(found));
});

test('an association waits for the add-ons of its cluster that take Pod Identity associations, and only those', () => {
  // GIVEN an add-on of the catalog and one that takes no Pod Identity association, on the association's cluster, and one on another cluster
  const stack = newStack();
  const cluster = importedCluster(stack);
  const ebs = new eks.CfnAddon(stack, 'EbsCsiDriver', { clusterName: 'prod', addonName: 'aws-ebs-csi-driver' });
  const coredns = new eks.CfnAddon(stack, 'CoreDns', { clusterName: 'prod', addonName: 'coredns' });
  const elsewhere = new eks.CfnAddon(stack, 'OtherEbs', { clusterName: 'staging', addonName: 'aws-ebs-csi-driver' });

  // WHEN
  const association = new PodIdentityAssociation(stack, 'Ebs', { cluster, namespace: 'kube-system', serviceAccount: 'ebs-csi-controller-sa' });

  // THEN
  const dependsOn: string[] = Template.fromStack(stack).toJSON().Resources[logicalIdOf(association)].DependsOn;
  expect(dependsOn).toContain(logicalIdOf(ebs));
  expect(dependsOn).not.toContain(logicalIdOf(coredns));
  expect(dependsOn).not.toContain(logicalIdOf(elsewhere));
});

test('an add-on role in a stack without associations brings that stack the provider its hand-over needs', () => {
  const app = new App();
  const addons = newStack(app, 'Addons', ACCOUNT);
  const cluster = importedCluster(addons);
  const addon = new eks.CfnAddon(addons, 'EbsCsiDriver', { clusterName: 'prod', addonName: 'aws-ebs-csi-driver' });

  AddonRole.ebsCsiDriver(addons, 'EbsCsiRole', { cluster }).attachToAddon(addon);

  expect(Object.keys(handovers(addons))).toHaveLength(1);
  expect(addons.node.tryFindChild('PodIdentityAssociationProvider')).toBeDefined();
});
