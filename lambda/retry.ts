import type { Deadline } from './deadline';
import { isRoleNotFound } from './errors';
import type { Log } from './log';

/** Backoff between attempts while IAM propagates a new role. */
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 10_000;
/** Time an attempt needs at least; no retry is started with less left. */
const MIN_ATTEMPT_MS = 1_000;

/** The last "role does not exist" answer, and how long the handler waited for the role. */
export class RoleNotPropagatedError extends Error {
  constructor(public readonly lastAnswer: Error, public readonly waitedMs: number) {
    super(lastAnswer.message);
    this.name = 'RoleNotPropagatedError';
  }
}

/**
 * Runs `attempt` until EKS stops answering "Role provided in the request does not exist" (a role
 * created seconds ago is not visible to EKS until IAM propagates it), with jittered exponential
 * backoff, within the deadline. Every other outcome is returned or thrown at once.
 */
export async function retryWhileRolePropagates<T>(deadline: Deadline, log: Log, attempt: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isRoleNotFound(error)) {
        throw error;
      }
      const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (n - 1));
      const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
      if (deadline.remainingMs() < delay + MIN_ATTEMPT_MS) {
        throw new RoleNotPropagatedError(error as Error, Date.now() - started);
      }
      log('role-not-propagated-yet', { attempt: n, retryInMs: delay });
      await new Promise(resolve => setTimeout(resolve, delay));
    }
  }
}
