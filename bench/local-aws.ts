/**
 * The local AWS stand-ins the benchmark drives the handler against: EKS, SSM Parameter Store and
 * CloudFormation (test/fixtures), each on 127.0.0.1 with a random port; a stack directory for the
 * CloudFormation stand-in; and a check that every HTTP request of this process goes to 127.0.0.1.
 */
import { subscribe, unsubscribe } from 'diagnostics_channel';
import type { ClientRequest } from 'http';
import { STACK_ID } from './stacks';
import { CloudFormationEndpoint, startCloudFormationEndpoint } from '../test/fixtures/cloudformation-endpoint';
import { EksEndpoint, EksEndpointOptions, startEksEndpoint } from '../test/fixtures/eks-endpoint';
import { SsmEndpoint, startSsmEndpoint } from '../test/fixtures/ssm-endpoint';
import { StackBoard } from '../test/fixtures/stack-board';

/** The services the handler calls. */
export type Service = 'EKS' | 'SSM' | 'CloudFormation';
export const SERVICES: readonly Service[] = ['EKS', 'SSM', 'CloudFormation'];

/** Operations that change state (CloudFormation: the handler only reads). */
const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'CreatePodIdentityAssociation',
  'UpdatePodIdentityAssociation',
  'DeletePodIdentityAssociation',
  'TagResource',
  'UntagResource',
  'PutParameter',
  'DeleteParameter',
  'DeleteParameters',
]);

export function isWrite(operation: string): boolean {
  return WRITE_OPERATIONS.has(operation);
}

/** One request a stand-in received, whatever the service. */
export interface ServiceCall {
  readonly service: Service;
  readonly operation: string;
  readonly status: number | string;
  readonly errorType?: string;
  /** Arrival time, epoch milliseconds (fractional). */
  readonly arrivedAt: number;
  /** EKS: the namespace in the request body (a create's), to group attempts per association. */
  readonly namespace?: string;
}

/** Base URLs of the three stand-ins. */
export interface EndpointUrls {
  readonly eks: string;
  readonly ssm: string;
  readonly cloudformation: string;
}

/**
 * Stamps the arrival time of every item pushed onto a stand-in's live `calls` array (the fixtures
 * record calls, but not when they arrived).
 */
function stampArrivals<T extends object>(calls: T[], arrivals: WeakMap<object, number>): void {
  const push = calls.push.bind(calls);
  calls.push = (...items: T[]) => {
    const now = performance.timeOrigin + performance.now();
    for (const item of items) arrivals.set(item, now);
    return push(...items);
  };
}

/** The three stand-ins, started together. */
export interface LocalAws {
  readonly eks: EksEndpoint;
  readonly ssm: SsmEndpoint;
  readonly cloudformation: CloudFormationEndpoint;
  readonly stack: StackBoard;
  readonly urls: EndpointUrls;
  /** Every call since the start or the last `clearCalls()`, of all three, in arrival order. */
  calls(): ServiceCall[];
  clearCalls(): void;
  close(): Promise<void>;
}

export async function startLocalAws(eksOptions: EksEndpointOptions): Promise<LocalAws> {
  const stack = new StackBoard(STACK_ID, 'CREATE_IN_PROGRESS');
  const [eks, ssm, cloudformation] = await Promise.all([
    startEksEndpoint(eksOptions),
    startSsmEndpoint(),
    startCloudFormationEndpoint({ directory: stack }),
  ]);
  const arrivals = new WeakMap<object, number>();
  stampArrivals(eks.calls, arrivals);
  stampArrivals(ssm.calls, arrivals);
  stampArrivals(cloudformation.calls, arrivals);
  const at = (call: object) => arrivals.get(call) ?? NaN;
  return {
    eks,
    ssm,
    cloudformation,
    stack,
    urls: { eks: eks.url, ssm: ssm.url, cloudformation: cloudformation.url },
    calls: () => [
      ...eks.calls.map(c => ({
        service: 'EKS' as const,
        operation: c.operation,
        status: c.status,
        errorType: c.errorType,
        arrivedAt: at(c),
        namespace: typeof c.body === 'object' && c.body !== null ? (c.body as { namespace?: string }).namespace : undefined,
      })),
      ...ssm.calls.map(c => ({ service: 'SSM' as const, operation: c.operation, status: c.status, errorType: c.errorType, arrivedAt: at(c) })),
      ...cloudformation.calls.map(c => ({ service: 'CloudFormation' as const, operation: c.action, status: c.status, errorType: c.errorCode, arrivedAt: at(c) })),
    ].sort((a, b) => a.arrivedAt - b.arrivedAt),
    clearCalls: () => {
      eks.calls.length = 0;
      ssm.calls.length = 0;
      cloudformation.calls.length = 0;
    },
    close: async () => {
      await Promise.all([eks.close(), ssm.close(), cloudformation.close()]);
    },
  };
}

/** An endpoint URL that refuses every connection: the SDK's fallback for any service without its own. */
const REFUSING_ENDPOINT = 'http://127.0.0.1:9';

/**
 * Points every SDK client created from now on at the stand-ins, with dummy credentials, through the
 * SDK's standard configuration (`AWS_ENDPOINT_URL_<SERVICE>`); any other service would go to
 * `AWS_ENDPOINT_URL`, a closed port on 127.0.0.1. Shared config files, which could name other
 * endpoints or credentials, are not read, and the instance metadata service is never asked.
 */
export function configureEnvironment(urls: EndpointUrls, region: string): void {
  process.env.AWS_ENDPOINT_URL_EKS = urls.eks;
  process.env.AWS_ENDPOINT_URL_SSM = urls.ssm;
  process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = urls.cloudformation;
  process.env.AWS_ENDPOINT_URL = REFUSING_ENDPOINT;
  delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
  process.env.AWS_CONFIG_FILE = '/dev/null';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_REGION = region;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALBENCH';
  process.env.AWS_SECRET_ACCESS_KEY = 'local-bench-secret';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  // Each bundle copy would warn once that this Node.js is older than the SDK's next minimum; the
  // Lambda runtime (nodejs24.x) never sees it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}

/** HTTP requests this process started while a `RequestLedger` listened. */
export interface RequestLedger {
  /** Requests per `Host` header (`host:port`, as the SDK writes it from the endpoint URL). */
  readonly byHostHeader: Map<string, number>;
  /** Requests per host connected to (the request's `host` option, which the socket connects to). */
  readonly byHost: Map<string, number>;
  /** Requests whose connection went to a host other than 127.0.0.1. */
  outside(): number;
  /** Requests to `url` (a stand-in's base URL), by Host header. */
  to(url: string): number;
  stop(): void;
}

const REQUEST_START = 'http.client.request.start';

/**
 * Counts every HTTP request this process starts (Node's `http.client.request.start` diagnostics
 * channel, which every `http.request` / `https.request` publishes before it connects): the proof
 * that no call left 127.0.0.1, and a cross-check of what the stand-ins recorded.
 */
export function recordRequests(): RequestLedger {
  const byHostHeader = new Map<string, number>();
  const byHost = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const onRequest = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    count(byHost, request.host ?? '?');
    const header = request.getHeader('host');
    count(byHostHeader, typeof header === 'string' ? header : '?');
  };
  subscribe(REQUEST_START, onRequest);
  return {
    byHostHeader,
    byHost,
    outside: () => [...byHost.entries()].filter(([host]) => host !== '127.0.0.1').reduce((sum, [, n]) => sum + n, 0),
    to: (url: string) => byHostHeader.get(new URL(url).host) ?? 0,
    stop: () => unsubscribe(REQUEST_START, onRequest),
  };
}
