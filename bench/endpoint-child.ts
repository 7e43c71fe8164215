/**
 * The local stand-ins for the burst in their own Node process: EKS (rate-limited), SSM Parameter
 * Store and CloudFormation, each on 127.0.0.1. The 200 handler copies in the parent use a lot of
 * CPU when they start, and the EKS endpoint's rate limiter must not lose time to that (on Lambda
 * each invocation has its own CPU; here the endpoints get their own core).
 *
 * Started by burst.ts with `fork()`; argv[2] is the JSON of the EKS endpoint options. Speaks over
 * IPC: sends `{ type: 'ready', urls }`, answers `{ type: 'report' }` with the calls each stand-in
 * recorded (and their arrival times, epoch ms) and the associations, and stops on
 * `{ type: 'close' }` or when the parent goes away.
 */
import { EndpointUrls, ServiceCall, startLocalAws } from './local-aws';
import type { EksEndpointOptions } from '../test/fixtures/eks-endpoint';

export interface EndpointReport {
  /** The calls of all three stand-ins, in arrival order. */
  readonly calls: ServiceCall[];
  readonly associations: number;
  /** Distinct namespace/service account pairs among the associations. */
  readonly distinctSubjects: number;
  /** SSM parameters left (transfer records). */
  readonly parameters: number;
}

export type ParentMessage = { type: 'report' } | { type: 'close' };
export type ChildMessage = { type: 'ready'; urls: EndpointUrls } | { type: 'report'; report: EndpointReport } | { type: 'error'; message: string };

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as EksEndpointOptions;
  const aws = await startLocalAws(options);
  // The burst's Creates run while the stack is being created.
  aws.stack.status = 'CREATE_IN_PROGRESS';

  const send = (message: ChildMessage) => process.send?.(message);
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await aws.close();
    // With the servers closed and IPC gone, nothing keeps the process alive: it exits.
    if (process.connected) {
      process.disconnect();
    }
  };
  process.on('disconnect', () => void close());
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'report') {
      const associations = aws.eks.associations();
      send({
        type: 'report',
        report: {
          calls: aws.calls(),
          associations: associations.length,
          distinctSubjects: new Set(associations.map(a => `${a.clusterName}/${a.namespace}/${a.serviceAccount}`)).size,
          parameters: aws.ssm.parameters().size,
        },
      });
    } else if (message.type === 'close') {
      void close();
    }
  });
  send({ type: 'ready', urls: aws.urls });
}

main().catch((error: unknown) => {
  process.send?.({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) });
  process.exit(1);
});
