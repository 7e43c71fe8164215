import type { PodIdentityAssociation } from '@aws-sdk/client-eks';
import { EksAssociations, ServiceAccountRef, changesBetween, configurationOf, createAction, idempotencyToken } from './eks';
import { RequestError, isNotFound } from './errors';
import type { Log } from './log';
import { Owner, markOf, ownerMarkOf, userTagsOf } from './owner';
import type { DeclaredAssociation } from './properties';
import type { StackState } from './stack';
import { AssociationState, TransferRecord, TransferStore, associationIdOf } from './transfers';
import { AssociationArnParts, OWNER_TAG_KEY, parseAssociationArn } from '../src/private/contract';

/** An association taken over, and the record of what it was. */
export interface TakeOver {
  readonly association: PodIdentityAssociation;
  readonly transfer: TransferRecord;
}

/** What an association is now, in the terms of a transfer record. */
export function stateOf(association: PodIdentityAssociation): AssociationState {
  return { ...configurationOf(association), ownerMark: markOf(association.tags), tags: userTagsOf(association.tags) };
}

/**
 * Ownership of associations across CloudFormation's phases.
 *
 * - A takeover first records what the association was (`TransferRecord`), then marks it with its
 *   new owner and brings it to the new owner's configuration.
 * - A Delete in a rollback gives an association its resource took over back, as the record says;
 *   any other Delete removes only what its resource owns.
 * - A transfer is final once CloudFormation deletes the previous owner, or once the deployment has
 *   completed (the transfers resource settles every record then, see `settle`).
 */
export class Ownership {
  constructor(
    private readonly associations: EksAssociations,
    private readonly transfers: TransferStore,
    private readonly stack: StackState,
    private readonly log: Log,
  ) {}

  /**
   * Takes `existing`, which holds the declared service account, over for `owner`, when this stack
   * owns it or the user opted in with `adoptExisting`. A redelivery of the same request keeps the
   * record it wrote. If a step fails, the association is given back before the error is thrown.
   */
  public async takeOver(existing: PodIdentityAssociation, declared: DeclaredAssociation, owner: Owner, requestId: string): Promise<TakeOver> {
    const service = `${declared.namespace}/${declared.serviceAccount}`;
    const id = existing.associationId!;
    const conflict = new Error(`association ${id} already holds service account "${service}", and EKS allows one association per service account`);
    if (existing.ownerArn) {
      throw new RequestError(createAction(declared), conflict,
        `It belongs to the EKS add-on ${existing.ownerArn}, and this library never modifies or deletes an add-on's association. ` +
        'Configure the role through the add-on\'s podIdentityAssociations, or use another service account.');
    }
    const sameStack = owner.sameStackAs(existing.tags);
    if (!sameStack && !declared.adoptExisting) {
      throw new RequestError(createAction(declared), conflict,
        `This stack did not create it (owner: ${ownerMarkOf(existing.tags)}). ` +
        `Either delete it (aws eks delete-pod-identity-association --cluster-name ${declared.clusterName} --association-id ${id}) and deploy again, ` +
        'or set `adoptExisting: true` on this PodIdentityAssociation to take it over: it is then updated to this configuration and deleted with this stack; a deployment that fails gives it back as it was.');
    }
    const current = parseAssociationArn(existing.associationArn!)!;
    let transfer = await this.transfers.read(id);
    if (transfer?.requestId !== requestId) {
      transfer = {
        version: 1,
        associationArn: current.arn,
        requestId,
        recordedAt: new Date().toISOString(),
        to: { logicalResourceId: owner.logicalResourceId, ownerMark: owner.mark },
        from: await this.previousState(existing, transfer),
      };
      await this.transfers.write(transfer);
    }
    this.log('take-over', { associationId: id, previousOwner: ownerMarkOf(existing.tags), because: sameStack ? 'owned by this stack' : 'adoptExisting' });
    try {
      const wanted: AssociationState = { ...declared, ownerMark: owner.mark };
      const association = await this.bringTo(current, existing, wanted, declared, 'mark-first', idempotencyToken(requestId, 'take-over'));
      return { association, transfer };
    } catch (error) {
      await this.undo(transfer, requestId);
      throw error;
    }
  }

  /**
   * What a takeover must be able to restore: the association as it is, unless an earlier takeover
   * of it was never settled (its new owner does not hold it, and it still carries that owner's
   * mark): then what that earlier record says it was.
   */
  private async previousState(existing: PodIdentityAssociation, earlier: TransferRecord | undefined): Promise<AssociationState> {
    if (earlier && markOf(existing.tags) === earlier.to.ownerMark && !await this.stack.holds(earlier.to.logicalResourceId, earlier.associationArn)) {
      this.log('unsettled-transfer', { associationArn: earlier.associationArn, recordedAt: earlier.recordedAt });
      return earlier.from;
    }
    return stateOf(existing);
  }

  /** Gives a taken-over association back after a later step of the same request failed. */
  public async undo(transfer: TransferRecord, requestId: string): Promise<void> {
    try {
      await this.forCleanup().giveBack(transfer, requestId);
    } catch (error) {
      // The transfers resource settles the record later (the new owner does not hold the association).
      this.log('give-back-failed', { associationArn: transfer.associationArn, error: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * What CloudFormation's Delete of `current` by `owner` does: delete what the resource owns,
   * except that a rollback gives a taken-over association back; make final a transfer whose
   * previous owner is being deleted; leave everything else alone.
   */
  public async release(current: AssociationArnParts, owner: Owner, requestId: string, subject?: ServiceAccountRef): Promise<void> {
    let existing: PodIdentityAssociation;
    try {
      existing = await this.associations.describe(current);
    } catch (error) {
      if (!isNotFound(error)) {
        throw error;
      }
      this.log('already-deleted', { associationId: current.associationId });
      await this.transfers.remove(current.associationId);
      await this.removeRestored(owner, subject);
      return;
    }
    const transfer = await this.transfers.read(current.associationId);
    if (existing.ownerArn) {
      this.log('left-alone', { associationId: current.associationId, addOn: existing.ownerArn });
      return;
    }
    if (owner.owns(existing.tags)) {
      if (transfer?.to.ownerMark === owner.mark && await this.stack.isRollingBack()) {
        // The deployment that took it over failed: the previous owner gets it back, as it was.
        await this.giveBack(transfer, requestId, existing);
        return;
      }
      try {
        await this.associations.delete(current);
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
      }
      if (transfer) {
        await this.transfers.remove(current.associationId);
      }
      return;
    }
    const mark = markOf(existing.tags);
    if (transfer && (transfer.from.ownerMark === owner.mark || (transfer.to.ownerMark === owner.mark && mark === transfer.from.ownerMark))) {
      // Its previous owner is being deleted (the transfer is final), or it was given back already.
      this.log('transfer-final', { associationId: current.associationId, owner: ownerMarkOf(existing.tags) });
      await this.transfers.remove(current.associationId);
    }
    this.log('left-alone', { associationId: current.associationId, owner: ownerMarkOf(existing.tags) });
  }

  /**
   * The association this resource owns may carry another id than its physical id: a rollback that
   * restored an association released for an add-on created it anew, with this owner's mark. It is
   * found by service account and exact mark, and deleted, so it does not outlive its resource,
   * unless the resource holds it (an Update created it again after it was deleted out of band,
   * and this Delete is of the stale physical id).
   */
  private async removeRestored(owner: Owner, subject: ServiceAccountRef | undefined): Promise<void> {
    if (!subject) {
      return;
    }
    const summaries = await this.associations.list(subject, `find an association of service account "${subject.namespace}/${subject.serviceAccount}" owned by ${owner.mark} in EKS cluster "${subject.clusterName}"`);
    for (const summary of summaries.filter(s => !s.ownerArn)) {
      const location = { clusterName: subject.clusterName, associationId: summary.associationId! };
      try {
        const restored = await this.associations.describe(location, subject);
        if (!restored.ownerArn && owner.owns(restored.tags) && !await this.stack.holds(owner.logicalResourceId, restored.associationArn!)) {
          await this.associations.delete(location, subject);
          this.log('deleted', { associationId: location.associationId, reason: 'restored after a hand-over to an add-on, under another id' });
        }
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
      }
    }
  }

  /**
   * Makes a transfer final when its new owner holds the association in the stack (the deployment
   * completed, or a rollback restored that owner), and otherwise gives the association back: the
   * new owner failed to create, or was removed by a rollback.
   */
  public async settle(transfer: TransferRecord, requestId: string): Promise<void> {
    const current = parseAssociationArn(transfer.associationArn);
    if (current) {
      let existing: PodIdentityAssociation | undefined;
      try {
        existing = await this.associations.describe(current);
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
      }
      if (existing && markOf(existing.tags) === transfer.to.ownerMark) {
        if (await this.stack.holds(transfer.to.logicalResourceId, transfer.associationArn)) {
          this.log('transfer-final', { associationId: current.associationId, owner: transfer.to.ownerMark });
        } else {
          await this.giveBack(transfer, requestId, existing);
          return;
        }
      }
    }
    await this.transfers.remove(associationIdOf(transfer));
  }

  /**
   * Makes a transfer final when its new owner holds the association, marked as its own; leaves any
   * other record to `settle`, which runs where CloudFormation's order makes a give-back safe.
   */
  public async finalize(transfer: TransferRecord): Promise<void> {
    const current = parseAssociationArn(transfer.associationArn);
    let existing: PodIdentityAssociation | undefined;
    if (current) {
      try {
        existing = await this.associations.describe(current);
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
      }
    }
    const { logicalResourceId, ownerMark } = transfer.to;
    const held = existing && markOf(existing.tags) === ownerMark && await this.stack.holds(logicalResourceId, transfer.associationArn);
    if (existing && !held) {
      return;
    }
    this.log('transfer-final', { associationArn: transfer.associationArn, owner: transfer.to.ownerMark });
    await this.transfers.removeRecord(transfer);
  }

  /**
   * Restores an association to what `transfer` recorded it was before, its previous owner mark
   * last (until then the mark is this stack's, so the handler's tag-scoped permissions apply), then
   * removes the record.
   */
  public async giveBack(transfer: TransferRecord, requestId: string, known?: PodIdentityAssociation): Promise<void> {
    const current = parseAssociationArn(transfer.associationArn)!;
    let existing = known;
    if (!existing) {
      try {
        existing = await this.associations.describe(current);
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
      }
    }
    if (existing && markOf(existing.tags) === transfer.to.ownerMark) {
      try {
        await this.bringTo(current, existing, transfer.from, undefined, 'mark-last', idempotencyToken(requestId, `give-back ${current.associationId}`));
        this.log('given-back', { associationId: current.associationId, owner: transfer.from.ownerMark ?? 'none' });
      } catch (error) {
        if (!isNotFound(error)) {
          throw error;
        }
        // Deleted out of band while it was being given back: nothing is left to give.
        this.log('already-deleted', { associationId: current.associationId });
      }
    }
    await this.transfers.remove(current.associationId);
  }

  private forCleanup(): Ownership {
    return new Ownership(this.associations.forCleanup(), this.transfers.forCleanup(), this.stack, this.log);
  }

  /**
   * Brings `existing` to `wanted`: its configuration, its user tags (all others removed) and its
   * owner mark. `mark-first` sets the mark in the first call (a takeover: the rest is then done on
   * an association of this stack); `mark-last` changes it in the last call (a give-back).
   */
  private async bringTo(
    current: AssociationArnParts,
    existing: PodIdentityAssociation,
    wanted: AssociationState,
    subject: ServiceAccountRef | undefined,
    order: 'mark-first' | 'mark-last',
    token: string,
  ): Promise<PodIdentityAssociation> {
    const tags = userTagsOf(existing.tags);
    const removed = Object.keys(tags).filter(key => !(key in wanted.tags));
    const set = Object.fromEntries(Object.entries(wanted.tags).filter(([key, value]) => tags[key] !== value));
    const remark = markOf(existing.tags) !== wanted.ownerMark;
    const changes = changesBetween(configurationOf(existing), wanted);

    // The mark alone in its own call: a tag set is at most 50 tags, so user tags change only once the others are gone.
    const mark = async () => {
      if (remark && wanted.ownerMark) {
        await this.associations.tag(current, subject, { [OWNER_TAG_KEY]: wanted.ownerMark });
      } else if (remark) {
        await this.associations.untag(current, subject, [OWNER_TAG_KEY]);
      }
    };
    let association = existing;
    if (order === 'mark-first') {
      await mark();
    } else if (changes) {
      association = await this.associations.update(current, subject, changes, token);
    }
    if (removed.length > 0) {
      await this.associations.untag(current, subject, removed);
    }
    if (Object.keys(set).length > 0) {
      await this.associations.tag(current, subject, set);
    }
    if (order === 'mark-last') {
      await mark();
    } else if (changes) {
      association = await this.associations.update(current, subject, changes, token);
    }
    return association;
  }
}
