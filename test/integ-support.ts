/**
 * What the integration tests (test/integ.*.ts) share. Not a test itself: integ-runner runs only
 * files named integ.*.ts, and jest only *.test.ts.
 */
import { IApiCall, IntegTest } from '@aws-cdk/integ-tests-alpha';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { PodIdentityAssociation } from '../src';

/**
 * Whether integ-runner is synthesizing for a snapshot. It then sets CDK_INTEG_ACCOUNT (12345678) and
 * CDK_INTEG_REGION (test-region), so that a snapshot never depends on who runs it; when it deploys
 * or destroys it sets neither, and the CDK toolkit sets CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION
 * from the credentials. Anything read from the environment must be ignored while this is true.
 */
export const SNAPSHOT_SYNTH = process.env.CDK_INTEG_ACCOUNT !== undefined;

/**
 * The smallest EKS cluster that can hold Pod Identity associations. Associations are control-plane
 * objects: EKS stores them whether or not a node could ever run a pod, so the cluster has no nodes
 * (no node group, no Auto Mode), no add-ons, and a VPC of two isolated subnets (EKS places its
 * control-plane network interfaces in two Availability Zones) with no NAT or internet gateway.
 * The EKS control plane is billed by the hour while it exists.
 *
 * @param clusterName an explicit name, needed when a role in another account must trust the cluster
 */
export function testCluster(scope: Construct, clusterName?: string): eks.Cluster {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'ControlPlane', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    // Nothing runs in this VPC: no custom resource to lock its default security group down.
    restrictDefaultSecurityGroup: false,
  });
  return new eks.Cluster(scope, 'Cluster', {
    clusterName,
    // In standard support until late 2026; a version in extended support costs six times as much per hour.
    version: eks.KubernetesVersion.V1_34,
    vpc,
    vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
    defaultCapacity: 0,
    bootstrapSelfManagedAddons: false,
    outputConfigCommand: false,
  });
}

/**
 * `DescribePodIdentityAssociation` of the association, by the cluster name and association id
 * the construct exposes: what EKS really holds, to `expect()` on (`{ association: { ... } }`).
 */
export function describeAssociation(integ: IntegTest, association: PodIdentityAssociation): IApiCall {
  return integ.assertions.awsApiCall('EKS', 'DescribePodIdentityAssociation', {
    clusterName: association.clusterName,
    associationId: association.associationId,
  });
}
