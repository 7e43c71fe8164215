/**
 * The rate-limited burst: 200 Create events invoked concurrently, each through its own freshly
 * loaded copy of the bundle (Lambda runs concurrent invocations in separate containers, each with
 * its own SDK clients and adaptive-retry state), against the local EKS endpoint limited to 10
 * requests per second (a token bucket whose burst is also 10). The EKS, SSM and CloudFormation
 * stand-ins run in their own process (endpoint-child.ts) on 127.0.0.1 and stop when the burst is
 * done; every HTTP request of the handler copies is counted by destination.
 */
import { ChildProcess, fork } from 'child_process';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import type { ChildMessage, EndpointReport, ParentMessage } from './endpoint-child';
import { createEvent, declaredResources, lambdaContext, loadHandlerCopy, withHandlerLogs } from './handler';
import { EndpointUrls, SERVICES, Service, configureEnvironment, recordRequests } from './local-aws';
import { CLUSTER_NAME, REGION, buildAndSynth, variantBuilder } from './stacks';
import { max, median } from './stats';

export interface BurstResult {
  readonly associations: number;
  readonly rateLimitPerSecond: number;
  /** associations / rate, in ms: the time the endpoint needs to accept them all at best. */
  readonly idealMs: number;
  /** From the first invocation to the last one settled. */
  readonly totalMs: number;
  readonly failures: number;
  /** Distinct error messages of the failures (first 300 characters), with their counts. */
  readonly failureMessages: { message: string; count: number }[];
  /** Attempts the endpoint saw for each failed association. */
  readonly failedAttempts: number[];
  /** Calls the stand-ins recorded, all services. */
  readonly calls: number;
  readonly callsByService: Record<Service, number>;
  /** HTTP requests the handler copies started, all destinations (equal to `calls` when every one reached a stand-in). */
  readonly requests: number;
  /** Of those, requests to a host other than 127.0.0.1 (must be 0). */
  readonly requestsOutside: number;
  /** SSM parameters (transfer records) left at the end. */
  readonly parametersLeft: number;
  readonly throttled: number;
  readonly otherErrors: number;
  readonly endpointAssociations: number;
  readonly distinctSubjects: number;
  /** Create attempts per association: median and max. */
  readonly attemptsMedian: number;
  readonly attemptsMax: number;
  /** From the start to the first request the endpoint received, and to the last successful create. */
  readonly firstArrivalMs: number;
  readonly lastSuccessMs: number;
  /** Settle time of the invocations: median and max, from the start. */
  readonly settleMedianMs: number;
  /** Loading the 200 bundle copies before the burst (not part of totalMs). */
  readonly loadMs: number;
  /** Event-loop delay of this (the clients') process during the burst. */
  readonly eventLoopDelayMaxMs: number;
  readonly eventLoopDelayMeanMs: number;
  /** The handler's log lines by `event`, summed over all invocations. */
  readonly logEvents: Record<string, number>;
}

class EndpointProcess {
  public static async start(options: Record<string, unknown>): Promise<EndpointProcess> {
    const child = fork(path.join(__dirname, 'endpoint-child.ts'), [JSON.stringify(options)], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, 'tsconfig.json') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const urls = await new Promise<EndpointUrls>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', code => reject(new Error(`the endpoint process exited with ${code} before it was ready`)));
      child.once('message', (message: ChildMessage) => {
        if (message.type === 'ready') resolve(message.urls);
        else reject(new Error(`the endpoint process failed: ${message.type === 'error' ? message.message : message.type}`));
      });
    });
    child.removeAllListeners('exit');
    return new EndpointProcess(child, urls);
  }

  private constructor(private readonly child: ChildProcess, public readonly urls: EndpointUrls) {}

  public async report(): Promise<EndpointReport> {
    return new Promise<EndpointReport>((resolve, reject) => {
      this.child.once('message', (message: ChildMessage) => {
        if (message.type === 'report') resolve(message.report);
        else reject(new Error(`unexpected message from the endpoint process: ${message.type}`));
      });
      this.child.send({ type: 'report' } satisfies ParentMessage);
    });
  }

  public async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>(resolve => this.child.once('exit', () => resolve()));
    if (this.child.connected) {
      this.child.send({ type: 'close' } satisfies ParentMessage);
    } else {
      this.child.kill();
    }
    const timer = setTimeout(() => this.child.kill(), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export async function measureBurst(count: number, rateLimitPerSecond: number, progress: (message: string) => void): Promise<BurstResult> {
  // The properties of `count` associations exactly as the construct writes them.
  const { template } = buildAndSynth(variantBuilder('construct'), count);
  const resources = declaredResources(template);
  if (resources.length !== count) {
    throw new Error(`expected ${count} associations in the construct template, found ${resources.length}`);
  }

  const endpoint = await EndpointProcess.start({ clusters: [CLUSTER_NAME], rateLimitPerSecond });
  const ledger = recordRequests();
  try {
    configureEnvironment(endpoint.urls, REGION);
    const loadStart = performance.now();
    const handlers = resources.map(() => loadHandlerCopy());
    const loadMs = performance.now() - loadStart;
    progress(`burst: loaded ${count} bundle copies in ${Math.round(loadMs)} ms; invoking`);

    const events = resources.map(resource => createEvent(resource));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const startedAt = performance.timeOrigin + performance.now();
    const t0 = performance.now();
    const settleMs: number[] = [];
    const { result: outcomes, lines } = await withHandlerLogs(() => Promise.allSettled(handlers.map(async (handler, i) => {
      try {
        return await handler(events[i], lambdaContext(300_000));
      } finally {
        settleMs.push(performance.now() - t0);
      }
    })));
    const totalMs = performance.now() - t0;
    delay.disable();

    const report = await endpoint.report();
    const failed = outcomes
      .map((outcome, i) => ({ outcome, namespace: resources[i].properties.Namespace as string }))
      .filter((entry): entry is { outcome: PromiseRejectedResult; namespace: string } => entry.outcome.status === 'rejected');
    const messages = new Map<string, number>();
    for (const { outcome } of failed) {
      const text = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
      const key = text.slice(0, 300);
      messages.set(key, (messages.get(key) ?? 0) + 1);
    }
    const eks = report.calls.filter(c => c.service === 'EKS');
    const creates = eks.filter(c => c.operation === 'CreatePodIdentityAssociation');
    const attempts = new Map<string, number>();
    for (const call of creates) {
      attempts.set(call.namespace ?? '?', (attempts.get(call.namespace ?? '?') ?? 0) + 1);
    }
    const successes = creates.filter(c => c.status === 200);
    const logEvents: Record<string, number> = {};
    for (const line of lines) {
      let event = '(not JSON)';
      try {
        event = String((JSON.parse(line) as { event?: unknown }).event);
      } catch {
        // counted as not JSON
      }
      logEvents[event] = (logEvents[event] ?? 0) + 1;
    }

    return {
      associations: count,
      rateLimitPerSecond,
      idealMs: (count / rateLimitPerSecond) * 1000,
      totalMs,
      failures: failed.length,
      failureMessages: [...messages.entries()].map(([message, n]) => ({ message, count: n })),
      failedAttempts: failed.map(f => attempts.get(f.namespace) ?? 0),
      calls: report.calls.length,
      callsByService: Object.fromEntries(
        SERVICES.map(service => [service, report.calls.filter(c => c.service === service).length]),
      ) as Record<Service, number>,
      requests: [...ledger.byHost.values()].reduce((sum, n) => sum + n, 0),
      requestsOutside: ledger.outside(),
      parametersLeft: report.parameters,
      throttled: eks.filter(c => c.status === 429).length,
      otherErrors: report.calls.filter(c => c.status !== 200 && c.status !== 429).length,
      endpointAssociations: report.associations,
      distinctSubjects: report.distinctSubjects,
      attemptsMedian: median([...attempts.values()]),
      attemptsMax: max([...attempts.values()]),
      firstArrivalMs: Math.min(...report.calls.map(c => c.arrivedAt)) - startedAt,
      lastSuccessMs: Math.max(...successes.map(c => c.arrivedAt)) - startedAt,
      settleMedianMs: median(settleMs),
      loadMs,
      eventLoopDelayMaxMs: delay.max / 1e6,
      eventLoopDelayMeanMs: delay.mean / 1e6,
      logEvents,
    };
  } finally {
    ledger.stop();
    await endpoint.close();
  }
}
