import type { Deadline } from './deadline';
import type { Log } from './log';

/** The text of EKS's answer when a role was created moments ago and IAM has not propagated it yet. */
const ROLE_DOES_NOT_EXIST = /role provided in the request does not exist/i;

/** Backoff between attempts, on top of the SDK's own quick retries. */
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10_000;
/** Time an attempt needs at least; no retry is started with less left. */
const MIN_ATTEMPT_MS = 1_000;

/** Network failures after which the request may or may not have reached EKS. */
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/** True when EKS answered "Role provided in the request does not exist". */
export function isRoleNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidParameterException' && ROLE_DOES_NOT_EXIST.test(error.message);
}

/** Why an answer is worth another attempt, or undefined when it is final. */
export type RetryReason = 'role-not-propagated' | 'throttled' | 'server-error' | 'network';

export function retryReason(error: unknown): RetryReason | undefined {
  if (!(error instanceof Error)) {
    return undefined;
  }
  const { $metadata, $fault, code } = error as Error & { $metadata?: { httpStatusCode?: number }; $fault?: string; code?: string };
  const status = $metadata?.httpStatusCode;
  if (isRoleNotFound(error)) {
    // A role created seconds ago is not visible to EKS until IAM propagates it.
    return 'role-not-propagated';
  }
  if (status === 429 || error.name === 'ThrottlingException' || error.name === 'TooManyRequestsException') {
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

/** The last answer of an operation that was retried until the deadline. */
export class RetriesExhaustedError extends Error {
  constructor(
    public readonly lastAnswer: Error,
    public readonly reason: RetryReason,
    public readonly attempts: number,
    public readonly waitedMs: number,
  ) {
    super(lastAnswer.message);
    this.name = 'RetriesExhaustedError';
  }
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the deadline leaves no time for another
 * attempt. IAM propagation, throttling, server errors and network failures are retried with
 * jittered exponential backoff (after the SDK's own retries); every other error is thrown at once.
 * Every operation retried here is idempotent: creates and updates carry a client request token.
 */
export async function retryWithinDeadline<T>(deadline: Deadline, log: Log, operation: string, attempt: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const reason = retryReason(error);
      if (!reason) {
        throw error;
      }
      const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (n - 1));
      const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      if (deadline.remainingMs() < delay + MIN_ATTEMPT_MS) {
        throw new RetriesExhaustedError(error as Error, reason, n, Date.now() - started);
      }
      log('retry', { operation, reason, attempt: n, retryInMs: delay });
      await new Promise(resolve => setTimeout(resolve, delay));
    }
  }
}
