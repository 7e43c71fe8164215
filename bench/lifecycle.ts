/**
 * API calls per lifecycle event on the happy path: the bundled handler against the local EKS, SSM
 * and CloudFormation stand-ins (no rate limit, no faults), through the deployments of one stack:
 * its creation, updates of an association (in place and by replacement), a takeover with
 * `adoptExisting`, and its deletion, with the requests of the stack's transfers resource and the
 * EventBridge events of completed operations in between, where CloudFormation would send them.
 * The stack directory tells the handler the stack's status and what its resources hold, as
 * CloudFormation would at each point.
 */
import { PodIdentityAssociation, PodIdentityAssociationProps } from '../src';
import {
  DeclaredResource,
  Handler,
  createEvent,
  declaredResource,
  deleteEvent,
  lambdaContext,
  loadHandlerCopy,
  stackOperationEndedEvent,
  transfersEvent,
  updateEvent,
  withHandlerLogs,
} from './handler';
import { SERVICES, Service, ServiceCall, configureEnvironment, isWrite, recordRequests, startLocalAws } from './local-aws';
import { ACCOUNT, CLUSTER_NAME, REGION, associationId, buildAndSynth } from './stacks';
import { ASSOCIATION_RESOURCE_TYPE, TRANSFERS_RESOURCE_TYPE } from '../src/private/contract';
import type { StackStatus } from '../test/fixtures/world';

/** Calls of one service during one event. */
export interface ServiceCalls {
  readonly calls: number;
  readonly writes: number;
  /** Operation names in order, shortened (`Create` for `CreatePodIdentityAssociation`), with the status of any non-200 answer. */
  readonly operations: string[];
}

export interface LifecycleEvent {
  readonly name: string;
  /** Shown in the table; the others are listed in the notes. */
  readonly shown: boolean;
  /** Where the table lists it: association requests, then the transfers resource, then EventBridge. */
  readonly group: 0 | 1 | 2;
  /** Write calls (all services) the event should take; undefined: no target. */
  readonly targetWrites?: number;
  readonly calls: number;
  readonly writes: number;
  readonly byService: Record<Service, ServiceCalls>;
  /** Calls answered with something other than 200. */
  readonly nonOk: number;
  /** Non-200 answers the event is expected to get (a takeover's create meets the existing association: 409). */
  readonly expectedNonOk: number;
  /** HTTP requests the handler started during the event (the stand-ins must have recorded each). */
  readonly requests: number;
  /** Of those, requests to a host other than 127.0.0.1 (must be 0). */
  readonly requestsOutside: number;
  readonly logLines: number;
  /** The handler's error, if it failed (it must not on the happy path). */
  readonly error?: string;
}

type AssociationOptions = Omit<PodIdentityAssociationProps, 'cluster'>;

/** The association's properties as the construct writes them. */
function declared(options: Partial<AssociationOptions>, index = 0): DeclaredResource {
  const { template } = buildAndSynth((stack, cluster) => {
    new PodIdentityAssociation(stack, associationId(index), { cluster, namespace: 'payments', serviceAccount: 'api', ...options });
  }, 1);
  return declaredResource(template);
}

function withRole(resource: DeclaredResource, roleName: string): DeclaredResource {
  return { ...resource, properties: { ...resource.properties, RoleArn: `arn:aws:iam::${ACCOUNT}:role/${roleName}` } };
}

/** `<logical id> <cluster> <namespace> <service account>`, as the transfers resource lists each association. */
function identityOf(resource: DeclaredResource): string {
  const p = resource.properties;
  return `${resource.logicalId} ${String(p.ClusterName)} ${String(p.Namespace)} ${String(p.ServiceAccount)}`;
}

function shortName(call: ServiceCall): string {
  const name = call.operation.replace('PodIdentityAssociations', '').replace('PodIdentityAssociation', '');
  return call.status === 200 ? name : `${name}: ${call.status}${call.errorType ? ` ${call.errorType}` : ''}`;
}

const TRANSFERS_ID = 'PodIdentityAssociationProviderTransfers';

export interface LifecycleResult {
  /** In the order they ran. */
  readonly events: LifecycleEvent[];
  /** What went differently from the happy path, besides failed events. */
  readonly problems: string[];
}

export async function measureLifecycle(): Promise<LifecycleResult> {
  const aws = await startLocalAws({ clusters: [CLUSTER_NAME] });
  const ledger = recordRequests();
  try {
    configureEnvironment(aws.urls, REGION);
    const handler: Handler = loadHandlerCopy();
    const initial = withRole(declared({ tags: { team: 'payments' } }), 'payments-api');
    const roleChanged = withRole(initial, 'payments-api-v2');
    const tagChanged = withRole(declared({ tags: { team: 'billing' } }), 'payments-api-v2');
    const tagSwapped = withRole(declared({ tags: { owner: 'platform' } }), 'payments-api-v2');
    const moved = withRole(declared({ serviceAccount: 'api-v2', tags: { owner: 'platform' } }), 'payments-api-v2');
    const adopter = withRole(declared({ serviceAccount: 'worker', tags: { team: 'payments' }, adoptExisting: true }, 1), 'payments-worker');

    const events: LifecycleEvent[] = [];
    const problems: string[] = [];
    const stack = aws.stack;
    const run = async <T>(
      name: string,
      request: () => Parameters<Handler>[0],
      options: { targetWrites?: number; shown?: boolean; group?: 0 | 1 | 2; expectedNonOk?: number } = {},
    ): Promise<T | undefined> => {
      aws.clearCalls();
      const before = new Map(ledger.byHost);
      let error: string | undefined;
      let response: T | undefined;
      const { lines } = await withHandlerLogs(async () => {
        try {
          response = await handler(request(), lambdaContext(300_000)) as T;
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
      });
      const calls = aws.calls();
      const requestsBy = (filter: (host: string) => boolean) => [...ledger.byHost.entries()]
        .filter(([host]) => filter(host))
        .reduce((sum, [host, n]) => sum + n - (before.get(host) ?? 0), 0);
      const byService = Object.fromEntries(SERVICES.map(service => {
        const of = calls.filter(c => c.service === service);
        return [service, { calls: of.length, writes: of.filter(c => isWrite(c.operation)).length, operations: of.map(shortName) }];
      })) as Record<Service, ServiceCalls>;
      events.push({
        name,
        shown: options.shown ?? true,
        group: options.group ?? 0,
        targetWrites: options.targetWrites,
        calls: calls.length,
        writes: calls.filter(c => isWrite(c.operation)).length,
        byService,
        nonOk: calls.filter(c => c.status !== 200).length,
        expectedNonOk: options.expectedNonOk ?? 0,
        requests: requestsBy(() => true),
        requestsOutside: requestsBy(host => host !== '127.0.0.1'),
        logLines: lines.length,
        error,
      });
      return response;
    };
    type Response = { PhysicalResourceId: string };
    const holds = (resource: DeclaredResource, physicalResourceId: string | undefined, status: 'CREATE_COMPLETE' | 'UPDATE_COMPLETE' = 'UPDATE_COMPLETE') =>
      stack.resources.set(resource.logicalId, { resourceType: ASSOCIATION_RESOURCE_TYPE, physicalResourceId, status });
    const transfersHold = (physicalResourceId: string | undefined) =>
      stack.resources.set(TRANSFERS_ID, { resourceType: TRANSFERS_RESOURCE_TYPE, physicalResourceId, status: 'UPDATE_COMPLETE' });
    const phase = (status: StackStatus) => {
      stack.status = status;
    };

    // Deployment 1: the stack is created with one association; EventBridge reports its completion.
    phase('CREATE_IN_PROGRESS');
    let transfers = (await run<Response>('Transfers resource: Create or Update (new physical id)', () => transfersEvent('Create', [identityOf(initial)]), { targetWrites: 0, group: 1 }))?.PhysicalResourceId;
    transfersHold(transfers);
    let physicalId = (await run<Response>('Create', () => createEvent(initial), { targetWrites: 1 }))?.PhysicalResourceId ?? '';
    holds(initial, physicalId, 'CREATE_COMPLETE');
    phase('CREATE_COMPLETE');
    await run('EventBridge: stack operation completed, no transfer records', () => stackOperationEndedEvent('CREATE_COMPLETE'), { targetWrites: 0, group: 2 });

    // Deployments 2 to 5: in-place updates (the transfers resource's properties do not change).
    const update = async (name: string, previous: DeclaredResource, next: DeclaredResource, targetWrites: number) => {
      phase('UPDATE_IN_PROGRESS');
      physicalId = (await run<Response>(name, () => updateEvent(physicalId, previous, next), { targetWrites }))?.PhysicalResourceId ?? physicalId;
      holds(next, physicalId);
      phase('UPDATE_COMPLETE');
      await run(`${name}: EventBridge, operation completed`, () => stackOperationEndedEvent('UPDATE_COMPLETE'), { targetWrites: 0, shown: false, group: 2 });
    };
    await update('Update: role changed', initial, roleChanged, 1);
    await update('Update: tags only (one value changed)', roleChanged, tagChanged, 1);
    await update('Update: tags only (one key removed, one added)', tagChanged, tagSwapped, 1);
    await update('Update: nothing changed', tagSwapped, tagSwapped, 0);

    // Deployment 6: the service account changes: a new association; the cleanup deletes the old one
    // and the transfers resource's previous physical id.
    phase('UPDATE_IN_PROGRESS');
    const previousTransfers = transfers;
    transfers = (await run<Response>('Transfers resource: Update (an association changed service account)', () => transfersEvent('Update', [identityOf(moved)], transfers), { targetWrites: 0, shown: false, group: 1 }))?.PhysicalResourceId;
    transfersHold(transfers);
    const replaced = physicalId;
    physicalId = (await run<Response>('Update: service account changed (replacement: a new association)', () => updateEvent(replaced, tagSwapped, moved), { targetWrites: 1 }))?.PhysicalResourceId ?? '';
    holds(moved, physicalId);
    phase('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    await run('Delete of the replaced association (the update\'s cleanup)', () => deleteEvent(replaced, tagSwapped), { targetWrites: 1 });
    await run('Transfers resource: Delete of the previous one (cleanup), no transfer records', () => transfersEvent('Delete', [identityOf(initial)], previousTransfers), { targetWrites: 0, group: 1 });
    phase('UPDATE_COMPLETE');
    await run('EventBridge after the replacement', () => stackOperationEndedEvent('UPDATE_COMPLETE'), { targetWrites: 0, shown: false, group: 2 });

    // Deployment 7: a second association adopts one made by hand (another role, a tag of its own);
    // the cleanup's Delete of the transfers resource makes the takeover final.
    const handMade = aws.eks.seedAssociation({
      clusterName: CLUSTER_NAME, namespace: 'payments', serviceAccount: 'worker', roleArn: `arn:aws:iam::${ACCOUNT}:role/console-made`, tags: { origin: 'console' },
    });
    phase('UPDATE_IN_PROGRESS');
    const beforeAdoption = transfers;
    transfers = (await run<Response>('Transfers resource: Update (an association added)', () => transfersEvent('Update', [identityOf(moved), identityOf(adopter)], transfers), { targetWrites: 0, shown: false, group: 1 }))?.PhysicalResourceId;
    transfersHold(transfers);
    const adopted = (await run<Response>('Create with adoptExisting over a hand-made association (takeover)', () => createEvent(adopter), { expectedNonOk: 1 }))?.PhysicalResourceId;
    if (adopted !== handMade.associationArn) {
      problems.push(`the adopting Create answered ${adopted}, not the hand-made association ${handMade.associationArn}`);
    }
    holds(adopter, adopted, 'CREATE_COMPLETE');
    phase('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    await run('Transfers resource: Delete of the previous one (cleanup), settles the takeover\'s record', () => transfersEvent('Delete', [identityOf(moved)], beforeAdoption), { group: 1 });
    phase('UPDATE_COMPLETE');
    await run('EventBridge after the takeover', () => stackOperationEndedEvent('UPDATE_COMPLETE'), { targetWrites: 0, shown: false, group: 2 });

    // Deployment 8: the stack is deleted.
    phase('DELETE_IN_PROGRESS');
    await run('Delete', () => deleteEvent(physicalId, moved), { targetWrites: 1 });
    await run('Delete of the adopted association', () => deleteEvent(adopted ?? '', adopter), { targetWrites: 1, shown: false });
    await run('Transfers resource: Delete (stack deletion), no transfer records', () => transfersEvent('Delete', [identityOf(moved), identityOf(adopter)], transfers), { targetWrites: 0, shown: false, group: 1 });

    const left = { associations: aws.eks.associations().length, parameters: aws.ssm.parameters().size };
    if (left.associations > 0 || left.parameters > 0) {
      problems.push(`after the stack's deletion the stand-ins still hold ${left.associations} association(s) and ${left.parameters} SSM parameter(s)`);
    }
    return { events, problems };
  } finally {
    ledger.stop();
    await aws.close();
  }
}
