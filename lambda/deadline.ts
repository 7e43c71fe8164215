import type { LambdaContext } from './event';

/** Used when no Lambda context is given (the handler called directly). */
const DEFAULT_REMAINING_MS = 5 * 60_000;
/** Part of the remaining time kept back, so the handler answers before Lambda stops it. */
const MARGIN_FRACTION = 0.1;
const MAX_MARGIN_MS = 10_000;
/** Bounds of one HTTP attempt: long enough for a slow answer, short enough to retry a hung one. */
const MIN_ATTEMPT_MS = 1_000;
const MAX_ATTEMPT_MS = 20_000;

/**
 * The moment by which a request must be answered: the Lambda's remaining time less a margin.
 * Every AWS call and every retry wait is bounded by it, so no request hangs a stack.
 */
export class Deadline {
  /** The deadline of the current invocation. */
  public static fromContext(context: LambdaContext | undefined, now = Date.now()): Deadline {
    const remaining = context?.getRemainingTimeInMillis() ?? DEFAULT_REMAINING_MS;
    return new Deadline(now + remaining - Math.min(MAX_MARGIN_MS, remaining * MARGIN_FRACTION));
  }

  private constructor(private readonly at: number) {}

  /** Milliseconds left, never negative. */
  public remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  /**
   * Options for one SDK call: it is aborted at the deadline, and each HTTP attempt gets a third of
   * the time left (within bounds), so a connection that never answers is retried, not waited on.
   */
  public callOptions(): { abortSignal: AbortSignal; requestTimeout: number } {
    const remaining = this.remainingMs();
    return {
      abortSignal: AbortSignal.timeout(Math.max(1, remaining)),
      requestTimeout: Math.round(Math.min(MAX_ATTEMPT_MS, Math.max(MIN_ATTEMPT_MS, remaining / 3))),
    };
  }
}
