import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  PodIdentityAssociation,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePodIdentityAssociationCommand,
  UpdatePodIdentityAssociationCommandInput,
} from '@aws-sdk/client-eks';
import type { Deadline } from './deadline';
import { AssociationRequestError, FailedAction, isNotFound } from './errors';
import type { OnEventRequest, OnEventResponse } from './event';
import type { Log } from './log';
import { DeclaredAssociation, parseDeclaredAssociation } from './properties';
import { RoleNotPropagatedError, retryWhileRolePropagates } from './retry';
import { AssociationArnParts, AssociationResponseData, parseAssociationArn } from '../src/private/contract';

/**
 * Carries out one CloudFormation request for a `Custom::EksPodIdentityAssociation`: the physical
 * id is the association ARN, and the response data holds its ARN, id and external id.
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
    return respond(await this.create(declared, event.RequestId));
  }

  private async onUpdate(event: OnEventRequest): Promise<OnEventResponse> {
    const declared = parseDeclaredAssociation(event.ResourceProperties, 'ResourceProperties', true);
    const previous = parseDeclaredAssociation(event.OldResourceProperties, 'OldResourceProperties', false);
    const current = parseAssociationArn(event.PhysicalResourceId ?? '');

    if (!current || identityChanged(previous, declared)) {
      // A new service account is a new association; CloudFormation then deletes the old one.
      this.log('replace', { reason: current ? 'cluster, namespace or service account changed' : 'physical id is not an association ARN' });
      return respond(await this.create(declared, event.RequestId));
    }

    const changes = associationChanges(previous, declared);
    const updated = changes ? await this.update(current, declared, changes, event.RequestId) : undefined;
    await this.retag(current, declared, previous.tags, declared.tags);

    if (updated) {
      return respond(updated);
    }
    this.log('no-association-change');
    return {
      PhysicalResourceId: current.arn,
      Data: {
        AssociationArn: current.arn,
        AssociationId: current.associationId,
        // CloudFormation replaces all attributes on every update; only a target role has an external id.
        ExternalId: declared.targetRoleArn ? (await this.describe(current, declared)).externalId ?? '' : '',
      },
    };
  }

  private async onDelete(event: OnEventRequest): Promise<OnEventResponse> {
    const physicalResourceId = event.PhysicalResourceId ?? '';
    const current = parseAssociationArn(physicalResourceId);
    if (!current) {
      // A create that failed leaves the request id as physical id: there is nothing to delete.
      this.log('delete-skipped', { reason: 'physical id is not an association ARN' });
      return { PhysicalResourceId: physicalResourceId };
    }
    const failed: FailedAction = {
      action: `delete Pod Identity association ${current.associationId} in EKS cluster "${current.clusterName}"`,
      clusterName: current.clusterName,
    };
    try {
      await this.eks.send(new DeletePodIdentityAssociationCommand({
        clusterName: current.clusterName,
        associationId: current.associationId,
      }), this.deadline.callOptions());
      this.log('deleted', { associationId: current.associationId });
    } catch (error) {
      if (!isNotFound(error)) {
        throw new AssociationRequestError(failed, error);
      }
      this.log('already-deleted', { associationId: current.associationId });
    }
    return { PhysicalResourceId: physicalResourceId };
  }

  private async create(declared: DeclaredAssociation, requestId: string): Promise<PodIdentityAssociation> {
    const failed: FailedAction = {
      action: `create the Pod Identity association of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${declared.clusterName}" with role ${declared.roleArn}`,
      clusterName: declared.clusterName,
      roleArn: declared.roleArn,
    };
    const association = await this.withRoleRetry(failed, async () => (await this.eks.send(new CreatePodIdentityAssociationCommand({
      clusterName: declared.clusterName,
      namespace: declared.namespace,
      serviceAccount: declared.serviceAccount,
      roleArn: declared.roleArn,
      targetRoleArn: declared.targetRoleArn,
      disableSessionTags: declared.disableSessionTags || undefined,
      policy: declared.policy,
      tags: Object.keys(declared.tags).length > 0 ? { ...declared.tags } : undefined,
      // CloudFormation's request id: a retried request returns the association it created first.
      clientRequestToken: requestId,
    }), this.deadline.callOptions())).association);
    this.log('created', { associationId: association?.associationId, policyBytes: declared.policy?.length });
    return definedAssociation(association, failed);
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
    const association = await this.withRoleRetry(failed, async () => (await this.eks.send(new UpdatePodIdentityAssociationCommand({
      clusterName: current.clusterName,
      associationId: current.associationId,
      ...changes,
      clientRequestToken: requestId,
    }), this.deadline.callOptions())).association);
    this.log('updated', { associationId: current.associationId, changed: Object.keys(changes) });
    return definedAssociation(association, failed);
  }

  private async describe(current: AssociationArnParts, declared: DeclaredAssociation): Promise<PodIdentityAssociation> {
    const failed: FailedAction = {
      action: `read Pod Identity association ${current.associationId} of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${current.clusterName}"`,
      clusterName: current.clusterName,
    };
    const { association } = await this.call(failed, () => this.eks.send(new DescribePodIdentityAssociationCommand({
      clusterName: current.clusterName,
      associationId: current.associationId,
    }), this.deadline.callOptions()));
    return definedAssociation(association, failed);
  }

  /** Applies the difference between the previous and the declared user tags. */
  private async retag(
    current: AssociationArnParts,
    declared: DeclaredAssociation,
    previousTags: Readonly<Record<string, string>>,
    declaredTags: Readonly<Record<string, string>>,
  ): Promise<void> {
    const removed = Object.keys(previousTags).filter(key => !(key in declaredTags));
    const set = Object.fromEntries(Object.entries(declaredTags).filter(([key, value]) => previousTags[key] !== value));
    const failed = (what: string): FailedAction => ({
      action: `${what} Pod Identity association ${current.associationId} of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${current.clusterName}"`,
      clusterName: current.clusterName,
    });
    if (removed.length > 0) {
      await this.call(failed(`remove tags ${removed.join(', ')} from`), () =>
        this.eks.send(new UntagResourceCommand({ resourceArn: current.arn, tagKeys: removed }), this.deadline.callOptions()));
      this.log('untagged', { associationId: current.associationId, keys: removed });
    }
    if (Object.keys(set).length > 0) {
      await this.call(failed(`set tags ${Object.keys(set).join(', ')} on`), () =>
        this.eks.send(new TagResourceCommand({ resourceArn: current.arn, tags: set }), this.deadline.callOptions()));
      this.log('tagged', { associationId: current.associationId, keys: Object.keys(set) });
    }
  }

  /** Runs one call and explains its failure. */
  private async call<T>(failed: FailedAction, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw new AssociationRequestError(failed, error);
    }
  }

  /** Runs a create or update, retrying while a new role propagates, and explains a failure. */
  private async withRoleRetry<T>(failed: FailedAction, attempt: () => Promise<T>): Promise<T> {
    try {
      return await retryWhileRolePropagates(this.deadline, this.log, attempt);
    } catch (error) {
      if (error instanceof RoleNotPropagatedError) {
        throw new AssociationRequestError({ ...failed, roleWaitMs: error.waitedMs }, error.lastAnswer);
      }
      throw new AssociationRequestError(failed, error);
    }
  }
}

/** The fields of an update: each one present only when it changed; an empty string clears it. */
type AssociationChanges = Pick<UpdatePodIdentityAssociationCommandInput, 'roleArn' | 'targetRoleArn' | 'disableSessionTags' | 'policy'>;

/** What UpdatePodIdentityAssociation must change, or undefined when nothing did. */
function associationChanges(previous: DeclaredAssociation, declared: DeclaredAssociation): AssociationChanges | undefined {
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

/** Cluster, namespace and service account identify an association; EKS cannot change them. */
function identityChanged(previous: DeclaredAssociation, declared: DeclaredAssociation): boolean {
  return previous.clusterName !== declared.clusterName
    || previous.namespace !== declared.namespace
    || previous.serviceAccount !== declared.serviceAccount;
}

function definedAssociation(association: PodIdentityAssociation | undefined, failed: FailedAction): PodIdentityAssociation {
  if (!association?.associationArn || !association.associationId) {
    throw new AssociationRequestError(failed, new Error('EKS answered without an association ARN and id'));
  }
  return association;
}

function respond(association: PodIdentityAssociation): OnEventResponse {
  const data: AssociationResponseData = {
    AssociationArn: association.associationArn!,
    AssociationId: association.associationId!,
    ExternalId: association.externalId ?? '',
  };
  return { PhysicalResourceId: data.AssociationArn, Data: data };
}
