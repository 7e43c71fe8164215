import type { AgentLifecycle } from './agent';
import type { AgentRecords } from './agent-records';
import type { OnEventRequest, OnEventResponse, StackStatusChangeEvent } from './event';
import type { HandoverLifecycle } from './handover';
import type { Log } from './log';
import type { Ownership } from './ownership';
import type { StackState } from './stack';
import type { TransferRecord, TransferStore } from './transfers';

/** Records settled at once: each takes a few calls, and EKS and SSM throttle bursts. */
const CONCURRENCY = 4;

/**
 * The `Custom::EksPodIdentityTransfers` resource of a stack. Its physical id changes whenever an
 * association is added, moved or changes service account, so CloudFormation deletes the previous
 * one after the associations (which depend on it): in the cleanup of a deployment that completed,
 * in the cleanup of a rollback, or when the stack is deleted. That Delete settles every transfer
 * record of the stack (`Ownership.settle`) and removes any stray parameter, so nothing is left in
 * Parameter Store once a deployment is over.
 */
export class TransferSettlement {
  constructor(
    private readonly ownership: Ownership,
    private readonly transfers: TransferStore,
    private readonly log: Log,
    /** The stack's agent resources and their records of changes to an agent add-on, settled the same way. */
    private readonly agents?: { readonly lifecycle: AgentLifecycle; readonly records: AgentRecords },
    /** Restores associations released for an add-on whose hand-over did not hold. */
    private readonly handovers?: { readonly handover: HandoverLifecycle; readonly stack: StackState },
  ) {}

  public async onEvent(event: OnEventRequest): Promise<OnEventResponse> {
    switch (event.RequestType) {
      case 'Create':
      case 'Update':
        // A new physical id on every change: CloudFormation then deletes the previous one at the end of the deployment.
        return { PhysicalResourceId: `${event.StackId.slice(event.StackId.lastIndexOf('/') + 1)}/transfers/${event.RequestId}` };
      case 'Delete':
        await this.settleAll(event.RequestId);
        return { PhysicalResourceId: event.PhysicalResourceId ?? '' };
      default:
        throw new Error(`Unknown RequestType ${JSON.stringify(event.RequestType)} for Custom::EksPodIdentityTransfers: expected Create, Update or Delete. Nothing was changed.`);
    }
  }

  /**
   * After a stack operation has completed (EventBridge delivers its status change): makes final the
   * transfers recorded before it ended whose new owner holds the association. This covers the
   * takeovers of a stack's creation, which has no cleanup phase.
   */
  public async onStackOperationEnded(event: StackStatusChangeEvent): Promise<void> {
    const endedAt = new Date(event.time).toISOString();
    const { records } = await this.transfers.all();
    const ended = records.filter(record => record.recordedAt < endedAt);
    this.log('finalize', { status: event.detail['status-details'].status, records: ended.length, later: records.length - ended.length });
    for (const transfer of ended) {
      if (transfer.released) {
        // Final once its hand-over resource holds it; otherwise the hand-over's rollback, or a settlement, restores it.
        if (this.handovers && await this.handovers.stack.holds(transfer.to.logicalResourceId, transfer.released.physicalResourceId)) {
          await this.transfers.removeRecord(transfer);
        }
        continue;
      }
      await this.ownership.finalize(transfer);
    }
    if (this.agents) {
      for (const record of (await this.agents.records.all()).filter(r => r.recordedAt < endedAt)) {
        await this.agents.lifecycle.settle(record, '', false);
      }
    }
  }

  /** A release is final when its hand-over resource holds it; otherwise the association is restored. */
  private async settleReleased(transfer: TransferRecord, requestId: string): Promise<void> {
    if (this.handovers && !await this.handovers.stack.holds(transfer.to.logicalResourceId, transfer.released!.physicalResourceId)) {
      await this.handovers.handover.restore(transfer, requestId);
    }
    await this.transfers.removeRecord(transfer);
  }

  private async settleAll(requestId: string): Promise<void> {
    const { records, strayNames } = await this.transfers.all();
    this.log('settle', { records: records.length, strayParameters: strayNames.length });
    const failures: string[] = [];
    const queue = [...records];
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
      for (let transfer = queue.shift(); transfer; transfer = queue.shift()) {
        try {
          if (transfer.released) {
            await this.settleReleased(transfer, requestId);
          } else {
            await this.ownership.settle(transfer, requestId);
          }
        } catch (error) {
          failures.push(`${transfer.associationArn}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }));
    await this.transfers.removeNames(strayNames);
    const agentRecords = this.agents ? await this.agents.records.all() : [];
    for (const record of agentRecords) {
      try {
        await this.agents!.lifecycle.settle(record, requestId, true);
      } catch (error) {
        failures.push(`agent of EKS cluster ${record.clusterName}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (failures.length > 0) {
      throw new Error(
        `Could not settle ${failures.length} of ${records.length + agentRecords.length} records of this stack (ownership transfers: ${records.length}, agent changes: ${agentRecords.length}); `
        + `their records stay in SSM Parameter Store and the next deployment of the stack settles them again. ${failures.join(' | ')}`,
      );
    }
  }
}
