import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsNodeTerminationHandlerPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * AWS Node Termination Handler v1.25.6, pkg/monitor/sqsevent/sqs-monitor.go: it receives the
 * queue's messages, describes the instance (getNodeInfo) and its Auto Scaling group, completes the
 * group's lifecycle hook once the node is drained, and deletes the message.
 */
export const awsNodeTerminationHandler: Scenario = {
  name: 'AwsNodeTerminationHandlerPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const queue = arnOf('sqs', REGION, account, 'nth-events');
    const group = arnOf('autoscaling', REGION, account, 'autoScalingGroup:0a1b2c3d-1111-2222-3333-444455556666:autoScalingGroupName/workers');
    return {
      permissions: new AwsNodeTerminationHandlerPermissions({ queue: sqs.Queue.fromQueueArn(landing, 'Events', queue) }),
      allowed: [
        { action: 'sqs:ReceiveMessage', resource: queue },
        { action: 'ec2:DescribeInstances', resource: '*' },
        { action: 'autoscaling:DescribeAutoScalingInstances', resource: '*' },
        { action: 'autoscaling:DescribeTags', resource: '*' },
        { action: 'autoscaling:CompleteLifecycleAction', resource: group },
        { action: 'sqs:DeleteMessage', resource: queue },
      ],
      denied: [
        { action: 'sqs:ReceiveMessage', resource: arnOf('sqs', REGION, account, 'orders') },
        { action: 'sqs:SendMessage', resource: queue },
        { action: 'autoscaling:SetDesiredCapacity', resource: group },
      ],
    };
  },
};
