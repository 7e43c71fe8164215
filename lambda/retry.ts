import type { Deadline } from './deadline';
import type { Log } from './log';

/** The text of EKS's answer when a role was created moments ago and IAM has not propagated it yet. */
const ROLE_DOES_NOT_EXIST = /role provided in the request does not exist/i;
/** EKS's answer while a trust statement added moments ago propagates (aws/aws-cdk#31522, hashicorp/terraform-provider-aws#41483). */
const TRUST_POLICY_INVALID = /trust policy of the role provided is invalid/i;
/** Error names AWS services give a request their caller's policies do not allow (EKS and SSM: AccessDeniedException; query protocols: AccessDenied). */
const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied']);

/** Backoff between attempts, on top of the SDK's own quick retries. */
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10_000;
/** Time an attempt needs at least; no retry is started with less left. */
const MIN_ATTEMPT_MS = 1_000;

/**
 * How long one request waits out each kind of eventual consistency, from the first time it meets
 * it. A role or trust statement created in the same deployment takes up to a couple of minutes to
 * reach EKS (the Terraform AWS provider waits 2 minutes for IAM propagation); a policy change of the
 * handler's own role takes seconds; an association deleted moments ago blocks its service account
 * for a second or more (aws-controllers-k8s/community#2684). Past these windows the answer is taken
 * as final, so a real problem fails well within the Lambda timeout.
 */
export const CONSISTENCY_WINDOWS_MS = {
  'role-not-propagated': 120_000,
  'trust-not-propagated': 120_000,
  'access-denied': 60_000,
  'association-being-deleted': 60_000,
  // Add-on deletion is asynchronous: DeleteAddon answers status DELETING (EKS API model), and the add-on cannot be created again until it is gone.
  'addon-being-deleted': 180_000,
  // An add-on's own association goes some time after the add-on's update or rollback (UpdateAddon is asynchronous: it answers an update in progress, API model).
  'addon-association-being-released': 120_000,
} as const;

/** Network failures after which the request may or may not have reached AWS. */
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/** True when EKS answered "Role provided in the request does not exist". */
export function isRoleNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidParameterException' && ROLE_DOES_NOT_EXIST.test(error.message);
}

/** True when EKS answered that the role's trust policy does not let EKS Pod Identity assume it. */
export function isTrustPolicyInvalid(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidParameterException' && TRUST_POLICY_INVALID.test(error.message);
}

/** True when AWS answered that the caller's policies do not allow the request. */
export function isAccessDenied(error: unknown): boolean {
  return error instanceof Error && ACCESS_DENIED.has(error.name);
}

/** Why an answer is worth another attempt, or undefined when it is final. */
export type RetryReason = 'throttled' | 'server-error' | 'network' | ConsistencyReason;

/** Answers that eventual consistency explains for a while, and only for a while. */
export type ConsistencyReason = keyof typeof CONSISTENCY_WINDOWS_MS;

export function retryReason(error: unknown): RetryReason | undefined {
  if (!(error instanceof Error)) {
    return undefined;
  }
  const { $metadata, $fault, code } = error as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string; code?: string };
  const status = $metadata?.httpStatusCode;
  if (isRoleNotFound(error)) {
    return 'role-not-propagated';
  }
  if (isTrustPolicyInvalid(error)) {
    return 'trust-not-propagated';
  }
  if (isAccessDenied(error)) {
    // A policy of the handler's role changed in this deployment and has not reached every service yet.
    return 'access-denied';
  }
  if (status === 429 || error.name === 'ThrottlingException' || error.name === 'TooManyRequestsException' || error.name === 'Throttling') {
    return 'throttled';
  }
  if ($fault === 'server' || (status !== undefined && status >= 500)) {
    return 'server-error';
  }
  if (error.name === 'TimeoutError' || (code !== undefined && NETWORK_ERROR_CODES.has(code))) {
    return 'network';
  }
  return undefined;
}

/** The last answer of an operation that was retried until its time ran out. */
export class RetriesExhaustedError extends Error {
  constructor(
    public readonly lastAnswer: Error,
    public readonly reason: RetryReason,
    public readonly attempts: number,
    public readonly waitedMs: number,
    /** What ended the retries: the reason's consistency window, or the invocation's deadline. */
    public readonly endedBy: 'window' | 'deadline',
  ) {
    super(lastAnswer.message);
    this.name = 'RetriesExhaustedError';
  }
}

/**
 * Decides, for one request, whether a failed attempt gets another one and waits before it: transient
 * failures (throttling, server errors, the network) are retried until the deadline, eventual
 * consistency within its window (`CONSISTENCY_WINDOWS_MS`, counted from the first time this request
 * met that reason), always with jittered exponential backoff.
 */
export class Retrier {
  private readonly firstSeen = new Map<ConsistencyReason, number>();

  constructor(private readonly deadline: Deadline, private readonly log: Log) {}

  /** A retrier with the same consistency windows, bounded by another deadline. */
  public within(deadline: Deadline): Retrier {
    const retrier = new Retrier(deadline, this.log);
    for (const [reason, at] of this.firstSeen) {
      retrier.firstSeen.set(reason, at);
    }
    return retrier;
  }

  /**
   * Runs `attempt` until it succeeds, fails for good, or its retries run out. Every operation
   * retried here is idempotent: creates and updates carry a client request token.
   */
  public async run<T>(operation: string, attempt: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        const reason = retryReason(error);
        if (!reason) {
          throw error;
        }
        await this.pause(operation, reason, n, error as Error, started);
      }
    }
  }

  /**
   * Waits before attempt `n + 1` of `operation`, which failed for `reason`; throws a
   * `RetriesExhaustedError` carrying `answer` when no further attempt fits.
   */
  public async pause(operation: string, reason: RetryReason, n: number, answer: Error, started: number): Promise<void> {
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (n - 1));
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    if (this.windowClosed(reason, delay)) {
      throw new RetriesExhaustedError(answer, reason, n, Date.now() - started, 'window');
    }
    if (this.deadline.remainingMs() < delay + MIN_ATTEMPT_MS) {
      throw new RetriesExhaustedError(answer, reason, n, Date.now() - started, 'deadline');
    }
    this.log('retry', { operation, reason, attempt: n, retryInMs: delay });
    await new Promise(resolve => setTimeout(resolve, delay));
  }

  private windowClosed(reason: RetryReason, delay: number): boolean {
    if (!(reason in CONSISTENCY_WINDOWS_MS)) {
      return false;
    }
    const consistency = reason as ConsistencyReason;
    const now = Date.now();
    const first = this.firstSeen.get(consistency) ?? now;
    this.firstSeen.set(consistency, first);
    return now + delay - first > CONSISTENCY_WINDOWS_MS[consistency];
  }
}
