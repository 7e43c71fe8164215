import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource } from 'aws-cdk-lib';
import { ASSOCIATION_RESOURCE_TYPE, OWNER_TAG_KEY } from '../../src/private/contract';
import type { DeploymentOptions, OperationInfo, RollbackForm } from '../fixtures/cloudformation-engine';
import type { EksOperation, StoredAssociation } from '../fixtures/eks-endpoint';
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
import { Invocation, LocalAws, LocalAwsOptions } from '../fixtures/local-aws';
import { AppSpec, AssociationSpec, IMPORTED_ROLE_ARN, WORKLOAD_ACCOUNT, WORKLOAD_REGION, buildStack } from '../fixtures/workload-app';

/*
 * CloudFormation sequences on the local world: real templates of CDK apps deployed through every
 * phase, the bundled handler judged by IAM at every call. After each one EKS must hold exactly the
 * associations the stack declares, marked as its own (nothing leaked, nothing duplicated), nothing
 * the stack does not own has changed, no transfer record is left in SSM, and every request has
 * ended within its Lambda timeout without being denied.
 */

jest.setTimeout(120_000);

const STACK = 'Workloads';
const FORMS: RollbackForm[] = ['delete-only', 'update-then-delete'];

// IAM changes take up to 300 ms (6 s on the handlers' clock) to be visible; a deleted association blocks its service account for 300 ms.
const EVENTUALLY_CONSISTENT: LocalAwsOptions = { timeScale: 20, maxPropagationDelayMs: 300, deleteLagMs: 300, seed: 11 };
// IAM and EKS consistent at once: every failed attempt is then the injected fault's, so the faults can be counted.
const CONSISTENT: LocalAwsOptions = { timeScale: 20, seed: 5 };

const CREATE: EksOperation = 'CreatePodIdentityAssociation';
const UPDATE: EksOperation = 'UpdatePodIdentityAssociation';
const DELETE: EksOperation = 'DeletePodIdentityAssociation';
const DESCRIBE: EksOperation = 'DescribePodIdentityAssociation';
const LIST: EksOperation = 'ListPodIdentityAssociations';
const TAG: EksOperation = 'TagResource';
const UNTAG: EksOperation = 'UntagResource';

const api: AssociationSpec = { id: 'Api', cluster: 'blue', namespace: 'payments', serviceAccount: 'api', role: 'created', workload: true };
const worker: AssociationSpec = { id: 'Worker', cluster: 'blue', namespace: 'payments', serviceAccount: 'worker', role: 'shared', workload: true };
const ADD_ON = `arn:aws:eks:${WORKLOAD_REGION}:${WORKLOAD_ACCOUNT}:addon/blue/aws-ebs-csi-driver/0ac9c3d6`;

let world: LocalAws;
let logs: jest.SpyInstance;

/** Each test gets a world of its own (fresh Lambda containers: the SDK's adaptive retry state must not leak between tests). */
function inWorld(options: LocalAwsOptions): void {
  beforeEach(async () => {
    logs = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    world = await LocalAws.start(options);
  });
  afterEach(async () => {
    logs.mockRestore();
    await world.stop();
  });
}

function app(...associations: AssociationSpec[]): AppSpec {
  return { stackName: STACK, associations };
}

/** The app with a new generation: every workload is updated, after its association. */
function next(spec: AppSpec): AppSpec {
  return { ...spec, generation: (spec.generation ?? 0) + 1 };
}

/** Fails the first operation on the workload of association `id` (it comes after its association). */
function failWorkload(id: string, extra: DeploymentOptions = {}): DeploymentOptions {
  return { ...extra, failWhen: (op: OperationInfo) => op.logicalResourceId === `${id}Workload` };
}

/** Fails the first workload operation that starts once every association of `ids` has been updated, whatever order CloudFormation picks. */
function failAfterUpdates(ids: string[], extra: DeploymentOptions = {}): DeploymentOptions {
  return {
    ...extra,
    failWhen: (op: OperationInfo) => op.logicalResourceId.endsWith('Workload')
      && ids.every(id => requestsOf(id).some(i => i.requestType === 'Update' && i.phase === 'UPDATE_IN_PROGRESS' && i.ok)),
  };
}

/** Construct `id`'s logical id: its path, then an 8-digit hash. */
function isLogicalIdOf(id: string, logicalResourceId: string): boolean {
  return new RegExp(`^${id}[0-9A-F]{8}$`).test(logicalResourceId);
}

/** The association resource of construct `id` in the stack. */
function resourceOf(id: string, stackName = STACK) {
  const found = Object.values(world.cloudformation.stack(stackName)!.resources)
    .find(r => r.resourceType === ASSOCIATION_RESOURCE_TYPE && isLogicalIdOf(id, r.logicalResourceId));
  if (!found) {
    throw new Error(`stack ${stackName} has no association resource for construct ${id}`);
  }
  return found;
}

/** The association EKS holds for construct `id`, by the physical id CloudFormation keeps. */
function heldBy(id: string, stackName = STACK): StoredAssociation | undefined {
  const arn = resourceOf(id, stackName).physicalResourceId!;
  return world.eks.association(arn.slice(arn.lastIndexOf('/') + 1));
}

/** The owner mark construct `id`'s association carries. */
function markOf(id: string, stackName = STACK): string {
  return `${world.stackUuid(stackName)}/${resourceOf(id, stackName).logicalResourceId}`;
}

/** The requests of construct `id`'s association resource, in order. */
function requestsOf(id: string): Invocation[] {
  return world.invocations.filter(i => i.resourceType === ASSOCIATION_RESOURCE_TYPE && isLogicalIdOf(id, i.logicalResourceId));
}

/** Request type, phase and outcome of each request of construct `id`. */
function journey(id: string): Array<[string, string, boolean]> {
  return requestsOf(id).map(i => [i.requestType, i.phase, i.ok]);
}

/** The errors of failed requests. */
function failures(): string[] {
  return world.invocations.filter(i => !i.ok).map(i => i.error ?? '');
}

/** EKS calls answered with success, in arrival order: attempts refused while IAM propagated applied nothing. */
function answered(): EksOperation[] {
  return world.eks.calls.filter(call => call.status === 200).map(call => call.operation);
}

/** The handler's log lines of one event (it writes one JSON object per line). */
function logged(event: string): Array<Record<string, unknown>> {
  return logs.mock.calls.flatMap(([line]) => {
    try {
      const parsed = JSON.parse(String(line));
      return parsed?.event === event ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

/** The promise of the library, after an operation of stack `stackName` has ended. */
function expectPromiseKept(stackName = STACK, before?: EksSnapshot): void {
  expect(stackHoldsItsAssociations(world, stackName)).toEqual([]);
  expect(noTransferRecords(world)).toEqual([]);
  expect(withinBudget(world)).toEqual([]);
  expect(neverDenied(world)).toEqual([]);
  if (before) {
    expect(unchangedSince(world, before)).toEqual([]);
  }
}

/** The promise once the stack with uuid `uuid` is deleted: nothing of it in EKS or SSM. */
function expectNothingLeftOf(uuid: string): void {
  expect(world.eks.associations().filter(a => a.tags[OWNER_TAG_KEY]?.startsWith(`${uuid}/`))).toEqual([]);
  expect(noTransferRecords(world)).toEqual([]);
  expect(withinBudget(world)).toEqual([]);
  expect(neverDenied(world)).toEqual([]);
}

/** The app's template with another session policy for `id`, by CDK's escape hatch: AppSpec's policy follows the namespace, which cannot change in place. */
function templateWithPolicy(spec: AppSpec, id: string, policy: object): Record<string, any> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sequences-'));
  try {
    const cdkApp = new App({ outdir, analyticsReporting: false });
    const stack = buildStack(cdkApp, spec);
    (stack.node.findChild(id).node.findChild('Resource') as CfnResource).addPropertyOverride('Policy', JSON.stringify(policy));
    return cdkApp.synth().getStackByName(stack.stackName).template;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const REPORTS_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }] };

/** One change of the Api association that EKS can make in place, and the EKS calls it must take (after the read that checks ownership). */
interface InPlaceStep {
  readonly name: string;
  readonly change: (spec: AssociationSpec) => AssociationSpec;
  /** Deploys the template with this session policy instead (see templateWithPolicy). */
  readonly policy?: object;
  readonly calls: EksOperation[];
}

const IN_PLACE: InPlaceStep[] = [
  { name: 'role: a Role of the app shared by associations', change: a => ({ ...a, role: 'shared' }), calls: [DESCRIBE, UPDATE] },
  { name: 'role: an imported role', change: a => ({ ...a, role: 'imported' }), calls: [DESCRIBE, UPDATE] },
  { name: 'target role set', change: a => ({ ...a, targetRole: 'imported' }), calls: [DESCRIBE, UPDATE] },
  { name: 'session tags off', change: a => ({ ...a, disableSessionTags: true }), calls: [DESCRIBE, UPDATE] },
  { name: 'session policy set', change: a => ({ ...a, policy: true }), calls: [DESCRIBE, UPDATE] },
  { name: 'session policy changed', change: a => a, policy: REPORTS_POLICY, calls: [DESCRIBE, UPDATE] },
  { name: 'session policy cleared', change: a => ({ ...a, policy: false }), calls: [DESCRIBE, UPDATE] },
  { name: 'target role cleared', change: a => ({ ...a, targetRole: undefined }), calls: [DESCRIBE, UPDATE] },
  { name: 'session tags on', change: a => ({ ...a, disableSessionTags: false }), calls: [DESCRIBE, UPDATE] },
  { name: 'tags added', change: a => ({ ...a, tags: { team: 'payments', env: 'dev' } }), calls: [DESCRIBE, TAG] },
  { name: 'tags changed, added and removed', change: a => ({ ...a, tags: { team: 'billing', tier: '1' } }), calls: [DESCRIBE, UNTAG, TAG] },
  { name: 'tags removed', change: a => ({ ...a, tags: undefined }), calls: [DESCRIBE, UNTAG] },
];

describe('lifecycle sequences', () => {
  inWorld(EVENTUALLY_CONSISTENT);

  test('create, update every field in place, replace, delete: each with exactly the EKS calls it takes', async () => {
    // GIVEN / WHEN the stack is created
    let current = api;
    expect((await world.deploy(app(current, worker))).status).toBe('CREATE_COMPLETE');
    // THEN
    expectPromiseKept();
    expect(answered()).toEqual([CREATE, CREATE]);
    const original = heldBy('Api')!;

    for (const step of IN_PLACE) {
      // WHEN one field changes
      world.eks.calls.length = 0;
      current = step.change(current);
      const result = step.policy
        // Sent without the end-of-operation event world.deploy adds: an in-place update records no transfer for it to finalize.
        ? await world.cloudformation.deploy(STACK, templateWithPolicy(app(current, worker), 'Api', step.policy))
        : await world.deploy(app(current, worker));
      // THEN the same association holds it, changed with exactly these calls
      expect({ step: step.name, status: result.status, calls: answered() }).toEqual({ step: step.name, status: 'UPDATE_COMPLETE', calls: step.calls });
      expectPromiseKept();
      expect(heldBy('Api')?.associationId).toBe(original.associationId);
      if (step.policy) {
        expect(heldBy('Api')?.policy).toBe(JSON.stringify(step.policy));
      }
    }
    expect(heldBy('Api')).toEqual(expect.objectContaining({ roleArn: IMPORTED_ROLE_ARN, disableSessionTags: false, tags: { [OWNER_TAG_KEY]: markOf('Api') } }));
    expect(heldBy('Api')?.targetRoleArn).toBeUndefined();
    expect(heldBy('Api')?.policy).toBeUndefined();

    // WHEN only a workload changes: the association's properties are the same
    world.eks.calls.length = 0;
    expect((await world.deploy(next(app(current, worker)))).status).toBe('UPDATE_COMPLETE');
    // THEN no request reaches EKS
    expect(world.eks.calls).toEqual([]);

    // WHEN the service account changes: a new association; CloudFormation then deletes the old one
    world.eks.calls.length = 0;
    expect((await world.deploy(next(app({ ...current, serviceAccount: 'api-v2' }, worker)))).status).toBe('UPDATE_COMPLETE');
    // THEN
    expectPromiseKept();
    expect(answered()).toEqual([LIST, CREATE, DESCRIBE, DELETE]);
    expect(world.eks.association(original.associationId)).toBeUndefined();
    expect(heldBy('Api')?.serviceAccount).toBe('api-v2');

    // WHEN the stack is deleted
    const uuid = world.stackUuid(STACK);
    world.eks.calls.length = 0;
    expect((await world.destroy(STACK)).status).toBe('DELETE_COMPLETE');
    // THEN
    expect(world.eks.associations()).toEqual([]);
    expect(answered().sort()).toEqual([DELETE, DELETE, DESCRIBE, DESCRIBE]);
    expectNothingLeftOf(uuid);
  });

  test('every request delivered twice: still one association each, and the same end state', async () => {
    // GIVEN every custom resource request arrives twice
    await world.stop();
    world = await LocalAws.start({ ...EVENTUALLY_CONSISTENT, deliverTwice: true });

    // WHEN the stack is created, updated (in place and by replacement) and deleted
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    // THEN
    expectPromiseKept();
    expect(world.eks.associations()).toHaveLength(2);

    expect((await world.deploy(app({ ...api, role: 'imported', tags: { team: 'payments' } }, { ...worker, namespace: 'jobs' }))).status).toBe('UPDATE_COMPLETE');
    expectPromiseKept();
    expect(world.eks.associations().map(a => `${a.namespace}/${a.serviceAccount}`).sort()).toEqual(['jobs/worker', 'payments/api']);

    const uuid = world.stackUuid(STACK);
    expect((await world.destroy(STACK)).status).toBe('DELETE_COMPLETE');
    expect(world.eks.associations()).toEqual([]);
    expectNothingLeftOf(uuid);

    // AND each request did arrive twice, and both deliveries succeeded
    const deliveries = new Map<string, boolean[]>();
    for (const i of world.invocations.filter(r => r.resourceType === ASSOCIATION_RESOURCE_TYPE)) {
      // The construct id (the logical id without its hash), the request and the phase.
      const key = `${i.logicalResourceId.slice(0, -8)} ${i.requestType} ${i.phase}`;
      deliveries.set(key, [...deliveries.get(key) ?? [], i.ok]);
    }
    expect([...deliveries].sort()).toEqual([
      ['Api Create CREATE_IN_PROGRESS', [true, true]],
      ['Api Delete DELETE_IN_PROGRESS', [true, true]],
      ['Api Update UPDATE_IN_PROGRESS', [true, true]],
      ['Worker Create CREATE_IN_PROGRESS', [true, true]],
      ['Worker Delete DELETE_IN_PROGRESS', [true, true]],
      ['Worker Delete UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', [true, true]],
      ['Worker Update UPDATE_IN_PROGRESS', [true, true]],
    ]);
  });

  test('a construct that moves (new logical id, same service account) takes its association over instead of colliding', async () => {
    // GIVEN
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    const original = heldBy('Api')!;
    const originalMark = markOf('Api');

    // WHEN Api moves into a construct of its own (its role moves with it)
    expect((await world.deploy(app({ ...api, scope: 'Payments' }, worker))).status).toBe('UPDATE_COMPLETE');

    // THEN the same association, now marked as the new logical id's; the old one's Delete left it alone
    expectPromiseKept();
    expect(heldBy('PaymentsApi')?.associationId).toBe(original.associationId);
    expect(world.eks.associations()).toHaveLength(2);
    expect(logged('take-over')).toEqual([expect.objectContaining({ associationId: original.associationId, previousOwner: originalMark, because: 'owned by this stack' })]);
    expect(logged('left-alone')).toEqual([expect.objectContaining({ associationId: original.associationId, owner: markOf('PaymentsApi') })]);
    expect(journey('Api')).toEqual([['Create', 'CREATE_IN_PROGRESS', true], ['Delete', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', true]]);
  });

  test('two associations swap namespaces in one deployment: each takes the other\'s association over', async () => {
    // GIVEN
    const one: AssociationSpec = { id: 'One', cluster: 'blue', namespace: 'frontend', serviceAccount: 'app', role: 'created' };
    const two: AssociationSpec = { id: 'Two', cluster: 'blue', namespace: 'backend', serviceAccount: 'app', role: 'created' };
    expect((await world.deploy(app(one, two))).status).toBe('CREATE_COMPLETE');
    const frontend = heldBy('One')!;
    const backend = heldBy('Two')!;

    // WHEN
    expect((await world.deploy(app({ ...one, namespace: 'backend' }, { ...two, namespace: 'frontend' }))).status).toBe('UPDATE_COMPLETE');

    // THEN both associations stay, each with the other owner and its role
    expectPromiseKept();
    expect(world.eks.associations()).toHaveLength(2);
    expect(heldBy('One')?.associationId).toBe(backend.associationId);
    expect(heldBy('Two')?.associationId).toBe(frontend.associationId);
    expect(heldBy('One')?.roleArn).toBe(frontend.roleArn);
    expect(heldBy('Two')?.roleArn).toBe(backend.roleArn);
  });
});

describe('rollbacks', () => {
  inWorld(EVENTUALLY_CONSISTENT);

  test('a failed first deployment deletes the associations it created', async () => {
    // GIVEN
    const before = snapshotOf(world);

    // WHEN Worker's workload fails, after Worker's association was created
    const result = await world.deploy(app(api, worker), failWorkload('Worker'));

    // THEN
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(journey('Worker')).toEqual([['Create', 'CREATE_IN_PROGRESS', true], ['Delete', 'ROLLBACK_IN_PROGRESS', true]]);
    expect(world.eks.associations()).toEqual([]);
    expectPromiseKept(STACK, before);
  });

  test('a failed update deletes the association it added', async () => {
    // GIVEN
    expect((await world.deploy(app(api))).status).toBe('CREATE_COMPLETE');
    const before = snapshotOf(world);

    // WHEN a deployment adds Worker, whose workload then fails
    const result = await world.deploy(app(api, worker), failWorkload('Worker'));

    // THEN
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(journey('Worker')).toEqual([['Create', 'UPDATE_IN_PROGRESS', true], ['Delete', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', true]]);
    expectPromiseKept(STACK, before);
  });

  test.each(FORMS)('a failed update restores an association it replaced and one it updated in place (rollback form %s)', async rollbackForm => {
    // GIVEN
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    const before = snapshotOf(world);
    world.eks.calls.length = 0;

    // WHEN Api is replaced (new namespace) and Worker updated in place (new role), then a workload fails
    const result = await world.deploy(
      next(app({ ...api, namespace: 'billing' }, { ...worker, role: 'imported' })),
      failAfterUpdates(['Api', 'Worker'], { rollbackForm }),
    );

    // THEN
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expectPromiseKept(STACK, before);
    // the replacement existed, and the rollback deleted it
    expect(world.eks.callsTo(CREATE).filter(c => c.status === 200).map(c => (c.body as { namespace: string }).namespace)).toEqual(['billing']);
    expect(journey('Api')).toEqual([
      ['Create', 'CREATE_IN_PROGRESS', true],
      ['Update', 'UPDATE_IN_PROGRESS', true],
      ...rollbackForm === 'update-then-delete' ? [['Update', 'UPDATE_ROLLBACK_IN_PROGRESS', true]] : [],
      ['Delete', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', true],
    ]);
    // Worker was sent back to its old role
    expect(journey('Worker')).toEqual([
      ['Create', 'CREATE_IN_PROGRESS', true],
      ['Update', 'UPDATE_IN_PROGRESS', true],
      ['Update', 'UPDATE_ROLLBACK_IN_PROGRESS', true],
    ]);
  });
});

describe('associations deleted out of band', () => {
  inWorld(EVENTUALLY_CONSISTENT);

  test('the next update creates it again, and its stale ARN deletes cleanly', async () => {
    // GIVEN
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    const gone = world.eks.deleteOutOfBand(heldBy('Api')!.associationId);

    // WHEN
    expect((await world.deploy(app({ ...api, role: 'imported' }, { ...worker, tags: { team: 'jobs' } }))).status).toBe('UPDATE_COMPLETE');

    // THEN
    expectPromiseKept();
    expect(world.eks.associations()).toHaveLength(2);
    expect(heldBy('Api')?.associationId).not.toBe(gone.associationId);
    expect(logged('recreate')).toEqual([expect.objectContaining({ associationId: gone.associationId })]);
    expect(logged('already-deleted')).toEqual([expect.objectContaining({ associationId: gone.associationId })]);
    expect(journey('Api').slice(1)).toEqual([['Update', 'UPDATE_IN_PROGRESS', true], ['Delete', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', true]]);
  });

  test('deleting the stack succeeds', async () => {
    // GIVEN
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    const gone = world.eks.deleteOutOfBand(heldBy('Api')!.associationId);
    const uuid = world.stackUuid(STACK);

    // WHEN
    expect((await world.destroy(STACK)).status).toBe('DELETE_COMPLETE');

    // THEN
    expect(world.eks.associations()).toEqual([]);
    expect(logged('already-deleted')).toEqual([expect.objectContaining({ associationId: gone.associationId })]);
    expectNothingLeftOf(uuid);
  });
});

describe('associations this stack did not create', () => {
  inWorld(EVENTUALLY_CONSISTENT);

  test('without adoptExisting the deployment fails and the association is untouched', async () => {
    // GIVEN someone created an association for the service account by hand
    const foreign = world.eks.seedAssociation({ clusterName: 'blue', namespace: 'payments', serviceAccount: 'api', roleArn: IMPORTED_ROLE_ARN, tags: { team: 'platform' } });
    const before = snapshotOf(world);

    // WHEN
    const result = await world.deploy(app(api, worker));

    // THEN
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(failures()).toEqual([expect.stringContaining(
      `association ${foreign.associationId} already holds service account "payments/api", and EKS allows one association per service account. This stack did not create it (owner: none).`,
    )]);
    expectPromiseKept(STACK, before);
  });

  test('another stack\'s association is never taken over or deleted', async () => {
    // GIVEN stack Other holds payments/api; this stack holds Worker
    expect((await world.deploy({ stackName: 'Other', associations: [api] })).status).toBe('CREATE_COMPLETE');
    expect((await world.deploy(app(worker))).status).toBe('CREATE_COMPLETE');
    const before = snapshotOf(world);
    const others = heldBy('Api', 'Other')!;

    // WHEN this stack declares the same service account
    const result = await world.deploy(app(worker, { ...api, id: 'Mine', role: 'imported' }));

    // THEN
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(failures()).toEqual([expect.stringContaining(`This stack did not create it (owner: ${markOf('Api', 'Other')}).`)]);
    expectPromiseKept(STACK, before);
    expect(stackHoldsItsAssociations(world, 'Other')).toEqual([]);

    // AND deleting this stack leaves Other's association alone
    const uuid = world.stackUuid(STACK);
    expect((await world.destroy(STACK)).status).toBe('DELETE_COMPLETE');
    expectNothingLeftOf(uuid);
    expect(untouched(world, before, [others.associationId])).toEqual([]);
    expect(stackHoldsItsAssociations(world, 'Other')).toEqual([]);
  });

  test('with adoptExisting it is taken over: updated, marked, and deleted with the stack', async () => {
    // GIVEN
    const foreign = world.eks.seedAssociation({ clusterName: 'blue', namespace: 'payments', serviceAccount: 'api', roleArn: IMPORTED_ROLE_ARN, tags: { team: 'platform', stale: 'x' } });

    // WHEN
    expect((await world.deploy(app({ ...api, tags: { team: 'payments' }, adoptExisting: true }))).status).toBe('CREATE_COMPLETE');

    // THEN the stack's resource holds that very association, in the declared configuration
    expectPromiseKept();
    expect(resourceOf('Api').physicalResourceId).toBe(foreign.associationArn);
    expect(world.eks.association(foreign.associationId)?.tags).toEqual({ team: 'payments', [OWNER_TAG_KEY]: markOf('Api') });
    expect(world.eks.association(foreign.associationId)?.roleArn).not.toBe(IMPORTED_ROLE_ARN);
    expect(logged('take-over')).toEqual([expect.objectContaining({ associationId: foreign.associationId, previousOwner: 'none', because: 'adoptExisting' })]);

    // AND it goes with the stack
    const uuid = world.stackUuid(STACK);
    expect((await world.destroy(STACK)).status).toBe('DELETE_COMPLETE');
    expect(world.eks.associations()).toEqual([]);
    expectNothingLeftOf(uuid);
  });

  test('an EKS add-on\'s association is never modified, even with adoptExisting', async () => {
    // GIVEN
    const addOn = world.eks.seedAssociation({ clusterName: 'blue', namespace: 'payments', serviceAccount: 'api', roleArn: IMPORTED_ROLE_ARN, ownerArn: ADD_ON });
    const before = snapshotOf(world);

    // WHEN
    const result = await world.deploy(app({ ...api, adoptExisting: true }));

    // THEN
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(failures()).toEqual([expect.stringContaining(
      `association ${addOn.associationId} already holds service account "payments/api", and EKS allows one association per service account. ` +
      `It belongs to the EKS add-on ${ADD_ON}, and this library never modifies or deletes an add-on's association.`,
    )]);
    expectPromiseKept(STACK, before);
  });
});

describe('faults', () => {
  inWorld(CONSISTENT);

  const updated = app({ ...api, role: 'imported', tags: { team: 'x' } }, { ...worker, namespace: 'jobs' });

  /** Creates, updates (in place and by replacement) and deletes the stack, each after `inject`; every request must succeed. */
  async function happyPath(inject: (operation: 'create' | 'update' | 'delete') => void): Promise<void> {
    inject('create');
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    expect(world.eks.pendingFaults()).toBe(0);
    expectPromiseKept();
    expect(world.eks.associations()).toHaveLength(2);

    inject('update');
    expect((await world.deploy(updated)).status).toBe('UPDATE_COMPLETE');
    expect(world.eks.pendingFaults()).toBe(0);
    expectPromiseKept();
    expect(world.eks.associations()).toHaveLength(2);

    inject('delete');
    const uuid = world.stackUuid(STACK);
    expect((await world.destroy(STACK)).status).toBe('DELETE_COMPLETE');
    expect(world.eks.pendingFaults()).toBe(0);
    expect(world.eks.associations()).toEqual([]);
    expectNothingLeftOf(uuid);
    expect(failures()).toEqual([]);
  }

  test('throttling on every operation', async () => {
    await happyPath(() => world.eks.injectFault({ kind: 'throttle', times: 4 }));

    expect(world.eks.calls.filter(call => call.status === 429)).toHaveLength(12);
  });

  test('server errors on every operation', async () => {
    await happyPath(() => world.eks.injectFault({ kind: 'server-error', times: 4 }));

    expect(world.eks.calls.filter(call => call.status === 500)).toHaveLength(12);
  });

  test('throttling that outlasts the SDK\'s own retries', async () => {
    // GIVEN more throttled answers than the SDK's 3 attempts
    world.eks.injectFault({ kind: 'throttle', times: 5, operation: CREATE });

    // WHEN
    expect((await world.deploy(app(api))).status).toBe('CREATE_COMPLETE');

    // THEN the handler waited and tried again
    expectPromiseKept();
    expect(world.eks.callsTo(CREATE).map(call => call.status)).toEqual([429, 429, 429, 429, 429, 200]);
    expect(logged('retry').map(line => line.reason)).toContain('throttled');
  });

  test('dropped connections, before and after EKS applied the request', async () => {
    await happyPath(() => {
      world.eks.injectFault({ kind: 'drop-connection', times: 1 });
      world.eks.injectFault({ kind: 'drop-after-apply', times: 2 });
    });

    // every dropped call was retried without a duplicate or a missing association (checked after each step)
    expect(world.eks.calls.filter(call => call.fault).map(call => [call.fault, call.status])).toEqual(Array(3).fill([
      ['drop-connection', 'dropped'],
      ['drop-after-apply', 'dropped'],
      ['drop-after-apply', 'dropped'],
    ]).flat());
  });

  test('slow answers', async () => {
    // 400 ms is 8 s on the handler's clock: slow, yet within an attempt's 20 s timeout
    await happyPath(() => world.eks.injectFault({ kind: 'slow', times: 2, delayMs: 400 }));

    // the handler waited for each slow answer instead of giving up on it
    expect(world.eks.calls.filter(call => call.fault === 'slow').map(call => call.status)).toEqual(Array(6).fill(200));
  });

  test('a connection that hangs once is retried', async () => {
    // GIVEN
    world.eks.injectFault({ kind: 'hang', times: 1, operation: CREATE });

    // WHEN
    expect((await world.deploy(app(api))).status).toBe('CREATE_COMPLETE');

    // THEN the hung attempt was given up after its 20 s timeout, well within the Lambda's 5 minutes
    expectPromiseKept();
    expect(world.eks.callsTo(CREATE).map(call => call.status)).toEqual(['dropped', 200]);
    const [create] = requestsOf('Api');
    expect(create.elapsedMs).toBeGreaterThanOrEqual(20_000);
    expect(create.elapsedMs).toBeLessThan(60_000);
  });

  test('EKS that never answers: a clear error before the Lambda times out, and nothing left behind', async () => {
    // GIVEN the first create is applied but its answer lost; every later create hangs
    world.eks.injectFault({ kind: 'drop-after-apply', times: 1, operation: CREATE });
    world.eks.injectFault({ kind: 'hang', times: 100, operation: CREATE });

    // WHEN
    const result = await world.deploy(app(api));

    // THEN the Create failed with a message that says what, before its 5 minutes were over
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(failures()).toEqual([expect.stringMatching(
      /^Could not create the Pod Identity association of service account "payments\/api" in EKS cluster "blue" with role arn:aws:iam::111122223333:role\/\S+: the call to EKS failed with /,
    )]);
    const [create] = requestsOf('Api');
    expect(create.elapsedMs).toBeGreaterThan(4 * 60_000);
    expect(withinBudget(world)).toEqual([]);
    // AND the failed Create removed the association its lost answer had created (CloudFormation sends no Delete for it)
    expect(logged('removed-unanswered-create')).toHaveLength(1);
    expect(logged('cleanup-failed')).toEqual([]);
    expect(world.eks.associations()).toEqual([]);
    expect(noTransferRecords(world)).toEqual([]);
  });

  test('a role that does not exist for the first attempts', async () => {
    await happyPath(operation => {
      // Only creates and updates pass a role; the stack's deletion has none to fail.
      if (operation !== 'delete') {
        world.eks.failRoleNotFound(2);
      }
    });

    expect(world.eks.calls.filter(call => call.status === 400).map(call => call.operation).sort()).toEqual([CREATE, CREATE, CREATE, UPDATE]);
    expect(logged('retry').map(line => line.reason)).toEqual(Array(4).fill('role-not-propagated'));
  });
});
