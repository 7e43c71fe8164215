/**
 * Integration test, role chaining across two accounts: two associations of a cluster in the
 * deploying account share a PodIdentityTargetRole of a second account, one with session tags and
 * one without (whose target role trust matches the external id the construct computes). Deployed
 * (`npx projen integ:deploy`), it asserts what EKS holds, including the external id EKS generated;
 * offline, integ-runner compares its synthesized templates with the snapshot.
 *
 * The second account is CDK_INTEG_TARGET_ACCOUNT (bootstrapped to trust the deploying account);
 * unset, the target role is in the deploying account, which EKS allows too.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { PodIdentityAssociation, PodIdentityTargetRole } from '../src';
import { SNAPSHOT_SYNTH, describeAssociation, testCluster } from './integ-support';

const app = new App();
// Both accounts and the region must be known at synth time: each side's policy names the other.
// A snapshot always shows two accounts, whatever CDK_INTEG_TARGET_ACCOUNT holds where it is made.
const account = process.env.CDK_INTEG_ACCOUNT ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_INTEG_REGION ?? process.env.CDK_DEFAULT_REGION;
const targetAccount = SNAPSHOT_SYNTH ? '87654321' : process.env.CDK_INTEG_TARGET_ACCOUNT ?? account;

const workloads = new Stack(app, 'RoleChainWorkloads', { env: { account, region } });
const data = new Stack(app, 'RoleChainData', { env: { account: targetAccount, region } });

// Named: the target role's trust, in the other account, names the cluster. A fixed name also means
// one run at a time per account and region.
const clusterName = 'cdk-eks-pod-identity-integ-role-chain';
const cluster = testCluster(workloads, clusterName);
// The associations take the cluster by its name, so that the target role's stack never references
// this one (with both in one account, each stack would reference the other); they depend on the
// cluster explicitly instead.
const clusterByName = eks.Cluster.fromClusterAttributes(workloads, 'ClusterByName', { clusterName });
// Its trust holds nothing but the statements of the two associations.
const reader = new PodIdentityTargetRole(data, 'Reader');

const tagged = new PodIdentityAssociation(workloads, 'Tagged', {
  cluster: clusterByName,
  namespace: 'reports',
  serviceAccount: 'tagged',
  targetRole: reader,
});
tagged.node.addDependency(cluster);
const untagged = new PodIdentityAssociation(workloads, 'Untagged', {
  cluster: clusterByName,
  namespace: 'reports',
  serviceAccount: 'untagged',
  disableSessionTags: true,
});
untagged.node.addDependency(cluster);
// The same as the `targetRole` prop.
untagged.grantTargetRole(reader);

// The EKS calls go to the cluster's account and region.
const assertions = new Stack(app, 'RoleChainAssertions', { env: { account, region } });
const integ = new IntegTest(app, 'RoleChain', {
  testCases: [workloads, data],
  assertionStack: assertions,
  // The VPC's Availability Zones are looked up in the cluster's account (placeholders in a snapshot).
  enableLookups: true,
  // The handler bundle is the code under test: a new bundle is a changed snapshot.
  diffAssets: true,
  // The snapshot names placeholder accounts, so it cannot be deployed first as an update's base.
  stackUpdateWorkflow: false,
});

describeAssociation(integ, tagged).expect(ExpectedResult.objectLike({
  association: {
    roleArn: tagged.role.roleArn,
    targetRoleArn: reader.roleArn,
  },
}));

// The external id the construct wrote into the target role's trust (`sts:ExternalId`), in the
// format the EKS User Guide documents: <region>/<account>/<cluster>/<namespace>/<service account>.
const expectedExternalId: string | undefined = untagged.targetRoleTrustPolicy!.toJSON().Statement
  .map((statement: any) => statement.Condition?.StringEquals?.['sts:ExternalId'])
  .find((value: unknown) => value !== undefined);
if (!expectedExternalId) {
  throw new Error('The target role trust of Untagged has no sts:ExternalId condition');
}

// EKS generated the same external id: its real format is the documented one. (Were they to
// differ, the handler would fail the deployment before this runs, quoting EKS's external id.)
describeAssociation(integ, untagged).expect(ExpectedResult.objectLike({
  association: {
    roleArn: untagged.role.roleArn,
    targetRoleArn: reader.roleArn,
    disableSessionTags: true,
    externalId: expectedExternalId,
  },
}));

// ...and the construct's `externalId` attribute, which the handler reads from EKS, holds it too.
integ.assertions.expect(
  'UntaggedExternalIdAttribute',
  ExpectedResult.objectLike({ externalId: expectedExternalId }),
  { result: assertions.toJsonString({ externalId: untagged.externalId }) },
);
