import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  EKSServiceException,
  ListPodIdentityAssociationsCommand,
  PodIdentityAssociation,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePodIdentityAssociationCommand,
  UpdatePodIdentityAssociationCommandInput,
} from '@aws-sdk/client-eks';
import { Deadline } from './deadline';
import { AssociationRequestError, FailedAction, answerOf, existingAssociationId, isNotFound } from './errors';
import type { OnEventRequest, OnEventResponse } from './event';
import type { Log } from './log';
import { Owner, ownerMarkOf, userTagsOf } from './owner';
import { DeclaredAssociation, parseDeclaredAssociation } from './properties';
import { retryWithinDeadline } from './retry';
import { AssociationArnParts, AssociationResponseData, parseAssociationArn } from '../src/private/contract';

/** Where an association is: enough to address it in EKS. */
type AssociationLocation = Pick<AssociationArnParts, 'clusterName' | 'associationId'>;

/** Only the members EKS takes to address an association. */
function addressOf(location: AssociationLocation): AssociationLocation {
  return { clusterName: location.clusterName, associationId: location.associationId };
}

/** An association a request created or took over. */
interface Outcome {
  readonly association: PodIdentityAssociation;
  /** True when this request created it (rather than taking over an existing one). */
  readonly created: boolean;
}

/** How `send()` makes a call: within which deadline, and what its log line says beyond the operation. */
interface SendOptions {
  readonly deadline?: Deadline;
  readonly fields?: Record<string, unknown>;
}

/** Options of one SDK call (abort at the deadline, per-attempt timeout). */
type CallOptions = ReturnType<Deadline['callOptions']>;

/**
 * Carries out one CloudFormation request for a `Custom::EksPodIdentityAssociation`: the physical
 * id is the association ARN, and the response data holds its ARN, id and external id.
 *
 * The handler owns what it creates: each association carries an owner tag (stack and logical id).
 * A Create that meets an association for the same service account takes it over when this stack
 * owns it (a moved construct, a namespace swap) or when `adoptExisting` is set; a Delete removes
 * only an association this very resource owns. Add-on associations are never touched.
 */
export class AssociationLifecycle {
  constructor(
    private readonly eks: EKSClient,
    private readonly deadline: Deadline,
    private readonly log: Log,
  ) {}

  public async onEvent(event: OnEventRequest): Promise<OnEventResponse> {
    this.log('request', {
      requestType: event.RequestType,
      logicalResourceId: event.LogicalResourceId,
      physicalResourceId: event.PhysicalResourceId,
      remainingMs: this.deadline.remainingMs(),
    });
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
    const declared = parseDeclaredAssociation(event.ResourceProperties, 'ResourceProperties', true);
    return this.respond(declared, await this.createOrTakeOver(declared, Owner.of(event), event.RequestId));
  }

  private async onUpdate(event: OnEventRequest): Promise<OnEventResponse> {
    const declared = parseDeclaredAssociation(event.ResourceProperties, 'ResourceProperties', true);
    const previous = parseDeclaredAssociation(event.OldResourceProperties, 'OldResourceProperties', false);
    const current = parseAssociationArn(event.PhysicalResourceId ?? '');
    const owner = Owner.of(event);

    if (!current || identityChanged(previous, declared)) {
      // A new service account is a new association; CloudFormation then deletes the old one.
      this.log('replace', { reason: current ? 'cluster, namespace or service account changed' : 'physical id is not an association ARN' });
      return this.respond(declared, await this.createOrTakeOver(declared, owner, event.RequestId));
    }
    let association: PodIdentityAssociation;
    try {
      association = await this.updateInPlace(current, previous, declared, event.RequestId);
    } catch (error) {
      if (!isNotFound(error)) {
        throw error;
      }
      // Deleted outside CloudFormation: create it again; CloudFormation's Delete of the old ARN then succeeds.
      this.log('recreate', { associationId: current.associationId, reason: 'association no longer exists' });
      return this.respond(declared, await this.createOrTakeOver(declared, owner, event.RequestId));
    }
    return this.respond(declared, { association, created: false });
  }

  private async onDelete(event: OnEventRequest): Promise<OnEventResponse> {
    const physicalResourceId = event.PhysicalResourceId ?? '';
    const current = parseAssociationArn(physicalResourceId);
    if (!current) {
      this.log('left-alone', { reason: 'physical id is not an association ARN' });
      return { PhysicalResourceId: physicalResourceId };
    }
    const failed: FailedAction = {
      action: `delete Pod Identity association ${current.associationId} in EKS cluster "${current.clusterName}"`,
      clusterName: current.clusterName,
    };
    const owner = Owner.of(event);
    try {
      const existing = await this.describe(current, failed);
      if (existing.ownerArn || !owner.owns(existing.tags)) {
        // Taken over by another resource of this stack, or never ours: not ours to delete.
        this.log('left-alone', { associationId: current.associationId, owner: ownerMarkOf(existing.tags), addOn: existing.ownerArn });
        return { PhysicalResourceId: physicalResourceId };
      }
      await this.send(failed, 'DeletePodIdentityAssociation', options => this.eks.send(new DeletePodIdentityAssociationCommand(addressOf(current)), options),
        { fields: { associationId: current.associationId } });
    } catch (error) {
      if (!isNotFound(error)) {
        throw error;
      }
      this.log('already-deleted', { associationId: current.associationId });
    }
    return { PhysicalResourceId: physicalResourceId };
  }

  /** Updates what changed of an association whose identity stayed; returns it as it now is. */
  private async updateInPlace(
    current: AssociationArnParts,
    previous: DeclaredAssociation,
    declared: DeclaredAssociation,
    requestId: string,
  ): Promise<PodIdentityAssociation> {
    const changes = associationChanges(previous, declared);
    const updated = changes ? await this.update(current, declared, changes, requestId) : undefined;
    await this.retag(current, declared, previous.tags);
    if (updated) {
      return updated;
    }
    this.log('no-association-change', { associationId: current.associationId });
    // CloudFormation replaces all attributes on every update; only a target role has an external id.
    return declared.targetRoleArn
      ? this.describe(current, describeAction(current, declared))
      : { associationArn: current.arn, associationId: current.associationId };
  }

  /** Creates the association, or takes over the one that already holds the service account. */
  private async createOrTakeOver(declared: DeclaredAssociation, owner: Owner, requestId: string): Promise<Outcome> {
    const failed = createAction(declared);
    try {
      const { association } = await this.send(failed, 'CreatePodIdentityAssociation', options => this.eks.send(new CreatePodIdentityAssociationCommand({
        clusterName: declared.clusterName,
        namespace: declared.namespace,
        serviceAccount: declared.serviceAccount,
        roleArn: declared.roleArn,
        targetRoleArn: declared.targetRoleArn,
        disableSessionTags: declared.disableSessionTags || undefined,
        policy: declared.policy,
        tags: { ...declared.tags, ...owner.tag },
        // CloudFormation's request id: a retried request returns the association it created first.
        clientRequestToken: requestId,
      }), options), { fields: { policyBytes: declared.policy?.length } });
      return { association: definedAssociation(association, failed), created: true };
    } catch (error) {
      const existingId = existingAssociationId(error);
      if (existingId) {
        const existing = { clusterName: declared.clusterName, associationId: existingId };
        return { association: await this.takeOver(existing, declared, owner, requestId, error as AssociationRequestError), created: false };
      }
      if (mayHaveBeenCreated(error)) {
        await this.removeUnansweredCreate(declared, owner);
      }
      throw error;
    }
  }

  /**
   * Brings an existing association for the declared service account to the declared configuration
   * and marks this resource as its owner, when this stack owns it or the user opted in.
   */
  private async takeOver(
    location: AssociationLocation,
    declared: DeclaredAssociation,
    owner: Owner,
    requestId: string,
    conflict: AssociationRequestError,
  ): Promise<PodIdentityAssociation> {
    const existing = await this.describe(location, describeAction(location, declared));
    const service = `${declared.namespace}/${declared.serviceAccount}`;
    if (existing.ownerArn) {
      throw new AssociationRequestError(createAction(declared), conflict.cause,
        `Association ${location.associationId} of service account "${service}" belongs to the EKS add-on ${existing.ownerArn}, and this library never modifies or deletes an add-on's association. ` +
        'Configure the role through the add-on\'s podIdentityAssociations, or use another service account.');
    }
    const sameStack = owner.sameStackAs(existing.tags);
    if (!sameStack && !declared.adoptExisting) {
      throw new AssociationRequestError(createAction(declared), conflict.cause,
        `Association ${location.associationId} already holds service account "${service}" and this stack did not create it (owner: ${ownerMarkOf(existing.tags)}); EKS allows one per service account. ` +
        `Either delete it (aws eks delete-pod-identity-association --cluster-name ${location.clusterName} --association-id ${location.associationId}) and deploy again, ` +
        'or set `adoptExisting: true` on this PodIdentityAssociation to take it over: it is then updated to this configuration and deleted with this stack.');
    }
    this.log('take-over', {
      associationId: location.associationId,
      previousOwner: ownerMarkOf(existing.tags),
      because: sameStack ? 'owned by this stack' : 'adoptExisting',
    });
    const current = parseAssociationArn(existing.associationArn!)!;
    const changes = associationChanges(actualConfiguration(existing), declared);
    const updated = changes ? await this.update(current, declared, changes, requestId) : existing;
    await this.retag(current, declared, existing.tags ?? {}, owner);
    return updated;
  }

  /**
   * A create whose answer never arrived may have created the association: find it by service
   * account and owner mark, and delete it, so the failed Create leaves nothing behind
   * (CloudFormation sends no Delete for a failed Create).
   */
  private async removeUnansweredCreate(declared: DeclaredAssociation, owner: Owner): Promise<void> {
    const cleanup = this.deadline.forCleanup();
    const failed: FailedAction = {
      action: `remove an association of service account "${declared.namespace}/${declared.serviceAccount}" that a failed create may have left in EKS cluster "${declared.clusterName}"`,
      clusterName: declared.clusterName,
    };
    try {
      const { associations = [] } = await this.send(failed, 'ListPodIdentityAssociations', options => this.eks.send(new ListPodIdentityAssociationsCommand({
        clusterName: declared.clusterName,
        namespace: declared.namespace,
        serviceAccount: declared.serviceAccount,
      }), options), { deadline: cleanup });
      for (const summary of associations) {
        const location = { clusterName: declared.clusterName, associationId: summary.associationId! };
        const existing = await this.describe(location, failed, cleanup);
        if (!existing.ownerArn && owner.owns(existing.tags)) {
          await this.send(failed, 'DeletePodIdentityAssociation', options => this.eks.send(new DeletePodIdentityAssociationCommand(location), options),
            { deadline: cleanup, fields: { associationId: location.associationId } });
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

  private async update(
    current: AssociationArnParts,
    declared: DeclaredAssociation,
    changes: AssociationChanges,
    requestId: string,
  ): Promise<PodIdentityAssociation> {
    const failed: FailedAction = {
      action: `update Pod Identity association ${current.associationId} of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${current.clusterName}" (${Object.keys(changes).join(', ')})`,
      clusterName: current.clusterName,
      roleArn: declared.roleArn,
    };
    const { association } = await this.send(failed, 'UpdatePodIdentityAssociation', options => this.eks.send(new UpdatePodIdentityAssociationCommand({
      clusterName: current.clusterName,
      associationId: current.associationId,
      ...changes,
      clientRequestToken: requestId,
    }), options), { fields: { changed: Object.keys(changes), policyBytes: changes.policy?.length } });
    return definedAssociation(association, failed);
  }

  private async describe(location: AssociationLocation, failed: FailedAction, deadline = this.deadline): Promise<PodIdentityAssociation> {
    const { association } = await this.send(failed, 'DescribePodIdentityAssociation',
      options => this.eks.send(new DescribePodIdentityAssociationCommand(addressOf(location)), options), { deadline });
    return definedAssociation(association, failed);
  }

  /**
   * Makes the user tags of the association the declared ones, with UntagResource for removed keys
   * and TagResource for new or changed ones. The owner mark is never removed; it is set when
   * `owner` is given and does not own the association yet.
   */
  private async retag(
    current: AssociationArnParts,
    declared: DeclaredAssociation,
    previousTags: Readonly<Record<string, string>>,
    owner?: Owner,
  ): Promise<void> {
    const previous = userTagsOf(previousTags);
    const removed = Object.keys(previous).filter(key => !(key in declared.tags));
    const set = Object.fromEntries(Object.entries(declared.tags).filter(([key, value]) => previous[key] !== value));
    if (owner && !owner.owns(previousTags)) {
      Object.assign(set, owner.tag);
    }
    const failed = (what: string): FailedAction => ({
      action: `${what} Pod Identity association ${current.associationId} of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${current.clusterName}"`,
      clusterName: current.clusterName,
    });
    if (removed.length > 0) {
      await this.send(failed(`remove tags ${removed.join(', ')} from`), 'UntagResource',
        options => this.eks.send(new UntagResourceCommand({ resourceArn: current.arn, tagKeys: removed }), options),
        { fields: { associationId: current.associationId, keys: removed } });
    }
    if (Object.keys(set).length > 0) {
      await this.send(failed(`set tags ${Object.keys(set).join(', ')} on`), 'TagResource',
        options => this.eks.send(new TagResourceCommand({ resourceArn: current.arn, tags: set }), options),
        { fields: { associationId: current.associationId, keys: Object.keys(set) } });
    }
  }

  /**
   * The response CloudFormation receives: the association ARN as physical id, and its ARN, id and
   * external id as attributes. When the construct generated a target-role trust that requires an
   * external id, EKS's must be that one, or the pods could not assume the target role: the request
   * fails then, and an association this request created is removed first.
   */
  private async respond(declared: DeclaredAssociation, { association, created }: Outcome): Promise<OnEventResponse> {
    const data: AssociationResponseData = {
      AssociationArn: association.associationArn!,
      AssociationId: association.associationId!,
      ExternalId: association.externalId ?? '',
    };
    const expected = declared.expectedExternalId;
    if (expected !== undefined && declared.targetRoleArn && data.ExternalId !== expected) {
      if (created) {
        await this.send(createAction(declared), 'DeletePodIdentityAssociation', options => this.eks.send(new DeletePodIdentityAssociationCommand({
          clusterName: declared.clusterName,
          associationId: data.AssociationId,
        }), options), { deadline: this.deadline.forCleanup(), fields: { associationId: data.AssociationId, reason: 'unexpected external id' } });
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

  /**
   * Sends one call, retried within the deadline while its failure is worth retrying, and turns a
   * final failure into an error that says what was asked and what EKS answered.
   */
  private async send<T>(failed: FailedAction, operation: string, call: (options: CallOptions) => Promise<T>, how: SendOptions = {}): Promise<T> {
    const deadline = how.deadline ?? this.deadline;
    const started = Date.now();
    try {
      const result = await retryWithinDeadline(deadline, this.log, operation, () => call(deadline.callOptions()));
      const association = (result as { association?: PodIdentityAssociation }).association;
      this.log(operation, { associationId: association?.associationId, ...how.fields, ms: Date.now() - started });
      return result;
    } catch (error) {
      const failure = new AssociationRequestError(failed, error);
      const answer = failure.cause instanceof Error ? failure.cause.name : String(failure.cause);
      this.log(operation, { ...how.fields, ms: Date.now() - started, error: answer });
      throw failure;
    }
  }

}

/** The fields of an update: each one present only when it changed; an empty string clears it. */
type AssociationChanges = Pick<UpdatePodIdentityAssociationCommandInput, 'roleArn' | 'targetRoleArn' | 'disableSessionTags' | 'policy'>;

/** The part of an association's configuration that UpdatePodIdentityAssociation can change. */
type Configuration = Pick<DeclaredAssociation, 'roleArn' | 'targetRoleArn' | 'disableSessionTags' | 'policy'>;

/** What UpdatePodIdentityAssociation must change, or undefined when nothing did. */
function associationChanges(previous: Configuration, declared: Configuration): AssociationChanges | undefined {
  const changes: { -readonly [K in keyof AssociationChanges]: AssociationChanges[K] } = {};
  if (previous.roleArn !== declared.roleArn) {
    changes.roleArn = declared.roleArn;
  }
  if (previous.targetRoleArn !== declared.targetRoleArn) {
    // Omitting targetRoleArn keeps the old one; an empty string clears it.
    changes.targetRoleArn = declared.targetRoleArn ?? '';
  }
  if (previous.disableSessionTags !== declared.disableSessionTags) {
    changes.disableSessionTags = declared.disableSessionTags;
  }
  if (previous.policy !== declared.policy) {
    changes.policy = declared.policy ?? '';
  }
  return Object.keys(changes).length > 0 ? changes : undefined;
}

/** The configuration an existing association has, as EKS describes it. */
function actualConfiguration(association: PodIdentityAssociation): Configuration {
  return {
    roleArn: association.roleArn ?? '',
    targetRoleArn: association.targetRoleArn || undefined,
    disableSessionTags: association.disableSessionTags ?? false,
    policy: association.policy || undefined,
  };
}

/** Cluster, namespace and service account identify an association; EKS cannot change them. */
function identityChanged(previous: DeclaredAssociation, declared: DeclaredAssociation): boolean {
  return previous.clusterName !== declared.clusterName
    || previous.namespace !== declared.namespace
    || previous.serviceAccount !== declared.serviceAccount;
}

/** False only when EKS definitively refused the create (a 4xx answer other than throttling). */
function mayHaveBeenCreated(error: unknown): boolean {
  const answer = answerOf(error);
  if (answer instanceof EKSServiceException) {
    const status = answer.$metadata.httpStatusCode ?? 500;
    return status >= 500 || status === 429;
  }
  return true;
}

function createAction(declared: DeclaredAssociation): FailedAction {
  return {
    action: `create the Pod Identity association of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${declared.clusterName}" with role ${declared.roleArn}`,
    clusterName: declared.clusterName,
    roleArn: declared.roleArn,
  };
}

function describeAction(location: AssociationLocation, declared: DeclaredAssociation): FailedAction {
  return {
    action: `read Pod Identity association ${location.associationId} of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${location.clusterName}"`,
    clusterName: location.clusterName,
  };
}

function definedAssociation(association: PodIdentityAssociation | undefined, failed: FailedAction): PodIdentityAssociation {
  if (!association?.associationArn || !association.associationId) {
    throw new AssociationRequestError(failed, new Error('EKS answered without an association ARN and id'));
  }
  return association;
}
