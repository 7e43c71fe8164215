/**
 * The local EKS endpoint in its own Node process, for the burst: the 200 handler copies in the
 * parent use a lot of CPU when they start, and the endpoint's rate limiter must not lose time to
 * that (on Lambda each invocation has its own CPU; here the endpoint gets its own core).
 *
 * Started by burst.ts with `fork()`; argv[2] is the JSON of the endpoint options. Speaks over IPC:
 * sends `{ type: 'ready', url }`, answers `{ type: 'report' }` with the recorded calls (and their
 * arrival times, epoch ms) and the associations, and stops on `{ type: 'close' }` or when the
 * parent goes away. Binds to 127.0.0.1 only.
 */
import { EksEndpointOptions, RecordedCall, startEksEndpoint } from '../test/fixtures/eks-endpoint';

/** A recorded call as the report carries it. */
export interface ReportedCall {
  readonly operation: string;
  readonly status: number | string;
  readonly errorType?: string;
  /** Arrival time, epoch milliseconds (fractional). */
  readonly arrivedAt: number;
  /** The namespace of a create (its body), to group attempts per association. */
  readonly namespace?: string;
}

export interface EndpointReport {
  readonly calls: ReportedCall[];
  readonly associations: number;
  /** Distinct namespace/service account pairs among the associations. */
  readonly distinctSubjects: number;
}

export type ParentMessage = { type: 'report' } | { type: 'close' };
export type ChildMessage = { type: 'ready'; url: string } | { type: 'report'; report: EndpointReport } | { type: 'error'; message: string };

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as EksEndpointOptions;
  const endpoint = await startEksEndpoint(options);
  // The fixture records calls but not when they arrived; stamp them as they are pushed.
  const arrivals = new WeakMap<RecordedCall, number>();
  const push = endpoint.calls.push.bind(endpoint.calls);
  endpoint.calls.push = (...items: RecordedCall[]) => {
    const now = performance.timeOrigin + performance.now();
    for (const item of items) arrivals.set(item, now);
    return push(...items);
  };

  const send = (message: ChildMessage) => process.send?.(message);
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await endpoint.close();
    // With the server closed and IPC gone, nothing keeps the process alive: it exits.
    if (process.connected) {
      process.disconnect();
    }
  };
  process.on('disconnect', () => void close());
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'report') {
      const associations = endpoint.associations();
      send({
        type: 'report',
        report: {
          calls: endpoint.calls.map(call => ({
            operation: call.operation,
            status: call.status,
            errorType: call.errorType,
            arrivedAt: arrivals.get(call) ?? NaN,
            namespace: typeof call.body === 'object' && call.body !== null ? (call.body as { namespace?: string }).namespace : undefined,
          })),
          associations: associations.length,
          distinctSubjects: new Set(associations.map(a => `${a.clusterName}/${a.namespace}/${a.serviceAccount}`)).size,
        },
      });
    } else if (message.type === 'close') {
      void close();
    }
  });
  send({ type: 'ready', url: endpoint.url });
}

main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) });
  process.exit(1);
});
