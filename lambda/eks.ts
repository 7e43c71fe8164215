import { createHash } from 'crypto';
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
  PodIdentityAssociation,
  PodIdentityAssociationSummary,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePodIdentityAssociationCommand,
  UpdatePodIdentityAssociationCommandInput,
} from '@aws-sdk/client-eks';
import type { CallOptions, Calls, SendOptions } from './calls';
import { FailedAction, RequestError, answerOf, isNotFound } from './errors';
import { isAccessDenied } from './retry';
import type { AssociationArnParts } from '../src/private/contract';

/** Where an association is: enough to address it in EKS. */
export type AssociationLocation = Pick<AssociationArnParts, 'clusterName' | 'associationId'>;

/** The service account an association is for, as messages name it. */
export interface ServiceAccountRef {
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** The part of an association's configuration that UpdatePodIdentityAssociation can change. */
export interface Configuration {
  readonly roleArn: string;
  readonly targetRoleArn?: string;
  readonly disableSessionTags: boolean;
  readonly policy?: string;
}

/** The fields of an update: each one present only when it changed; an empty string clears it. */
export type ConfigurationChanges = Pick<UpdatePodIdentityAssociationCommandInput, 'roleArn' | 'targetRoleArn' | 'disableSessionTags' | 'policy'>;

/** The configuration an existing association has, as EKS describes it. */
export function configurationOf(association: PodIdentityAssociation): Configuration {
  return {
    roleArn: association.roleArn ?? '',
    targetRoleArn: association.targetRoleArn || undefined,
    disableSessionTags: association.disableSessionTags ?? false,
    policy: association.policy || undefined,
  };
}

/** What UpdatePodIdentityAssociation must send to go from `current` to `wanted`, or undefined when nothing differs. */
export function changesBetween(current: Configuration, wanted: Configuration): ConfigurationChanges | undefined {
  const changes: { -readonly [K in keyof ConfigurationChanges]: ConfigurationChanges[K] } = {};
  if (current.roleArn !== wanted.roleArn) {
    changes.roleArn = wanted.roleArn;
  }
  if (current.targetRoleArn !== wanted.targetRoleArn) {
    // Omitting targetRoleArn keeps the old one; an empty string clears it (the ACK eks-controller does the same).
    changes.targetRoleArn = wanted.targetRoleArn ?? '';
  }
  if (current.disableSessionTags !== wanted.disableSessionTags) {
    changes.disableSessionTags = wanted.disableSessionTags;
  }
  if (current.policy !== wanted.policy) {
    changes.policy = wanted.policy ?? '';
  }
  return Object.keys(changes).length > 0 ? changes : undefined;
}

/**
 * An idempotency token for one call of one CloudFormation request: the same for a redelivery of
 * that request (so EKS answers a repeated call with what the first one did), different for every
 * other call (reusing a token for another call is not documented as safe).
 */
export function idempotencyToken(requestId: string, purpose: string): string {
  const hex = createHash('sha256').update(`${requestId}\n${purpose}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Only the members EKS takes to address an association. */
function addressOf(location: AssociationLocation): AssociationLocation {
  return { clusterName: location.clusterName, associationId: location.associationId };
}

function nameOf(subject: ServiceAccountRef | undefined): string {
  return subject ? ` of service account "${subject.namespace}/${subject.serviceAccount}"` : '';
}

/** The Pod Identity association calls of one request, each with the message that explains its failure. */
export class EksAssociations {
  constructor(private readonly client: () => EKSClient, public readonly calls: Calls) {}

  private get eks(): EKSClient {
    return this.client();
  }

  /** The same calls, bounded by the cleanup part of the deadline. */
  public forCleanup(): EksAssociations {
    return new EksAssociations(this.client, this.calls.forCleanup());
  }

  public async create(declared: ServiceAccountRef & Configuration, tags: Record<string, string>, token: string): Promise<PodIdentityAssociation> {
    const failed = createAction(declared);
    const { association } = await this.calls.send(failed, 'CreatePodIdentityAssociation', options => this.eks.send(new CreatePodIdentityAssociationCommand({
      clusterName: declared.clusterName,
      namespace: declared.namespace,
      serviceAccount: declared.serviceAccount,
      roleArn: declared.roleArn,
      targetRoleArn: declared.targetRoleArn,
      disableSessionTags: declared.disableSessionTags || undefined,
      policy: declared.policy,
      tags,
      clientRequestToken: token,
    }), options), { fields: { policyBytes: declared.policy?.length } });
    return defined(association, failed);
  }

  public async describe(location: AssociationLocation, subject?: ServiceAccountRef): Promise<PodIdentityAssociation> {
    const failed: FailedAction = {
      action: `read Pod Identity association ${location.associationId}${nameOf(subject)} in EKS cluster "${location.clusterName}"`,
      clusterName: location.clusterName,
    };
    const { association } = await this.calls.send(failed, 'DescribePodIdentityAssociation',
      options => this.eks.send(new DescribePodIdentityAssociationCommand(addressOf(location)), options));
    return defined(association, failed);
  }

  public async update(
    location: AssociationLocation,
    subject: ServiceAccountRef | undefined,
    changes: ConfigurationChanges,
    token: string,
  ): Promise<PodIdentityAssociation> {
    const failed: FailedAction = {
      action: `update Pod Identity association ${location.associationId}${nameOf(subject)} in EKS cluster "${location.clusterName}" (${Object.keys(changes).join(', ')})`,
      clusterName: location.clusterName,
      roleArn: changes.roleArn,
    };
    const result = await this.sendOnOwned(failed, 'UpdatePodIdentityAssociation', location, options => this.eks.send(new UpdatePodIdentityAssociationCommand({
      ...addressOf(location),
      ...changes,
      clientRequestToken: token,
    }), options), { fields: { changed: Object.keys(changes), policyBytes: changes.policy?.length } });
    return defined(result?.association, failed);
  }

  public async delete(location: AssociationLocation, subject?: ServiceAccountRef): Promise<void> {
    const failed: FailedAction = {
      action: `delete Pod Identity association ${location.associationId}${nameOf(subject)} in EKS cluster "${location.clusterName}"`,
      clusterName: location.clusterName,
    };
    await this.sendOnOwned(failed, 'DeletePodIdentityAssociation', location, options => this.eks.send(new DeletePodIdentityAssociationCommand(addressOf(location)), options),
      { fields: { associationId: location.associationId } });
  }

  /** Sets `tags` (new keys, or new values of existing keys) on the association. */
  public async tag(association: AssociationArnParts, subject: ServiceAccountRef | undefined, tags: Record<string, string>): Promise<void> {
    const failed: FailedAction = {
      action: `set tags ${Object.keys(tags).join(', ')} on Pod Identity association ${association.associationId}${nameOf(subject)} in EKS cluster "${association.clusterName}"`,
      clusterName: association.clusterName,
    };
    await this.sendOnOwned(failed, 'TagResource', association, options => this.eks.send(new TagResourceCommand({ resourceArn: association.arn, tags }), options),
      { fields: { associationId: association.associationId, keys: Object.keys(tags) } },
      existing => Object.entries(tags).every(([key, value]) => existing.tags?.[key] === value));
  }

  public async untag(association: AssociationArnParts, subject: ServiceAccountRef | undefined, keys: string[]): Promise<void> {
    const failed: FailedAction = {
      action: `remove tags ${keys.join(', ')} from Pod Identity association ${association.associationId}${nameOf(subject)} in EKS cluster "${association.clusterName}"`,
      clusterName: association.clusterName,
    };
    await this.sendOnOwned(failed, 'UntagResource', association, options => this.eks.send(new UntagResourceCommand({ resourceArn: association.arn, tagKeys: keys }), options),
      { fields: { associationId: association.associationId, keys } },
      existing => keys.every(key => !(key in (existing.tags ?? {}))));
  }

  /**
   * Sends a call on an existing association that the handler's policy allows only while the
   * association carries this stack's owner mark (`aws:ResourceTag`). IAM evaluates that condition
   * on the association's tags, and one that no longer exists has none: whether EKS then answers
   * ResourceNotFoundException or AccessDeniedException is not documented (many services answer the
   * latter). A lost answer has the same effect: the retry of a delete meets a deleted association,
   * the retry of a give-back's last tag change meets an association that is no longer this stack's.
   * So an AccessDenied is checked with Describe, which IAM allows on any association: EKS's 404
   * there is the answer (the association is gone); an association already as the call would leave
   * it (`applied`) means the call took effect; otherwise the denial stands (a policy still
   * propagating is retried within its window, see retry.ts).
   */
  private async sendOnOwned<T>(
    failed: FailedAction,
    operation: string,
    location: AssociationLocation,
    call: (options: CallOptions) => Promise<T>,
    how: SendOptions,
    applied?: (existing: PodIdentityAssociation) => boolean,
  ): Promise<T | undefined> {
    return this.calls.send<T | undefined>(failed, operation, async options => {
      try {
        return await call(options);
      } catch (error) {
        if (!isAccessDenied(error) || deniedAnotherAction(error, `eks:${operation}`)) {
          throw error;
        }
        let existing: PodIdentityAssociation;
        try {
          existing = await this.describe(location);
        } catch (describeError) {
          if (isNotFound(describeError)) {
            this.calls.log('gone-behind-access-denied', { operation, associationId: location.associationId });
            throw answerOf(describeError);
          }
          throw describeError;
        }
        if (applied?.(existing)) {
          this.calls.log('applied-behind-access-denied', { operation, associationId: location.associationId });
          return undefined;
        }
        throw error;
      }
    }, how);
  }

  /** Every association of the service account (all pages). */
  public async list(subject: ServiceAccountRef, action: string): Promise<PodIdentityAssociationSummary[]> {
    const failed: FailedAction = { action, clusterName: subject.clusterName };
    const summaries: PodIdentityAssociationSummary[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.calls.send(failed, 'ListPodIdentityAssociations', options => this.eks.send(new ListPodIdentityAssociationsCommand({
        clusterName: subject.clusterName,
        namespace: subject.namespace,
        serviceAccount: subject.serviceAccount,
        nextToken,
      }), options));
      summaries.push(...page.associations ?? []);
      nextToken = page.nextToken;
    } while (nextToken);
    return summaries;
  }
}

/**
 * True when a denial names an action other than `action` (IAM's message reads "is not authorized to
 * perform: <action> on resource: …"): for example `iam:PassRole` for the role an update passes,
 * which says nothing about the association. A denial that names no action may be about it.
 */
function deniedAnotherAction(error: unknown, action: string): boolean {
  const named = /not authorized to perform: ([\w-]+:\w+)/.exec(error instanceof Error ? error.message : '')?.[1];
  return named !== undefined && named.toLowerCase() !== action.toLowerCase();
}

/** The failure of a create, as CloudFormation shows it. */
export function createAction(declared: ServiceAccountRef & Pick<Configuration, 'roleArn'>): FailedAction {
  return {
    action: `create the Pod Identity association of service account "${declared.namespace}/${declared.serviceAccount}" in EKS cluster "${declared.clusterName}" with role ${declared.roleArn}`,
    clusterName: declared.clusterName,
    roleArn: declared.roleArn,
  };
}

function defined(association: PodIdentityAssociation | undefined, failed: FailedAction): PodIdentityAssociation {
  if (!association?.associationArn || !association.associationId) {
    throw new RequestError(failed, new Error('EKS answered without an association ARN and id'));
  }
  return association;
}
