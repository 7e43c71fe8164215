import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import type { Calls } from './calls';
import { RequestError, answerOf } from './errors';

/**
 * Stack statuses in which CloudFormation undoes a deployment (the CloudFormation User Guide's stack
 * status codes): its Deletes remove what the failed deployment created, its Updates restore the
 * previous properties.
 */
const ROLLBACK_STATUSES = new Set([
  'ROLLBACK_IN_PROGRESS',
  'UPDATE_ROLLBACK_IN_PROGRESS',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
  'IMPORT_ROLLBACK_IN_PROGRESS',
]);
/** Statuses in which CloudFormation carries a deployment or a stack deletion forward. */
const FORWARD_STATUSES = new Set([
  'CREATE_IN_PROGRESS',
  'UPDATE_IN_PROGRESS',
  'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  'DELETE_IN_PROGRESS',
  'IMPORT_IN_PROGRESS',
  'REVIEW_IN_PROGRESS',
]);
/** Resource statuses of a resource that does not hold its physical resource (any more, or yet). */
const NOT_HOLDING = new Set(['CREATE_FAILED', 'DELETE_IN_PROGRESS', 'DELETE_COMPLETE', 'DELETE_FAILED']);
/** CloudFormation's answer for a resource that is not in the stack (DescribeStackResource API reference). */
const NO_SUCH_RESOURCE = /does not exist/i;

/** The stack a request belongs to, as CloudFormation describes it at this moment. */
export class StackState {
  constructor(private readonly client: () => CloudFormationClient, private readonly calls: Calls, private readonly stackId: string) {}

  private get cloudformation(): CloudFormationClient {
    return this.client();
  }

  /** True when the stack is rolling back a deployment; throws for a status no request should arrive in. */
  public async isRollingBack(): Promise<boolean> {
    const status = await this.status();
    if (ROLLBACK_STATUSES.has(status)) {
      return true;
    }
    if (FORWARD_STATUSES.has(status)) {
      return false;
    }
    throw new Error(
      `Could not tell whether stack ${this.stackId} is rolling back: CloudFormation reports status ${status}, in which it sends no requests to custom resources. ` +
      'Nothing was changed; retry the operation once the stack is in progress again, and report this message if it persists.',
    );
  }

  /**
   * True when the stack's resource `logicalResourceId` holds `physicalResourceId`: it is in the
   * stack with that physical id, neither failed to create nor being deleted. A retained resource
   * (DELETE_SKIPPED) still holds it.
   */
  public async holds(logicalResourceId: string, physicalResourceId: string): Promise<boolean> {
    return (await this.heldBy(logicalResourceId)) === physicalResourceId;
  }

  /**
   * The physical id the stack's resource `logicalResourceId` holds: undefined when it is not in the
   * stack, failed to create, or is being deleted.
   */
  public async heldBy(logicalResourceId: string): Promise<string | undefined> {
    try {
      const { StackResourceDetail: detail } = await this.calls.send({
        service: 'CloudFormation',
        action: `read resource ${logicalResourceId} of stack ${this.stackId}`,
      }, 'DescribeStackResource', options => this.cloudformation.send(new DescribeStackResourceCommand({
        StackName: this.stackId,
        LogicalResourceId: logicalResourceId,
      }), options), { fields: { logicalResourceId } });
      return detail?.PhysicalResourceId && !NOT_HOLDING.has(detail.ResourceStatus ?? '') ? detail.PhysicalResourceId : undefined;
    } catch (error) {
      const answer = answerOf(error);
      if (answer instanceof Error && answer.name === 'ValidationError' && NO_SUCH_RESOURCE.test(answer.message)) {
        return undefined;
      }
      throw error;
    }
  }

  /** The logical id of the stack's resource of `resourceType` whose physical id is `physicalResourceId`, if there is one. */
  public async resourceWithPhysicalId(resourceType: string, physicalResourceId: string): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      // ListStackResources pages through every resource (DescribeStackResources stops at 100: its API reference).
      const page = await this.calls.send({
        service: 'CloudFormation',
        action: `list the resources of stack ${this.stackId}`,
      }, 'ListStackResources', options => this.cloudformation.send(new ListStackResourcesCommand({ StackName: this.stackId, NextToken: nextToken }), options));
      const found = page.StackResourceSummaries?.find(r => r.ResourceType === resourceType && r.PhysicalResourceId === physicalResourceId && !NOT_HOLDING.has(r.ResourceStatus ?? ''));
      if (found) {
        return found.LogicalResourceId;
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  }

  private async status(): Promise<string> {
    const { Stacks: stacks = [] } = await this.calls.send({
      service: 'CloudFormation',
      action: `read the status of stack ${this.stackId}`,
    }, 'DescribeStacks', options => this.cloudformation.send(new DescribeStacksCommand({ StackName: this.stackId }), options));
    const status = stacks[0]?.StackStatus;
    if (!status) {
      throw new RequestError({ service: 'CloudFormation', action: `read the status of stack ${this.stackId}` },
        new Error('CloudFormation described no stack'));
    }
    return status;
  }
}
