import { EKSServiceException } from '@aws-sdk/client-eks';
import { RetriesExhaustedError, isRoleNotFound } from './retry';

/** The existing association id in a ResourceInUseException message. */
const EXISTING_ASSOCIATION_ID = /\b(a-[a-z0-9]{17})\b/;

/** EKS's answer behind an error: the cause of an `AssociationRequestError`, else the error itself. */
export function answerOf(error: unknown): unknown {
  return error instanceof AssociationRequestError ? error.cause : error;
}

/** True when EKS answered that the association (or its cluster) does not exist. */
export function isNotFound(error: unknown): boolean {
  const answer = answerOf(error);
  return answer instanceof Error && (answer.name === 'ResourceNotFoundException' || answer.name === 'NotFoundException');
}

/** The id of the existing association named in a ResourceInUseException, if any. */
export function existingAssociationId(error: unknown): string | undefined {
  const answer = answerOf(error);
  if (!(answer instanceof Error) || answer.name !== 'ResourceInUseException') {
    return undefined;
  }
  return EXISTING_ASSOCIATION_ID.exec(answer.message)?.[1];
}

/** What the handler was doing when a call failed, for the message CloudFormation shows. */
export interface FailedAction {
  /** For example `create the Pod Identity association of service account "ns/sa" in EKS cluster "c"`. */
  readonly action: string;
  readonly clusterName: string;
  readonly roleArn?: string;
}

/**
 * The error CloudFormation shows for a failed request: what was asked, what AWS answered, and what
 * to do about it. `cause` is EKS's last answer.
 */
export class AssociationRequestError extends Error {
  constructor(failed: FailedAction, error: unknown, advice?: string) {
    const retried = error instanceof RetriesExhaustedError ? error : undefined;
    const answer = retried?.lastAnswer ?? error;
    super(`Could not ${failed.action}: ${describeAnswer(answer)}. ${advice ?? adviceFor(failed, answer, retried)}`.trim(), { cause: answer });
    this.name = 'AssociationRequestError';
  }
}

function describeAnswer(answer: unknown): string {
  if (answer instanceof EKSServiceException) {
    return `EKS answered ${answer.name} (HTTP ${answer.$metadata.httpStatusCode ?? 'unknown'}): ${answer.message}`;
  }
  if (answer instanceof Error) {
    return `the call to EKS failed with ${answer.name}: ${answer.message}`;
  }
  return `the call to EKS failed with ${String(answer)}`;
}

function adviceFor(failed: FailedAction, answer: unknown, retried: RetriesExhaustedError | undefined): string {
  const waited = retried ? `after ${retried.attempts} attempts over ${Math.round(retried.waitedMs / 1000)} s` : '';
  if (isRoleNotFound(answer)) {
    return `The role ${failed.roleArn ?? ''} still did not exist ${waited} (IAM propagation of a new role takes up to a couple of minutes). ` +
      'Check that the role exists and is in the cluster\'s account, then retry the deployment.';
  }
  switch (answer instanceof Error ? answer.name : undefined) {
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
    case 'AbortError':
      return 'EKS did not answer within the time left to this Lambda invocation; retry the deployment, and check the EKS service health if it persists.';
    default:
      return retried
        ? `EKS kept failing ${waited}, until the time left to this Lambda invocation ran out; retry the deployment later.`
        : 'Retry the deployment; if it fails again, report this message.';
  }
}
