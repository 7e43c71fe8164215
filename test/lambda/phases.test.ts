import { OWNER_TAG_KEY } from '../../src/private/contract';
import type { DeploymentOptions, OperationInfo, RollbackForm } from '../fixtures/cloudformation-engine';
import {
  EksSnapshot,
  neverDenied,
  noTransferRecords,
  snapshotOf,
  stackHoldsItsAssociations,
  unchangedSince,
  untouched,
  withinBudget,
} from '../fixtures/invariants';
import { LocalAws } from '../fixtures/local-aws';
import { AppSpec, AssociationSpec, IMPORTED_ROLE_ARN } from '../fixtures/workload-app';

/*
 * The cases of the safety promise, each deployed as CloudFormation runs it: the real templates of
 * CDK apps, through every phase (update, cleanup, rollback in both forms AWS may use for a
 * replaced custom resource, rollback cleanup), with IAM judging every call of the handler against
 * its policies as they are visible at that moment, IAM and EKS eventually consistent.
 */

jest.setTimeout(120_000);

const FORMS: RollbackForm[] = ['delete-only', 'update-then-delete'];

let world: LocalAws;
let logs: jest.SpyInstance;

beforeEach(async () => {
  // IAM changes take up to 300 ms (6 s on the handlers' clock) to be visible; a deleted association blocks its service account for 300 ms.
  world = await LocalAws.start({ timeScale: 20, maxPropagationDelayMs: 300, deleteLagMs: 300, seed: 7 });
  logs = jest.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(async () => {
  logs.mockRestore();
  await world.stop();
});

const api: AssociationSpec = { id: 'Api', cluster: 'blue', namespace: 'payments', serviceAccount: 'api', role: 'created', tags: { team: 'payments' }, workload: true };
const worker: AssociationSpec = { id: 'Worker', cluster: 'blue', namespace: 'payments', serviceAccount: 'worker', role: 'shared', workload: true };

function app(...associations: AssociationSpec[]): AppSpec {
  return { stackName: 'Workloads', associations };
}

/** The app with a new generation: every workload is updated, after its association. */
function next(spec: AppSpec): AppSpec {
  return { ...spec, generation: (spec.generation ?? 0) + 1 };
}

/** Fails the first operation on a workload of the app (it comes after its association). */
function failWorkload(id: string, extra: DeploymentOptions = {}): DeploymentOptions {
  return { ...extra, failWhen: (op: OperationInfo) => op.logicalResourceId.startsWith(`${id}Workload`) };
}

/** The handler's retry log lines, by reason. */
function retries(): string[] {
  return logs.mock.calls
    .map(([line]) => { try { return JSON.parse(String(line)); } catch { return {}; } })
    .filter(line => line.event === 'retry')
    .map(line => line.reason);
}

function expectPromiseKept(before?: EksSnapshot): void {
  expect(neverDenied(world)).toEqual([]);
  expect(withinBudget(world)).toEqual([]);
  expect(noTransferRecords(world)).toEqual([]);
  expect(stackHoldsItsAssociations(world, 'Workloads')).toEqual([]);
  if (before) {
    expect(unchangedSince(world, before)).toEqual([]);
  }
}

describe('1. a rollback after a moved construct took its association over', () => {
  test.each(FORMS)('gives the association back to the old logical id, as it was (rollback form %s)', async rollbackForm => {
    // GIVEN Api created the association
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    const before = snapshotOf(world);
    // WHEN Api moves to ApiMoved, which takes the association over, and a later resource fails
    const moved = { ...api, id: 'ApiMoved', tags: { team: 'billing' } };
    const result = await world.deploy(app(moved, worker), failWorkload('ApiMoved', { rollbackForm }));
    // THEN
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(world.invocations.filter(i => i.logicalResourceId.startsWith('ApiMoved')).map(i => [i.requestType, i.phase, i.ok]))
      .toEqual([['Create', 'UPDATE_IN_PROGRESS', true], ['Delete', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', true]]);
    expectPromiseKept(before);
    // AND the move deploys once the failure is gone
    expect((await world.deploy(app(moved, worker))).status).toBe('UPDATE_COMPLETE');
    expectPromiseKept();
    expect(world.eks.associations().find(a => a.serviceAccount === 'api')?.associationId).toBe([...before.values()].find(a => a.serviceAccount === 'api')?.associationId);
  });
});

describe('2. a rollback after adoptExisting took over an association the stack never created', () => {
  test('of the stack\'s first deployment gives it back as it was', async () => {
    const foreign = world.eks.seedAssociation({ clusterName: 'blue', namespace: 'payments', serviceAccount: 'api', roleArn: IMPORTED_ROLE_ARN, tags: { origin: 'console' } });
    const before = snapshotOf(world);

    const result = await world.deploy(app({ ...api, adoptExisting: true }), failWorkload('Api'));

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(unchangedSince(world, before)).toEqual([]);
    expect(world.eks.association(foreign.associationId)?.tags).toEqual({ origin: 'console' });
    expect(noTransferRecords(world)).toEqual([]);
    expect(neverDenied(world)).toEqual([]);
  });

  test.each(FORMS)('of a later deployment gives it back as it was (rollback form %s)', async rollbackForm => {
    expect((await world.deploy(app(worker))).status).toBe('CREATE_COMPLETE');
    const foreign = world.eks.seedAssociation({ clusterName: 'blue', namespace: 'payments', serviceAccount: 'api', roleArn: IMPORTED_ROLE_ARN, tags: { origin: 'console' } });
    const before = snapshotOf(world);

    const result = await world.deploy(app({ ...api, adoptExisting: true }, worker), failWorkload('Api', { rollbackForm }));

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expectPromiseKept(before);
    expect(world.eks.association(foreign.associationId)?.tags).toEqual({ origin: 'console' });
  });

  test('that succeeded makes it the stack\'s: updated, marked, and deleted with the stack', async () => {
    const foreign = world.eks.seedAssociation({ clusterName: 'blue', namespace: 'payments', serviceAccount: 'api', roleArn: IMPORTED_ROLE_ARN });

    expect((await world.deploy(app({ ...api, adoptExisting: true }))).status).toBe('CREATE_COMPLETE');
    expectPromiseKept();
    expect(world.eks.association(foreign.associationId)?.tags[OWNER_TAG_KEY]).toMatch(/\/Api/);

    expect((await world.destroy('Workloads')).status).toBe('DELETE_COMPLETE');
    expect(world.eks.associations()).toEqual([]);
    expect(noTransferRecords(world)).toEqual([]);
  });
});

describe('3. a namespace swap that rolls back', () => {
  test.each(FORMS)('leaves both associations as they were (rollback form %s)', async rollbackForm => {
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    const before = snapshotOf(world);

    // Api and Worker swap service accounts; each takes the other's association over; a workload then fails
    const result = await world.deploy(
      app({ ...api, serviceAccount: 'worker' }, { ...worker, serviceAccount: 'api' }),
      failWorkload('Worker', { rollbackForm }),
    );

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expectPromiseKept(before);
  });

  test('that succeeds needs no manual step', async () => {
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    const ids = world.eks.associations().map(a => a.associationId).sort();

    expect((await world.deploy(app({ ...api, serviceAccount: 'worker' }, { ...worker, serviceAccount: 'api' }))).status).toBe('UPDATE_COMPLETE');

    expectPromiseKept();
    expect(world.eks.associations().map(a => a.associationId).sort()).toEqual(ids);
  });
});

describe('4. the handler keeps its permissions through CloudFormation\'s order', () => {
  // Policies as the template of each moment holds them, with no propagation delay to hide an order that loses a permission.
  beforeEach(async () => {
    await world.stop();
    world = await LocalAws.start({ timeScale: 20, maxPropagationDelayMs: 0, seed: 7 });
  });

  test('the cleanup Delete of the last association of a cluster', async () => {
    expect((await world.deploy(app(api, { ...worker, cluster: 'green' }))).status).toBe('CREATE_COMPLETE');

    expect((await world.deploy(app(api))).status).toBe('UPDATE_COMPLETE');

    expectPromiseKept();
    expect(world.eks.associations().map(a => a.clusterName)).toEqual(['blue']);
  });

  test('the cleanup Delete of an association whose cluster changed', async () => {
    expect((await world.deploy(app(api))).status).toBe('CREATE_COMPLETE');

    expect((await world.deploy(app({ ...api, cluster: 'green' }))).status).toBe('UPDATE_COMPLETE');

    expectPromiseKept();
    expect(world.eks.associations().map(a => a.clusterName)).toEqual(['green']);
  });

  test.each(FORMS)('the rollback of an association on a newly added cluster, and of a cluster change (rollback form %s)', async rollbackForm => {
    expect((await world.deploy(app(api))).status).toBe('CREATE_COMPLETE');
    const before = snapshotOf(world);

    const result = await world.deploy(app({ ...api, cluster: 'green' }, { ...worker, cluster: 'green' }), failWorkload('Worker', { rollbackForm }));

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expectPromiseKept(before);
  });

  test('the rollback of a role change to a role given as `role`, and back', async () => {
    expect((await world.deploy(app({ ...api, role: 'imported' }))).status).toBe('CREATE_COMPLETE');
    const before = snapshotOf(world);

    const result = await world.deploy(next(app({ ...api, role: 'shared' })), failWorkload('Api'));

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expectPromiseKept(before);
  });
});

describe('5. IAM and EKS are eventually consistent', () => {
  test('AccessDenied while the handler\'s new permissions propagate, and an untrusted role while its new trust statement propagates, are waited out', async () => {
    // GIVEN every IAM change takes 1 s (20 s on the handler's clock) to be visible
    await world.stop();
    world = await LocalAws.start({ timeScale: 20, maxPropagationDelayMs: 1_000, seed: 3 });

    // WHEN associations on a new cluster use a role of the app whose trust the construct just extended
    const result = await world.deploy(app({ ...api, role: 'shared', cluster: 'green' }));

    // THEN
    expect(result.status).toBe('CREATE_COMPLETE');
    expectPromiseKept();
    expect(new Set(retries())).toEqual(expect.objectContaining({}));
    expect(retries().some(reason => ['access-denied', 'trust-not-propagated', 'role-not-propagated'].includes(reason))).toBe(true);
  });

  test('an association that moves to another stack: the 409 naming the association deleted a moment ago is waited out', async () => {
    // GIVEN stack Old holds the association, stack New exists
    expect((await world.deploy({ stackName: 'Old', associations: [api] })).status).toBe('CREATE_COMPLETE');
    expect((await world.deploy({ stackName: 'New', associations: [worker] })).status).toBe('CREATE_COMPLETE');
    // WHEN Old drops it (its cleanup deletes it: EKS blocks the service account for 1.5 s more, 30 s on the handler's clock), and right after New declares it
    world.eks.setDeleteLag(1_500);
    expect((await world.deploy({ stackName: 'Old', associations: [{ ...worker, cluster: 'green' }] })).status).toBe('UPDATE_COMPLETE');
    const result = await world.deploy({ stackName: 'New', associations: [worker, { ...api, id: 'Moved' }] });
    // THEN
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(stackHoldsItsAssociations(world, 'New')).toEqual([]);
    expect(stackHoldsItsAssociations(world, 'Old')).toEqual([]);
    expect(retries()).toContain('association-being-deleted');
    expect(neverDenied(world)).toEqual([]);
  });

  test('an association in another stack is never changed or deleted', async () => {
    expect((await world.deploy({ stackName: 'Other', associations: [api] })).status).toBe('CREATE_COMPLETE');
    const before = snapshotOf(world);

    const result = await world.deploy(app({ ...api, id: 'Mine' }));

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(world.invocations.find(i => i.logicalResourceId.startsWith('Mine') && !i.ok)?.error).toMatch(/This stack did not create it \(owner: [0-9a-f-]+\/Api[0-9A-F]+\)/);
    expect(untouched(world, before, before.keys())).toEqual([]);
  });
});
