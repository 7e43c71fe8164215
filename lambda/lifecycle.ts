import type { PodIdentityAssociation } from '@aws-sdk/client-eks';
import { AssociationLocation, EksAssociations, ServiceAccountRef, changesBetween, configurationOf, createAction, idempotencyToken } from './eks';
import { RequestError, answerOf, existingAssociationId, isNotFound } from './errors';
import type { OnEventRequest, OnEventResponse } from './event';
import type { Log } from './log';
import { Owner, ownerMarkOf, userTagsOf } from './owner';
import type { Ownership } from './ownership';
import { DeclaredAssociation, parseDeclaredAssociation, unknownPropertiesOf } from './properties';
import { RetriesExhaustedError } from './retry';
import type { TransferRecord } from './transfers';
import { AssociationArnParts, AssociationResponseData, parseAssociationArn } from '../src/private/contract';

/** An association a request created or took over. */
interface Outcome {
  readonly association: PodIdentityAssociation;
  /** True when this request created it. */
  readonly created: boolean;
  /** The record of the takeover, when this request took it over. */
  readonly transfer?: TransferRecord;
}

/**
 * Carries out one CloudFormation request for a `Custom::EksPodIdentityAssociation`: the physical
 * id is the association ARN, and the response data holds its ARN, id and external id.
 *
 * The handler owns what it creates: each association carries an owner tag (stack and logical id).
 * A Create that meets an association for the same service account takes it over when this stack
 * owns it (a moved construct, a namespace swap) or when `adoptExisting` is set, recording first what
 * it was; a Delete removes only an association this very resource owns, and a Delete in a rollback
 * gives back what the resource took over (`Ownership`). Add-on associations are never touched.
 */
export class AssociationLifecycle {
  constructor(
    private readonly associations: EksAssociations,
    private readonly ownership: Ownership,
    private readonly log: Log,
  ) {}

  public async onEvent(event: OnEventRequest): Promise<OnEventResponse> {
    const ignored = unknownPropertiesOf(event.ResourceProperties);
    if (ignored.length > 0) {
      this.log('ignored-properties', { properties: ignored, reason: 'not known to this version of the handler' });
    }
    switch (event.RequestType) {
      case 'Create':
        return this.onCreate(event);
      case 'Update':
        return this.onUpdate(event);
      case 'Delete':
        return this.onDelete(event);
      default:
        throw new Error(`Unknown RequestType ${JSON.stringify(event.RequestType)} for Custom::EksPodIdentityAssociation: expected Create, Update or Delete. Nothing was sent to EKS.`);
    }
  }

  private async onCreate(event: OnEventRequest): Promise<OnEventResponse> {
    const declared = parseDeclaredAssociation(event.ResourceProperties, 'ResourceProperties');
    return this.respond(declared, await this.createOrTakeOver(declared, Owner.of(event), event.RequestId), event.RequestId);
  }

  private async onUpdate(event: OnEventRequest): Promise<OnEventResponse> {
    const declared = parseDeclaredAssociation(event.ResourceProperties, 'ResourceProperties');
    const previous = parseDeclaredAssociation(event.OldResourceProperties, 'OldResourceProperties');
    const current = parseAssociationArn(event.PhysicalResourceId ?? '');
    const owner = Owner.of(event);

    if (!current || identityChanged(previous, declared)) {
      // A new service account is a new association; CloudFormation then deletes the old one.
      this.log('replace', { reason: current ? 'cluster, namespace or service account changed' : 'physical id is not an association ARN' });
      // A rollback's return to an earlier service account finds the association that still holds it, without creating on its cluster.
      return this.respond(declared, await this.createOrTakeOver(declared, owner, event.RequestId, true), event.RequestId);
    }
    let association: PodIdentityAssociation;
    try {
      association = await this.updateInPlace(current, previous, declared, owner, event.RequestId);
    } catch (error) {
      if (!isNotFound(error)) {
        throw error;
      }
      // Deleted outside CloudFormation: create it again; CloudFormation's Delete of the old ARN then succeeds.
      this.log('recreate', { associationId: current.associationId, reason: 'association no longer exists' });
      return this.respond(declared, await this.createOrTakeOver(declared, owner, event.RequestId), event.RequestId);
    }
    return this.respond(declared, { association, created: false }, event.RequestId);
  }

  private async onDelete(event: OnEventRequest): Promise<OnEventResponse> {
    const physicalResourceId = event.PhysicalResourceId ?? '';
    const current = parseAssociationArn(physicalResourceId);
    if (!current) {
      this.log('left-alone', { reason: 'physical id is not an association ARN' });
    } else {
      await this.ownership.release(current, Owner.of(event), event.RequestId, subjectOf(event.ResourceProperties));
    }
    return { PhysicalResourceId: physicalResourceId };
  }

  /**
   * Updates what changed of an association whose identity stayed, if this resource owns it;
   * returns it as it now is.
   */
  private async updateInPlace(
    current: AssociationArnParts,
    previous: DeclaredAssociation,
    declared: DeclaredAssociation,
    owner: Owner,
    requestId: string,
  ): Promise<PodIdentityAssociation> {
    const existing = await this.associations.describe(current, declared);
    if (existing.ownerArn || !owner.owns(existing.tags)) {
      throw new RequestError({
        action: `update Pod Identity association ${current.associationId} of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${current.clusterName}"`,
        clusterName: current.clusterName,
      }, new Error(`it is marked as owned by ${existing.ownerArn ?? ownerMarkOf(existing.tags)}, not by this resource (${owner.mark})`),
      'This library changes only what it owns. If another stack took the association over, remove it from this stack; if its owner mark was removed by hand, restore the tag.');
    }
    const changes = changesBetween(configurationOf(existing), declared);
    const association = changes
      ? await this.associations.update(current, declared, changes, idempotencyToken(requestId, 'update'))
      : existing;
    // Keys this resource declared before and no longer does are removed; keys set by others stay.
    const tags = userTagsOf(existing.tags);
    const removed = Object.keys(previous.tags).filter(key => !(key in declared.tags) && key in tags);
    const set = Object.fromEntries(Object.entries(declared.tags).filter(([key, value]) => tags[key] !== value));
    if (removed.length > 0) {
      await this.associations.untag(current, declared, removed);
    }
    if (Object.keys(set).length > 0) {
      await this.associations.tag(current, declared, set);
    }
    if (!changes) {
      this.log('no-association-change', { associationId: current.associationId });
    }
    return association;
  }

  /**
   * Creates the association, or takes over the one that already holds the service account. A 409
   * that names an association EKS no longer describes is its delete lag: the create is retried.
   *
   * @param lookFirst look for an association that holds the service account before creating one
   */
  private async createOrTakeOver(declared: DeclaredAssociation, owner: Owner, requestId: string, lookFirst = false): Promise<Outcome> {
    if (lookFirst) {
      const summaries = await this.associations.list(declared, `find the association of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${declared.clusterName}"`);
      for (const summary of summaries) {
        try {
          const existing = await this.associations.describe({ clusterName: declared.clusterName, associationId: summary.associationId! }, declared);
          if (existing.ownerArn) {
            // An add-on's: the create below waits for the add-on to let it go, or says whose it is.
            continue;
          }
          const { association, transfer } = await this.ownership.takeOver(existing, declared, owner, requestId);
          return { association, created: false, transfer };
        } catch (error) {
          if (!isNotFound(error)) {
            throw error;
          }
        }
      }
    }
    const token = idempotencyToken(requestId, 'create');
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let conflict: RequestError;
      try {
        const association = await this.associations.create(declared, { ...declared.tags, ...owner.tag }, token);
        return { association, created: true };
      } catch (error) {
        const existingId = existingAssociationId(error);
        if (!existingId) {
          if (mayHaveBeenCreated(error)) {
            await this.removeUnansweredCreate(declared, owner);
          }
          throw error;
        }
        conflict = error as RequestError;
        let existing: PodIdentityAssociation;
        try {
          existing = await this.associations.describe({ clusterName: declared.clusterName, associationId: existingId }, declared);
        } catch (describeError) {
          if (!isNotFound(describeError)) {
            throw describeError;
          }
          await this.waitForDeletion(declared, existingId, attempt, conflict, started);
          continue;
        }
        if (existing.ownerArn && await this.waitForAddon(attempt, conflict, started)) {
          continue;
        }
        try {
          const { association, transfer } = await this.ownership.takeOver(existing, declared, owner, requestId);
          return { association, created: false, transfer };
        } catch (takeOverError) {
          if (!isNotFound(takeOverError)) {
            throw takeOverError;
          }
          // Deleted out of band during the takeover (given back already): the service account is free again.
          this.log('recreate', { associationId: existingId, reason: 'association deleted during the takeover' });
        }
      }
    }
  }

  /**
   * An EKS add-on's association holds the service account: when the service account comes back
   * from the add-on to this association (the add-on's update, which this association depends on,
   * drops it), EKS removes the add-on's association some time after the update (asynchronously).
   * Waits for that, for a bounded time; false once the time is over (the add-on keeps it).
   */
  private async waitForAddon(attempt: number, conflict: RequestError, started: number): Promise<boolean> {
    try {
      await this.associations.calls.retrier.pause('CreatePodIdentityAssociation', 'addon-association-being-released', attempt, answerOf(conflict) as Error, started);
      return true;
    } catch (error) {
      if (error instanceof RetriesExhaustedError) {
        return false;
      }
      throw error;
    }
  }

  /** Waits out EKS's delete lag: the 409 names an association that is being deleted. */
  private async waitForDeletion(
    declared: DeclaredAssociation,
    associationId: string,
    attempt: number,
    conflict: RequestError,
    started: number,
  ): Promise<void> {
    try {
      await this.associations.calls.retrier.pause('CreatePodIdentityAssociation', 'association-being-deleted', attempt, answerOf(conflict) as Error, started);
    } catch (error) {
      if (error instanceof RetriesExhaustedError) {
        throw new RequestError(createAction(declared), error,
          `EKS kept answering that association ${associationId} holds service account "${declared.namespace}/${declared.serviceAccount}", but describes no such association, for ${Math.round(error.waitedMs / 1000)} s (its delete lag is usually seconds). ` +
          'Retry the deployment; if it persists, check the service account\'s associations with `aws eks list-pod-identity-associations`.');
      }
      throw error;
    }
  }

  /**
   * A create whose answer never arrived may have created the association: find it by service
   * account and owner mark, and delete it, so the failed Create leaves nothing behind
   * (CloudFormation sends no Delete for a failed Create).
   */
  private async removeUnansweredCreate(declared: DeclaredAssociation, owner: Owner): Promise<void> {
    const cleanup = this.associations.forCleanup();
    try {
      const summaries = await cleanup.list(declared,
        `remove an association of service account "${declared.namespace}/${declared.serviceAccount}" that a failed create may have left in EKS cluster "${declared.clusterName}"`);
      for (const summary of summaries) {
        const location = { clusterName: declared.clusterName, associationId: summary.associationId! };
        const existing = await cleanup.describe(location, declared);
        if (!existing.ownerArn && owner.owns(existing.tags)) {
          await deleteIfExists(cleanup, location, declared);
          this.log('removed-unanswered-create', { associationId: location.associationId });
        }
      }
    } catch (error) {
      this.log('cleanup-failed', {
        error: error instanceof Error ? error.message : String(error),
        advice: `an association for service account "${declared.namespace}/${declared.serviceAccount}" may remain in cluster "${declared.clusterName}"; delete it if the next deployment reports that it exists`,
      });
    }
  }

  /**
   * The response CloudFormation receives: the association ARN as physical id, and its ARN, id and
   * external id as attributes. When the construct generated a target-role trust that requires an
   * external id, EKS's must be that one, or the pods could not assume the target role: the request
   * fails then, after removing an association this request created, or giving back one it took over.
   */
  private async respond(declared: DeclaredAssociation, outcome: Outcome, requestId: string): Promise<OnEventResponse> {
    const { association } = outcome;
    const data: AssociationResponseData = {
      AssociationArn: association.associationArn!,
      AssociationId: association.associationId!,
      ExternalId: association.externalId ?? '',
    };
    const expected = declared.expectedExternalId;
    if (expected !== undefined && declared.targetRoleArn && data.ExternalId !== expected) {
      if (outcome.created) {
        await deleteIfExists(this.associations.forCleanup(), { clusterName: declared.clusterName, associationId: data.AssociationId }, declared);
        this.log('removed', { associationId: data.AssociationId, reason: 'unexpected external id' });
      } else if (outcome.transfer) {
        await this.ownership.undo(outcome.transfer, requestId);
      }
      throw new Error(
        `Could not give service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${declared.clusterName}" target role ${declared.targetRoleArn}: ` +
        `EKS reports the external id ${JSON.stringify(data.ExternalId)} for association ${data.AssociationId}, but the trust this library generated for the target role requires ${JSON.stringify(expected)} ` +
        '(the format the EKS User Guide documents), so the pods could not assume the target role. ' +
        `Enable session tags (the trust then matches session tags instead), or import the target role and give it a trust with sts:ExternalId ${JSON.stringify(data.ExternalId)}; please report this so the library can follow EKS.`,
      );
    }
    return { PhysicalResourceId: data.AssociationArn, Data: data };
  }
}

/** The service account a Delete's properties name, if they can be read (they may come from another version of the construct). */
function subjectOf(properties: unknown): ServiceAccountRef | undefined {
  try {
    const { clusterName, namespace, serviceAccount } = parseDeclaredAssociation(properties, 'ResourceProperties');
    return { clusterName, namespace, serviceAccount };
  } catch {
    return undefined;
  }
}

/** Deletes an association; one that is gone already is deleted. */
async function deleteIfExists(associations: EksAssociations, location: AssociationLocation, subject: ServiceAccountRef): Promise<void> {
  try {
    await associations.delete(location, subject);
  } catch (error) {
    if (!isNotFound(error)) {
      throw error;
    }
  }
}

/** Cluster, namespace and service account identify an association; EKS cannot change them. */
function identityChanged(previous: DeclaredAssociation, declared: DeclaredAssociation): boolean {
  return previous.clusterName !== declared.clusterName
    || previous.namespace !== declared.namespace
    || previous.serviceAccount !== declared.serviceAccount;
}

/** False only when EKS definitively refused the create (a 4xx answer other than throttling). */
function mayHaveBeenCreated(error: unknown): boolean {
  const answer = answerOf(error) as { $metadata?: { httpStatusCode?: number }; $fault?: string } | undefined;
  if (answer?.$fault !== undefined) {
    const status = answer.$metadata?.httpStatusCode ?? 500;
    return status >= 500 || status === 429;
  }
  return true;
}
