import { EKSServiceException } from '@aws-sdk/client-eks';

/** The text of EKS's answer when a role was created moments ago and IAM has not propagated it yet. */
const ROLE_DOES_NOT_EXIST = /role provided in the request does not exist/i;
/** The existing association id in a ResourceInUseException message. */
const EXISTING_ASSOCIATION_ID = /\b(a-[a-z0-9]{17})\b/;

/** The error name of an SDK or network error, or undefined for other values. */
export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** True when EKS answered "Role provided in the request does not exist". */
export function isRoleNotFound(error: unknown): boolean {
  return errorName(error) === 'InvalidParameterException' && ROLE_DOES_NOT_EXIST.test((error as Error).message);
}

/** True when EKS answered that the association (or its cluster) does not exist. */
export function isNotFound(error: unknown): boolean {
  return errorName(error) === 'ResourceNotFoundException' || errorName(error) === 'NotFoundException';
}

/** The id of the existing association named in a ResourceInUseException, if any. */
export function existingAssociationId(error: unknown): string | undefined {
  if (errorName(error) !== 'ResourceInUseException') {
    return undefined;
  }
  return EXISTING_ASSOCIATION_ID.exec((error as Error).message)?.[1];
}

/** What the handler was doing when a call failed, for the message CloudFormation shows. */
export interface FailedAction {
  /** For example `create the Pod Identity association of service account "ns/sa" in EKS cluster "c"`. */
  readonly action: string;
  readonly clusterName: string;
  readonly roleArn?: string;
  /** How long the handler waited for a new role to propagate before giving up. */
  readonly roleWaitMs?: number;
}

/**
 * The error CloudFormation shows for a failed request: what was asked, what AWS answered, and what
 * to do about it.
 */
export class AssociationRequestError extends Error {
  constructor(failed: FailedAction, cause: unknown) {
    super(`Could not ${failed.action}: ${answer(cause)}. ${advice(failed, cause)}`.trim());
    this.name = 'AssociationRequestError';
  }
}

function answer(cause: unknown): string {
  if (cause instanceof EKSServiceException) {
    return `EKS answered ${cause.name} (HTTP ${cause.$metadata.httpStatusCode ?? 'unknown'}): ${cause.message}`;
  }
  if (cause instanceof Error) {
    return `the call to EKS failed with ${cause.name}: ${cause.message}`;
  }
  return `the call to EKS failed with ${String(cause)}`;
}

function advice(failed: FailedAction, cause: unknown): string {
  const name = errorName(cause);
  if (isRoleNotFound(cause)) {
    return `The role ${failed.roleArn ?? ''} still did not exist after ${Math.round((failed.roleWaitMs ?? 0) / 1000)} s of retries (IAM propagation of a new role takes up to a couple of minutes). ` +
      'Check that the role exists and is in the cluster\'s account, then retry the deployment.';
  }
  switch (name) {
    case 'ResourceInUseException': {
      const id = existingAssociationId(cause);
      return `EKS allows one association per service account and this one already has ${id ?? 'one'}. ` +
        `Delete it (aws eks delete-pod-identity-association --cluster-name ${failed.clusterName} --association-id ${id ?? '<id>'}) or remove the other definition, then retry the deployment.`;
    }
    case 'ResourceNotFoundException':
    case 'NotFoundException':
      return `Check that EKS cluster "${failed.clusterName}" exists in this stack's account and region.`;
    case 'InvalidParameterException':
    case 'InvalidRequestException':
    case 'BadRequestException':
      return 'Correct the value EKS names above in the PodIdentityAssociation props, then deploy again.';
    case 'ResourceLimitExceededException':
      return 'The cluster has reached an EKS quota (5,000 Pod Identity associations per cluster): delete unused associations or request a quota increase.';
    case 'AccessDeniedException':
    case 'AccessDenied':
      return 'The handler\'s role lacks a permission it needs. The construct grants exactly what its associations need, so report this with the message above; as a workaround, grant it on the handler\'s role.';
    case 'ThrottlingException':
    case 'ServerException':
    case 'ServiceUnavailableException':
      return 'EKS kept refusing after the SDK\'s retries; retry the deployment later.';
    case 'AbortError':
    case 'TimeoutError':
      return 'EKS did not answer within the time left to this Lambda invocation; retry the deployment, and check the EKS service health if it persists.';
    default:
      return 'Retry the deployment; if it fails again, report this message.';
  }
}
