/**
 * API calls per lifecycle event on the happy path: the bundled handler against the local EKS
 * endpoint (no rate limit, no faults), one association through create, updates and delete.
 */
import { PodIdentityAssociation } from '../src';
import {
  DeclaredResource,
  configureEnvironment,
  createEvent,
  declaredResource,
  deleteEvent,
  lambdaContext,
  loadHandlerCopy,
  updateEvent,
  withHandlerLogs,
} from './handler';
import { ACCOUNT, CLUSTER_NAME, associationId, buildAndSynth } from './stacks';
import { startEksEndpoint } from '../test/fixtures/eks-endpoint';

export interface LifecycleEvent {
  readonly name: string;
  /** Write calls the event should take: one per create, update and delete, none when nothing changed. */
  readonly targetWrites: number;
  readonly calls: number;
  readonly writes: number;
  /** Operation names in order, e.g. `CreatePodIdentityAssociation`. */
  readonly operations: string[];
  /** Calls answered with something other than 200. */
  readonly nonOk: number;
  readonly logLines: number;
  /** The handler's error, if it failed (it must not on the happy path). */
  readonly error?: string;
}

/** The association's properties as the construct writes them, with these tags. */
function declared(tags: Record<string, string>): DeclaredResource {
  const { template } = buildAndSynth((stack, cluster) => {
    new PodIdentityAssociation(stack, associationId(0), { cluster, namespace: 'payments', serviceAccount: 'api', tags });
  }, 1);
  return declaredResource(template);
}

function withRole(resource: DeclaredResource, roleName: string): DeclaredResource {
  return { ...resource, properties: { ...resource.properties, RoleArn: `arn:aws:iam::${ACCOUNT}:role/${roleName}` } };
}

export async function measureLifecycle(): Promise<LifecycleEvent[]> {
  const endpoint = await startEksEndpoint({ clusters: [CLUSTER_NAME] });
  try {
    configureEnvironment(endpoint.url);
    const handler = loadHandlerCopy();
    const initial = withRole(declared({ team: 'payments' }), 'payments-api');
    const roleChanged = withRole(initial, 'payments-api-v2');
    const tagChanged = withRole(declared({ team: 'billing' }), 'payments-api-v2');
    const tagSwapped = withRole(declared({ owner: 'platform' }), 'payments-api-v2');

    const events: LifecycleEvent[] = [];
    let physicalId = '';
    const run = async (name: string, event: () => ReturnType<typeof createEvent>, targetWrites: number) => {
      endpoint.calls.length = 0;
      let error: string | undefined;
      const { lines } = await withHandlerLogs(async () => {
        try {
          physicalId = (await handler(event(), lambdaContext(300_000))).PhysicalResourceId;
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
      });
      const calls = [...endpoint.calls];
      events.push({
        name,
        targetWrites,
        calls: calls.length,
        writes: endpoint.writeCalls().length,
        operations: calls.map(c => c.operation),
        nonOk: calls.filter(c => c.status !== 200).length,
        logLines: lines.length,
        error,
      });
    };

    await run('Create', () => createEvent(initial), 1);
    await run('Update: role changed', () => updateEvent(physicalId, initial, roleChanged), 1);
    await run('Update: tags only (one value changed)', () => updateEvent(physicalId, roleChanged, tagChanged), 1);
    await run('Update: tags only (one key removed, one added)', () => updateEvent(physicalId, tagChanged, tagSwapped), 1);
    await run('Update: nothing changed', () => updateEvent(physicalId, tagSwapped, tagSwapped), 0);
    await run('Delete', () => deleteEvent(physicalId, tagSwapped), 1);
    return events;
  } finally {
    await endpoint.close();
  }
}
