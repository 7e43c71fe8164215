import type { Deadline } from './deadline';
import { FailedAction, RequestError } from './errors';
import type { Log } from './log';
import type { Retrier } from './retry';

/** Options of one SDK call (abort at the deadline, per-attempt timeout). */
export type CallOptions = ReturnType<Deadline['callOptions']>;

/** How `send()` makes a call: within which deadline, and what its log line says beyond the operation. */
export interface SendOptions {
  readonly deadline?: Deadline;
  readonly fields?: Record<string, unknown>;
}

/**
 * Makes the AWS calls of one request: each call is bounded by the request's deadline, retried while
 * its failure is worth retrying, logged in one line, and a final failure becomes a `RequestError`
 * that says what was asked and what the service answered.
 */
export class Calls {
  constructor(
    public readonly deadline: Deadline,
    public readonly retrier: Retrier,
    public readonly log: Log,
  ) {}

  /** The same calls, bounded by the cleanup part of the deadline (to undo a failed step). */
  public forCleanup(): Calls {
    const deadline = this.deadline.forCleanup();
    return new Calls(deadline, this.retrier.within(deadline), this.log);
  }

  public async send<T>(failed: FailedAction, operation: string, call: (options: CallOptions) => Promise<T>, how: SendOptions = {}): Promise<T> {
    const deadline = how.deadline ?? this.deadline;
    const retrier = how.deadline ? this.retrier.within(deadline) : this.retrier;
    const started = Date.now();
    try {
      const result = await retrier.run(operation, () => call(deadline.callOptions()));
      const associationId = (result as { association?: { associationId?: string } } | undefined)?.association?.associationId;
      this.log(operation, { ...(associationId ? { associationId } : {}), ...how.fields, ms: Date.now() - started });
      return result;
    } catch (error) {
      const failure = new RequestError(failed, error);
      const answer = failure.cause instanceof Error ? failure.cause.name : String(failure.cause);
      this.log(operation, { ...how.fields, ms: Date.now() - started, error: answer });
      throw failure;
    }
  }
}
