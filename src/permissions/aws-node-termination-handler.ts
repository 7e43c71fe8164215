import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, keyOf, keyStatement } from './private/statements';

/**
 * Properties of `AwsNodeTerminationHandlerPermissions`.
 */
export interface AwsNodeTerminationHandlerPermissionsProps {
  /**
   * The SQS queue the handler reads in Queue Processor mode (the chart's `queueURL`), to which
   * EventBridge rules and Auto Scaling lifecycle hooks send events. Karpenter users need no Node
   * Termination Handler: Karpenter handles interruptions itself. In IMDS mode the handler calls no
   * AWS API and needs no association.
   */
  readonly queue: sqs.IQueue;
}

/**
 * The permissions of AWS Node Termination Handler in Queue Processor mode.
 *
 * Follows the policy of aws/aws-node-termination-handler `README.md` ("Create an IAM Role for the
 * Pods") at v1.25.6: `sqs:ReceiveMessage` and `sqs:DeleteMessage` on the queue you name, where
 * upstream grants every queue (and `kms:Decrypt` on its key when the queue has a KMS key of this
 * app); `autoscaling:CompleteLifecycleAction`, `autoscaling:DescribeAutoScalingInstances`,
 * `autoscaling:DescribeTags` and `ec2:DescribeInstances` on `*`, as upstream: the lifecycle hooks
 * belong to whichever Auto Scaling group sent the event to the queue. Namespace `kube-system` and
 * service account `aws-node-termination-handler`: the chart `config/helm/aws-node-termination-handler`
 * (0.27.6) at v1.25.6, release `aws-node-termination-handler`, as the README installs it.
 */
export class AwsNodeTerminationHandlerPermissions extends ControllerPermissions {
  private readonly props: AwsNodeTerminationHandlerPermissionsProps;

  public constructor(props: AwsNodeTerminationHandlerPermissionsProps) {
    super({
      controllerName: 'AWS Node Termination Handler',
      defaultNamespace: 'kube-system',
      defaultServiceAccount: 'aws-node-termination-handler',
      upstream: { source: 'aws/aws-node-termination-handler README.md', version: 'v1.25.6' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(): ControllerStatement[] {
    const { queue } = this.props;
    return [
      {
        actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeTags', 'ec2:DescribeInstances'],
        resources: ['*'],
        wildcardReason: 'Describe actions take no resource; the lifecycle hooks completed are those of the Auto Scaling groups whose events reach the queue.',
      },
      { actions: ['sqs:DeleteMessage', 'sqs:ReceiveMessage'], resources: [queue.queueArn] },
      ...keyStatement([keyOf(queue)], ['kms:Decrypt']),
    ];
  }
}
