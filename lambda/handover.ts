import type { PodIdentityAssociation } from '@aws-sdk/client-eks';
import { EksAssociations, ServiceAccountRef, createAction, idempotencyToken } from './eks';
import { RequestError, answerOf, existingAssociationId, isNotFound } from './errors';
import type { OnEventRequest, OnEventResponse } from './event';
import type { Log } from './log';
import { markOf, ownerMarkOf, stackUuidOf } from './owner';
import { stateOf } from './ownership';
import { ConsistencyReason, RetriesExhaustedError } from './retry';
import type { StackState } from './stack';
import type { TransferRecord, TransferStore } from './transfers';
import { HANDOVER_PROPERTY, OWNER_TAG_KEY } from '../src/private/contract';

/** The hand-over resource's properties, parsed. */
interface DeclaredHandover {
  readonly clusterName: string;
  readonly addonName: string;
  /** `<namespace>/<service account>` of each service account the add-on takes. */
  readonly serviceAccounts: readonly string[];
}

/** How long a hand-over waits after releasing associations, for EKS's delete lag (see `waitOutDeleteLag`). */
const DELETE_LAG_WAIT_MS = 15_000;
/** Time the request keeps for its answer after the wait. */
const MIN_TIME_LEFT_MS = 5_000;

/** `<stack uuid>/handover/<cluster>/<request id>` */
const PHYSICAL_ID = /^([^/]+)\/handover\/([^/]+)\/([^/]+)$/;

/**
 * Carries out one CloudFormation request for a `Custom::EksPodIdentityHandover`, the hand-over of
 * service accounts to one EKS add-on of the stack, which depends on it. An add-on cannot take an
 * existing association over (EKS User Guide, add-ons-iam), and CloudFormation deletes a removed
 * `PodIdentityAssociation` only in cleanup, after the add-on's update, which would fail with
 * "already exists". So:
 *
 * - a Create or an Update of a forward phase releases (records, then deletes) this stack's
 *   association of each service account the add-on takes, and returns a new physical id when it
 *   released one: the rollback's Delete of that physical id then comes in the rollback cleanup,
 *   after the add-on's rollback removed its own association, and creates the released one again;
 * - an Update of a rollback (ResourceProperties: the template rolled back to) releases the
 *   association the failed deployment created for a service account the rollback gives back to
 *   the add-on (it is deleted in the cleanup anyway), before the add-on's own rollback;
 * - any other Delete makes the releases final.
 */
export class HandoverLifecycle {
  constructor(
    private readonly associations: EksAssociations,
    private readonly transfers: TransferStore,
    private readonly stack: StackState,
    private readonly log: Log,
  ) {}

  public async onEvent(event: OnEventRequest): Promise<OnEventResponse> {
    switch (event.RequestType) {
      case 'Create':
        return this.handOver(parseDeclaredHandover(event.ResourceProperties, 'ResourceProperties'), [], event);
      case 'Update': {
        const declared = parseDeclaredHandover(event.ResourceProperties, 'ResourceProperties');
        const previous = parseDeclaredHandover(event.OldResourceProperties, 'OldResourceProperties');
        const before = previous.clusterName === declared.clusterName ? previous.serviceAccounts : [];
        return this.handOver(declared, before, event);
      }
      case 'Delete':
        await this.settle(event);
        return { PhysicalResourceId: event.PhysicalResourceId ?? '' };
      default:
        throw new Error(`Unknown RequestType ${JSON.stringify(event.RequestType)} for Custom::EksPodIdentityHandover: expected Create, Update or Delete. Nothing was changed.`);
    }
  }

  /** Releases this stack's associations of the service accounts the add-on takes now (`declared`, less `before`). */
  private async handOver(declared: DeclaredHandover, before: readonly string[], event: OnEventRequest): Promise<OnEventResponse> {
    const taken = declared.serviceAccounts.filter(serviceAccount => !before.includes(serviceAccount));
    const current = PHYSICAL_ID.test(event.PhysicalResourceId ?? '') ? event.PhysicalResourceId : undefined;
    if (taken.length === 0 && current) {
      return { PhysicalResourceId: current };
    }
    const rollingBack = event.RequestType === 'Update' && taken.length > 0 && await this.stack.isRollingBack();
    const physicalResourceId = rollingBack && current ? current : `${stackUuidOf(event.StackId)}/handover/${declared.clusterName}/${event.RequestId}`;
    let released = 0;
    for (const serviceAccount of taken) {
      const [namespace, name] = serviceAccount.split('/');
      const subject = { clusterName: declared.clusterName, namespace, serviceAccount: name };
      released += await this.release(subject, declared.addonName, event, physicalResourceId, !rollingBack);
    }
    // In a rollback, the add-on takes the service accounts back right after: their associations were deleted
    // moments ago, the add-on's own included (its update dropped them), so the lag is waited out either way.
    if (released > 0 || rollingBack) {
      await this.waitOutDeleteLag();
    }
    // A new physical id only when something was released: its rollback Delete restores it.
    return { PhysicalResourceId: released > 0 || !current ? physicalResourceId : current };
  }

  /**
   * Releases this stack's association of one service account, recording it first when a rollback
   * may have to restore it; fails on anyone else's association. Returns how many it released.
   */
  private async release(
    subject: ServiceAccountRef, addonName: string, event: OnEventRequest, physicalResourceId: string, record: boolean,
  ): Promise<number> {
    const stackUuid = stackUuidOf(event.StackId);
    const service = `"${subject.namespace}/${subject.serviceAccount}"`;
    const summaries = await this.associations.list(subject, `find the association of service account ${service} in EKS cluster "${subject.clusterName}" before the add-on ${addonName} takes it`);
    let released = 0;
    for (const summary of summaries) {
      let existing: PodIdentityAssociation;
      try {
        existing = await this.associations.describe({ clusterName: subject.clusterName, associationId: summary.associationId! }, subject);
      } catch (error) {
        if (isNotFound(error)) {
          continue;
        }
        throw error;
      }
      if (existing.ownerArn) {
        // An add-on's own association: the add-on's update replaces or keeps it.
        continue;
      }
      if (!markOf(existing.tags)?.startsWith(`${stackUuid}/`)) {
        throw new RequestError({ action: `hand service account ${service} of EKS cluster "${subject.clusterName}" over to the add-on ${addonName}`, clusterName: subject.clusterName },
          new Error(`association ${existing.associationId} holds it, and this stack did not create it (owner: ${ownerMarkOf(existing.tags)})`),
          `An add-on cannot take an existing association over, and this library releases only associations of its own stack. Delete it (aws eks delete-pod-identity-association --cluster-name ${subject.clusterName} --association-id ${existing.associationId}) and deploy again; if another stack declares it, remove it from that stack first.`);
      }
      if (record) {
        const earlier = await this.transfers.read(existing.associationId!);
        if (earlier?.requestId !== event.RequestId) {
          await this.transfers.write({
            version: 1,
            associationArn: existing.associationArn!,
            requestId: event.RequestId,
            recordedAt: new Date().toISOString(),
            to: { logicalResourceId: event.LogicalResourceId, ownerMark: '' },
            from: stateOf(existing),
            released: { ...subject, physicalResourceId },
          });
        }
      }
      try {
        await this.associations.delete({ clusterName: subject.clusterName, associationId: existing.associationId! }, subject);
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
      }
      released++;
      this.log('released-for-addon', { associationId: existing.associationId, addonName, owner: ownerMarkOf(existing.tags), recorded: record });
    }
    return released;
  }

  /**
   * EKS refuses a new association of a service account whose association was deleted moments
   * before, for a second or more (aws-controllers-k8s/community#2684), and no call tells when that
   * is over without creating one. The add-on's create or update, which comes next and which
   * CloudFormation does not retry, would meet it: the hand-over waits first.
   */
  private async waitOutDeleteLag(): Promise<void> {
    const wait = Math.min(DELETE_LAG_WAIT_MS, this.associations.calls.deadline.remainingMs() - MIN_TIME_LEFT_MS);
    if (wait > 0) {
      this.log('wait', { reason: 'association-delete-lag', ms: wait });
      await new Promise(resolve => setTimeout(resolve, wait));
    }
  }

  /** A rollback creates the released association again; any other Delete makes the release final. */
  private async settle(event: OnEventRequest): Promise<void> {
    const match = PHYSICAL_ID.exec(event.PhysicalResourceId ?? '');
    if (!match) {
      this.log('left-alone', { reason: 'physical id is not a hand-over resource\'s' });
      return;
    }
    const { records } = await this.transfers.all();
    const released = records.filter(record => record.released?.physicalResourceId === event.PhysicalResourceId);
    if (released.length === 0) {
      return;
    }
    const rollingBack = await this.stack.isRollingBack();
    for (const record of released) {
      if (rollingBack) {
        await this.restore(record, event.RequestId);
      } else {
        this.log('release-final', { associationArn: record.associationArn });
      }
      await this.transfers.removeRecord(record);
    }
  }

  /**
   * Creates a released association again, as recorded (configuration, tags, owner mark). The
   * add-on's rollback removes the add-on's own association of the service account some time before
   * (asynchronously), and EKS blocks a deleted association's service account for a while: both are
   * waited out. A redelivery finds the association it created.
   */
  public async restore(record: TransferRecord, requestId: string): Promise<void> {
    const subject = record.released!;
    const tags = record.from.ownerMark ? { ...record.from.tags, [OWNER_TAG_KEY]: record.from.ownerMark } : { ...record.from.tags };
    const declared = { ...subject, ...record.from };
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const created = await this.associations.create(declared, tags, idempotencyToken(requestId, `restore ${record.associationArn}`));
        this.log('restored', { associationId: created.associationId, was: record.associationArn });
        return;
      } catch (error) {
        const holder = existingAssociationId(error);
        if (!holder) {
          throw error;
        }
        let existing: PodIdentityAssociation | undefined;
        try {
          existing = await this.associations.describe({ clusterName: subject.clusterName, associationId: holder }, subject);
        } catch (describeError) {
          if (!isNotFound(describeError)) {
            throw describeError;
          }
        }
        if (existing && !existing.ownerArn && markOf(existing.tags) === record.from.ownerMark) {
          this.log('restored', { associationId: holder, was: record.associationArn });
          return;
        }
        if (existing && !existing.ownerArn) {
          throw new RequestError(createAction(declared), answerOf(error),
            `Association ${holder} (owner: ${ownerMarkOf(existing.tags)}) took the service account while it was handed over, so the association ${record.associationArn} released for the add-on could not be restored. Delete that association and deploy again.`);
        }
        await this.wait(existing ? 'addon-association-being-released' : 'association-being-deleted', attempt, error as Error, started, declared);
      }
    }
  }

  private async wait(
    reason: ConsistencyReason, attempt: number, answer: Error, started: number, declared: Parameters<typeof createAction>[0],
  ): Promise<void> {
    try {
      await this.associations.calls.retrier.pause('CreatePodIdentityAssociation', reason, attempt, answerOf(answer) as Error, started);
    } catch (error) {
      if (error instanceof RetriesExhaustedError) {
        throw new RequestError(createAction(declared), error,
          `The service account stayed taken for ${Math.round(error.waitedMs / 1000)} s (${reason}). Retry the deployment; check the service account's associations with \`aws eks list-pod-identity-associations\`.`);
      }
      throw error;
    }
  }
}

function parseDeclaredHandover(raw: unknown, which: 'ResourceProperties' | 'OldResourceProperties'): DeclaredHandover {
  const props = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const fail = (name: string, expected: string) => new Error(
    `Invalid ${which} for Custom::EksPodIdentityHandover: ${name} must be ${expected}, got: ${JSON.stringify(props[name]) ?? 'nothing'}. Nothing was sent to EKS. ` +
    'These properties are written by the library for an add-on with add-on roles; if the template was edited by hand, restore what the construct synthesizes.');
  const required = (name: string): string => {
    const value = props[name];
    if (typeof value !== 'string' || value.length === 0) {
      throw fail(name, 'a non-empty string');
    }
    return value;
  };
  const serviceAccounts = props[HANDOVER_PROPERTY.serviceAccounts] ?? [];
  if (!Array.isArray(serviceAccounts) || !serviceAccounts.every(sa => typeof sa === 'string' && /^[^/]+\/[^/]+$/.test(sa))) {
    throw fail(HANDOVER_PROPERTY.serviceAccounts, 'a list of "<namespace>/<service account>"');
  }
  return {
    clusterName: required(HANDOVER_PROPERTY.clusterName),
    addonName: required(HANDOVER_PROPERTY.addonName),
    serviceAccounts,
  };
}
