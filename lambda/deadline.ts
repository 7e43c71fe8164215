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
 * Every AWS call and every retry wait is bounded by it, so no request hangs a stack. Three
 * quarters of the margin may be spent cleaning up after a failure (`forCleanup()`).
 */
export class Deadline {
  /** The deadline of the current invocation. */
  public static fromContext(context: LambdaContext | undefined, now = Date.now()): Deadline {
    const remaining = context?.getRemainingTimeInMillis() ?? DEFAULT_REMAINING_MS;
    const margin = Math.min(MAX_MARGIN_MS, remaining * MARGIN_FRACTION);
    // Whole milliseconds: Node's timers reject fractions.
    return new Deadline(Math.floor(now + remaining - margin), Math.floor(now + remaining - margin / 4));
  }

  private constructor(private readonly at: number, private readonly cleanupAt: number) {}

  /** Milliseconds left, never negative. */
  public remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  /** A deadline for undoing a failed step, which may also use most of the margin. */
  public forCleanup(): Deadline {
    return new Deadline(this.cleanupAt, this.cleanupAt);
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
