import { ClusterAutoscalerPermissions } from '../../../src';
import { arnOf, CLUSTER_ACCOUNT, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * Cluster Autoscaler 1.36.1, cloudprovider/aws/aws_wrapper.go and auto_scaling_groups.go: with
 * --node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/prod
 * it describes the groups with those tags, their instances, launch templates and instance types,
 * the EKS node group of a group at zero; scales with SetDesiredCapacity, and removes a node with
 * TerminateInstanceInAutoScalingGroup.
 */
export const clusterAutoscaler: Scenario = {
  name: 'ClusterAutoscalerPermissions',
  build: ({ cluster, account }): ScenarioBuild => {
    const group = arnOf('autoscaling', REGION, account, 'autoScalingGroup:0a1b2c3d-1111-2222-3333-444455556666:autoScalingGroupName/eks-workers-0a1b2c3d');
    const discovered = { 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true', 'aws:ResourceTag/k8s.io/cluster-autoscaler/prod': 'owned' };
    return {
      permissions: new ClusterAutoscalerPermissions({ cluster }),
      allowed: [
        { action: 'autoscaling:DescribeAutoScalingGroups', resource: '*' },
        { action: 'autoscaling:DescribeAutoScalingInstances', resource: '*' },
        { action: 'autoscaling:DescribeScalingActivities', resource: '*' },
        { action: 'ec2:DescribeLaunchTemplateVersions', resource: '*' },
        { action: 'ec2:DescribeInstanceTypes', resource: '*' },
        { action: 'ec2:GetInstanceTypesFromInstanceRequirements', resource: '*' },
        { action: 'eks:DescribeNodegroup', resource: arnOf('eks', REGION, CLUSTER_ACCOUNT, 'nodegroup/prod/workers/0a1b2c3d-1111-2222-3333-444455556666') },
        { action: 'autoscaling:SetDesiredCapacity', resource: group, context: discovered },
        { action: 'autoscaling:TerminateInstanceInAutoScalingGroup', resource: group, context: discovered },
      ],
      denied: [
        { action: 'autoscaling:SetDesiredCapacity', resource: group, context: { 'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true', 'aws:ResourceTag/k8s.io/cluster-autoscaler/staging': 'owned' } },
        { action: 'autoscaling:TerminateInstanceInAutoScalingGroup', resource: group },
        { action: 'autoscaling:UpdateAutoScalingGroup', resource: group, context: discovered },
        { action: 'eks:DescribeNodegroup', resource: arnOf('eks', REGION, CLUSTER_ACCOUNT, 'nodegroup/staging/workers/0a1b2c3d-1111-2222-3333-444455556666') },
      ],
    };
  },
};
