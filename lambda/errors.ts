import { CONSISTENCY_WINDOWS_MS, RetriesExhaustedError, isAccessDenied, isRoleNotFound, isTrustPolicyInvalid } from './retry';

/** The existing association id in a ResourceInUseException message. */
const EXISTING_ASSOCIATION_ID = /\b(a-[a-z0-9]{17})\b/;
/** EKS's answer to a `roleArn` of another account than the cluster's. */
const CROSS_ACCOUNT_PASS_ROLE = /cross-account pass role is not allowed/i;

/** The AWS services the handler calls, as messages name them. */
export type Service = 'EKS' | 'SSM' | 'CloudFormation';

/** The service's answer behind an error: the cause of a `RequestError`, else the error itself. */
export function answerOf(error: unknown): unknown {
  return error instanceof RequestError ? error.cause : error;
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
  /** The service called; EKS when absent. */
  readonly service?: Service;
  readonly clusterName?: string;
  readonly roleArn?: string;
}

/**
 * The error CloudFormation shows for a failed request: what was asked, what AWS answered, and what
 * to do about it. `cause` is the service's last answer.
 */
export class RequestError extends Error {
  constructor(failed: FailedAction, error: unknown, advice?: string) {
    const retried = error instanceof RetriesExhaustedError ? error : undefined;
    const answer = retried?.lastAnswer ?? error;
    super(`Could not ${failed.action}: ${describeAnswer(failed.service ?? 'EKS', answer)}. ${advice ?? adviceFor(failed, answer, retried)}`.trim(), { cause: answer });
    this.name = 'RequestError';
  }
}

function describeAnswer(service: Service, answer: unknown): string {
  const status = (answer as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  if (answer instanceof Error && (answer as { $fault?: string }).$fault !== undefined) {
    return `${service} answered ${answer.name} (HTTP ${status ?? 'unknown'}): ${answer.message}`;
  }
  if (answer instanceof Error && answer.name === 'Error') {
    // The handler's own finding, such as who holds a service account.
    return answer.message;
  }
  if (answer instanceof Error) {
    return `the call to ${service} failed with ${answer.name}: ${answer.message}`;
  }
  return `the call to ${service} failed with ${String(answer)}`;
}

function minutes(ms: number): string {
  return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
}

function adviceFor(failed: FailedAction, answer: unknown, retried: RetriesExhaustedError | undefined): string {
  const waited = retried ? `after ${retried.attempts} attempts over ${Math.round(retried.waitedMs / 1000)} s` : '';
  // Past the consistency window the answer is final; cut short by the deadline, it may still have been propagation.
  const window = (reason: keyof typeof CONSISTENCY_WINDOWS_MS, what: string) => retried?.endedBy === 'deadline'
    ? `(the time left to this Lambda invocation ran out; IAM propagates ${what} within ${minutes(CONSISTENCY_WINDOWS_MS[reason])})`
    : `(IAM propagates ${what} within ${minutes(CONSISTENCY_WINDOWS_MS[reason])}, so this is not a propagation delay)`;
  if (isRoleNotFound(answer)) {
    return `The role ${failed.roleArn ?? ''} still did not exist ${waited} ${window('role-not-propagated', 'a new role')}. ` +
      'Check that the role exists and is in the cluster\'s account, then retry the deployment.';
  }
  if (isTrustPolicyInvalid(answer)) {
    return `The trust policy of role ${failed.roleArn ?? ''} still did not let pods.eks.amazonaws.com assume it ${waited} ${window('trust-not-propagated', 'a changed trust policy')}. ` +
      'Its trust policy must allow the service principal pods.eks.amazonaws.com sts:AssumeRole and sts:TagSession: a Role of this app gets that statement from the construct; add it to an imported role in its account.';
  }
  if (isAccessDenied(answer)) {
    return `The handler's role was still denied ${waited} ${window('access-denied', 'a changed policy')}. ` +
      'The construct grants exactly what its associations need: check for a service control policy, a permissions boundary or an aspect that changes the handler\'s role, and report this message if there is none.';
  }
  if (answer instanceof Error && CROSS_ACCOUNT_PASS_ROLE.test(answer.message)) {
    return 'The association role must be in the cluster\'s account; to give the pods a role of another account, make it the association\'s `targetRole` (role chaining).';
  }
  switch (answer instanceof Error ? answer.name : undefined) {
    case 'ResourceNotFoundException':
    case 'NotFoundException':
      return `Check that EKS cluster "${failed.clusterName ?? ''}" exists in this stack's account and region.`;
    case 'InvalidParameterException':
    case 'InvalidRequestException':
    case 'BadRequestException':
      return 'Correct the value EKS names above in the PodIdentityAssociation props, then deploy again.';
    case 'ResourceLimitExceededException':
      return 'The cluster has reached an EKS quota (5,000 Pod Identity associations per cluster): delete unused associations or request a quota increase.';
    case 'AbortError':
      return `${failed.service ?? 'EKS'} did not answer within the time left to this Lambda invocation; retry the deployment, and check the AWS service health if it persists.`;
    default:
      return retried
        ? `${failed.service ?? 'EKS'} kept failing ${waited}, until the time left to this Lambda invocation ran out; retry the deployment later.`
        : 'Retry the deployment; if it fails again, report this message.';
  }
}
