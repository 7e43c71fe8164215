import { ASSOCIATION_RESOURCE_TYPE, OWNER_TAG_KEY } from '../../src/private/contract';
import type { OperationInfo } from '../fixtures/cloudformation-engine';
import type { EksOperation, MissingAssociationAnswer } from '../fixtures/eks-endpoint';
import { neverDenied, noTransferRecords, snapshotOf, stackHoldsItsAssociations, unchangedSince, withinBudget } from '../fixtures/invariants';
import { LocalAws } from '../fixtures/local-aws';
import { AppSpec, AssociationSpec, IMPORTED_ROLE_ARN } from '../fixtures/workload-app';

/*
 * "Access denied" can mean "already gone" (issue 18). The handler may update, delete, tag and
 * untag an association only while it carries this stack's owner mark, a condition IAM evaluates
 * on the association's tags; an association that no longer exists has none. Whether EKS then
 * answers ResourceNotFoundException or AccessDeniedException is not documented, so every case runs
 * with both answers. A lost answer (EKS applied the call, the connection dropped before its answer)
 * and an association deleted out of band between the handler's read and its write both end there.
 */

jest.setTimeout(120_000);

const STACK = 'Workloads';
const DELETE: EksOperation = 'DeletePodIdentityAssociation';
const DESCRIBE: EksOperation = 'DescribePodIdentityAssociation';
const TAG: EksOperation = 'TagResource';
const UNTAG: EksOperation = 'UntagResource';

const api: AssociationSpec = { id: 'Api', cluster: 'blue', namespace: 'payments', serviceAccount: 'api', role: 'created', workload: true };
const worker: AssociationSpec = { id: 'Worker', cluster: 'blue', namespace: 'payments', serviceAccount: 'worker', role: 'shared', workload: true };

function app(...associations: AssociationSpec[]): AppSpec {
  return { stackName: STACK, associations };
}

/** Fails the first operation on the workload of association `id`, after running `then` (which may queue faults for the rollback). */
function failWorkload(id: string, then: () => void = () => undefined) {
  return {
    failWhen: (operation: OperationInfo) => {
      const hit = operation.logicalResourceId === `${id}Workload`;
      if (hit) {
        then();
      }
      return hit;
    },
  };
}

describe.each<MissingAssociationAnswer>(['access-denied', 'not-found'])('when EKS answers %s for an association that does not exist', answer => {
  let world: LocalAws;
  let logs: jest.SpyInstance;

  beforeEach(async () => {
    logs = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    // IAM consistent at once: every AccessDenied the handler meets is the missing association's.
    world = await LocalAws.start({ timeScale: 20, seed: 7, missingAssociationAnswer: answer });
  });
  afterEach(async () => {
    logs.mockRestore();
    await world.stop();
  });

  /** The handler's log lines of one event. */
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

  /** The requests of association resources that failed. */
  function failedRequests(): string[] {
    return world.invocations.filter(i => !i.ok).map(i => `${i.requestType} of ${i.logicalResourceId} in ${i.phase}: ${i.error}`);
  }

  /** The association EKS holds for construct `id`, by the physical id CloudFormation keeps. */
  function associationIdOf(id: string): string {
    const resource = Object.values(world.cloudformation.stack(STACK)!.resources)
      .find(r => r.resourceType === ASSOCIATION_RESOURCE_TYPE && new RegExp(`^${id}[0-9A-F]{8}$`).test(r.logicalResourceId))!;
    return resource.physicalResourceId!.split('/').pop()!;
  }

  /** A denial the handler took for "gone" is logged as such (only EKS's AccessDenied needs the Describe). */
  function expectGoneRecognised(operation: EksOperation): void {
    const recognised = logged('gone-behind-access-denied').filter(line => line.operation === operation);
    expect(recognised.length > 0).toBe(answer === 'access-denied');
  }

  test('a stack deletion whose Delete EKS applied but whose answer was lost completes, with nothing left', async () => {
    // GIVEN
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    const uuid = world.stackUuid(STACK);
    world.eks.injectFault({ kind: 'drop-after-apply', operation: DELETE, times: 1 });

    // WHEN
    const result = await world.destroy(STACK);

    // THEN
    expect(result.status).toBe('DELETE_COMPLETE');
    expect(failedRequests()).toEqual([]);
    expect(world.eks.associations().filter(a => a.tags[OWNER_TAG_KEY]?.startsWith(`${uuid}/`))).toEqual([]);
    expect(world.eks.callsTo(DELETE).filter(call => call.fault === 'drop-after-apply')).toHaveLength(1);
    expectGoneRecognised(DELETE);
    expect(noTransferRecords(world)).toEqual([]);
    expect(withinBudget(world)).toEqual([]);
  });

  test('a cleanup Delete whose answer was lost succeeds: CloudFormation records no failed delete', async () => {
    // GIVEN
    expect((await world.deploy(app(api, worker))).status).toBe('CREATE_COMPLETE');
    const removed = associationIdOf('Worker');
    world.eks.injectFault({ kind: 'drop-after-apply', operation: DELETE, times: 1 });

    // WHEN the update removes Worker: its Delete comes in the cleanup
    const result = await world.deploy(app(api));

    // THEN
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(failedRequests()).toEqual([]);
    expect(result.operations.filter(op => op.action === 'Delete' && !op.ok)).toEqual([]);
    expect(world.eks.association(removed)).toBeUndefined();
    expectGoneRecognised(DELETE);
    expect(stackHoldsItsAssociations(world, STACK)).toEqual([]);
  });

  test('an association deleted out of band between the Delete\'s read and its delete: the stack deletion completes', async () => {
    // GIVEN
    expect((await world.deploy(app(api))).status).toBe('CREATE_COMPLETE');
    world.eks.injectFault({ kind: 'then-deleted-out-of-band', operation: DESCRIBE, times: 1 });

    // WHEN
    const result = await world.destroy(STACK);

    // THEN
    expect(result.status).toBe('DELETE_COMPLETE');
    expect(failedRequests()).toEqual([]);
    expect(world.eks.associations()).toEqual([]);
    expectGoneRecognised(DELETE);
  });

  test('an association deleted out of band between an Update\'s read and its update is created again', async () => {
    // GIVEN
    expect((await world.deploy(app(api))).status).toBe('CREATE_COMPLETE');
    const gone = associationIdOf('Api');
    world.eks.injectFault({ kind: 'then-deleted-out-of-band', operation: DESCRIBE, times: 1 });

    // WHEN the role changes in place
    const result = await world.deploy(app({ ...api, role: 'imported' }));

    // THEN
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(failedRequests()).toEqual([]);
    expect(associationIdOf('Api')).not.toBe(gone);
    expect(logged('recreate')).toEqual([expect.objectContaining({ associationId: gone })]);
    expectGoneRecognised('UpdatePodIdentityAssociation');
    expect(stackHoldsItsAssociations(world, STACK)).toEqual([]);
    expect(neverDenied(world)).toEqual([]);
  });

  test('an adopted association deleted out of band before the rollback gives it back: the rollback completes and settles its record', async () => {
    // GIVEN an association made by hand, adopted by a deployment that then fails
    world.eks.seedAssociation({ clusterName: 'blue', namespace: 'payments', serviceAccount: 'api', roleArn: IMPORTED_ROLE_ARN, tags: { origin: 'console' } });

    // WHEN it is deleted out of band right after the rollback's Delete reads it
    const result = await world.deploy(app({ ...api, adoptExisting: true }), failWorkload('Api', () => {
      world.eks.injectFault({ kind: 'then-deleted-out-of-band', operation: DESCRIBE, times: 1 });
    }));

    // THEN
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(failedRequests()).toEqual([]);
    expect(world.eks.associations()).toEqual([]);
    expect(logged('already-deleted').length).toBeGreaterThan(0);
    expect(noTransferRecords(world)).toEqual([]);
  });

  test('a give-back whose last call (removing this stack\'s mark) EKS applied but whose answer was lost: the rollback completes', async () => {
    // GIVEN an association made by hand, with no owner mark
    world.eks.seedAssociation({ clusterName: 'blue', namespace: 'payments', serviceAccount: 'api', roleArn: IMPORTED_ROLE_ARN, tags: { origin: 'console' } });
    const before = snapshotOf(world);

    // WHEN a deployment adopts it and fails; the give-back's removal of the mark loses its answer
    const result = await world.deploy(app({ ...api, adoptExisting: true }), failWorkload('Api', () => {
      world.eks.injectFault({ kind: 'drop-after-apply', operation: UNTAG, times: 1 });
    }));

    // THEN it is as it was, and the retry that met an association no longer this stack's was taken as applied
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(failedRequests()).toEqual([]);
    expect(world.eks.callsTo(UNTAG).filter(call => call.fault === 'drop-after-apply')).toHaveLength(1);
    expect(unchangedSince(world, before)).toEqual([]);
    expect(logged('applied-behind-access-denied')).toEqual([expect.objectContaining({ operation: UNTAG })]);
    expect(noTransferRecords(world)).toEqual([]);
  });

  test('a give-back to another stack\'s mark whose answer was lost: the rollback completes', async () => {
    // GIVEN an association another stack (since deleted, its association retained) marked
    world.eks.seedAssociation({ clusterName: 'blue', namespace: 'payments', serviceAccount: 'api', roleArn: IMPORTED_ROLE_ARN, tags: { [OWNER_TAG_KEY]: '0c3e9a52-0000-4000-8000-000000000000/Retained' } });
    const before = snapshotOf(world);

    // WHEN a deployment adopts it and fails; the give-back's return of the previous mark loses its answer
    const result = await world.deploy(app({ ...api, adoptExisting: true }), failWorkload('Api', () => {
      world.eks.injectFault({ kind: 'drop-after-apply', operation: TAG, times: 1 });
    }));

    // THEN
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(failedRequests()).toEqual([]);
    expect(world.eks.callsTo(TAG).filter(call => call.fault === 'drop-after-apply')).toHaveLength(1);
    expect(unchangedSince(world, before)).toEqual([]);
    expect(logged('applied-behind-access-denied')).toEqual([expect.objectContaining({ operation: TAG })]);
    expect(noTransferRecords(world)).toEqual([]);
  });
});
