import { randomUUID } from 'crypto';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { idempotencyToken } from '../../lambda/eks';
import type { TransferRecord } from '../../lambda/transfers';
import { OWNER_TAG_KEY, TRANSFERS_RESOURCE_TYPE } from '../../src/private/contract';
import type { EksEndpoint, StoredAssociation } from '../fixtures/eks-endpoint';
import {
  ACCOUNT,
  BundledHandler,
  Handler,
  LocalEndpoints,
  STACK_ID,
  TemplateProperties,
  captureLogs,
  createEvent,
  deleteEvent,
  lambdaContext,
  startBundledHandler,
  startLocalEndpoints,
  updateEvent,
} from '../fixtures/handler-harness';
import type { AccessControl } from '../fixtures/world';

/*
 * Ownership across CloudFormation's phases, one request at a time: takeovers record first what
 * they change, a Delete in a rollback gives back, a transfer becomes final when its previous
 * owner is deleted or the transfers resource settles it, and eventual consistency is waited out.
 */

const ROLE = `arn:aws:iam::${ACCOUNT}:role/payments-api`;
const FOREIGN_ROLE = `arn:aws:iam::${ACCOUNT}:role/hand-made`;
const STACK_UUID = STACK_ID.split('/')[2];
const BASE: TemplateProperties = { ClusterName: 'my-cluster', Namespace: 'payments', ServiceAccount: 'api', RoleArn: ROLE, Tags: { team: 'payments' } };
const markOf = (logicalId: string) => `${STACK_UUID}/${logicalId}`;

let local: LocalEndpoints;
let endpoint: EksEndpoint;
let lambda: BundledHandler;
let handler: Handler;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  local = await startLocalEndpoints({ clusters: ['my-cluster'] });
  endpoint = local.eks;
  lambda = await startBundledHandler(local.environment);
  handler = lambda.invoke;
});
afterAll(async () => {
  await lambda.stop();
  await local.close();
});
beforeEach(() => {
  local.reset();
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
});

/** The transfer records the handler keeps in SSM Parameter Store, parsed. */
function records(): TransferRecord[] {
  const parts = [...local.ssm.parameters().values()].sort((a, b) => a.name.localeCompare(b.name));
  const byRecord = new Map<string, string>();
  for (const part of parts) {
    const key = part.name.slice(0, part.name.lastIndexOf('/'));
    byRecord.set(key, (byRecord.get(key) ?? '') + part.value);
  }
  return [...byRecord.values()].map(json => JSON.parse(json));
}

/** A hand-made association for the service account of BASE: no owner mark, another role, a tag of its own. */
function seedForeign(): StoredAssociation {
  return endpoint.seedAssociation({ clusterName: 'my-cluster', namespace: 'payments', serviceAccount: 'api', roleArn: FOREIGN_ROLE, tags: { origin: 'console' } });
}

/** What an association is, without its timestamps. */
function stateOf(association: StoredAssociation | undefined) {
  const { createdAt: _created, modifiedAt: _modified, ...state } = association!;
  return state;
}

describe('a takeover records what it changes before changing it', () => {
  test('adoptExisting: the record holds the previous state; the association is marked first, then updated, each call with its own token', async () => {
    // GIVEN
    const foreign = seedForeign();
    const event = createEvent({ ...BASE, AdoptExisting: true }, 'Adopter');
    // WHEN
    const response = await handler(event);
    // THEN
    expect(response.PhysicalResourceId).toBe(foreign.associationArn);
    expect(records()).toEqual([{
      version: 1,
      associationArn: foreign.associationArn,
      requestId: event.RequestId,
      recordedAt: expect.any(String),
      to: { logicalResourceId: 'Adopter', ownerMark: markOf('Adopter') },
      from: { roleArn: FOREIGN_ROLE, disableSessionTags: false, tags: { origin: 'console' } },
    }]);
    expect(endpoint.writeCalls().map(call => [call.operation, call.body])).toEqual([
      ['CreatePodIdentityAssociation', expect.objectContaining({ clientRequestToken: idempotencyToken(event.RequestId, 'create') })],
      ['TagResource', { tags: { [OWNER_TAG_KEY]: markOf('Adopter') } }],
      ['UntagResource', undefined],
      ['TagResource', { tags: { team: 'payments' } }],
      ['UpdatePodIdentityAssociation', { roleArn: ROLE, clientRequestToken: idempotencyToken(event.RequestId, 'take-over') }],
    ]);
    expect(idempotencyToken(event.RequestId, 'create')).not.toBe(idempotencyToken(event.RequestId, 'take-over'));
    const order = logs.lines().map(line => line.event);
    expect(order.indexOf('PutParameter')).toBeLessThan(order.indexOf('TagResource'));
    expect(endpoint.association(foreign.associationId)?.tags).toEqual({ team: 'payments', [OWNER_TAG_KEY]: markOf('Adopter') });
  });

  test('a redelivered takeover keeps the record of the first delivery', async () => {
    const foreign = seedForeign();
    const event = createEvent({ ...BASE, AdoptExisting: true }, 'Adopter');
    await handler(event);
    const [first] = records();

    await handler(event);

    expect(records()).toEqual([first]);
    expect(first.from.roleArn).toBe(FOREIGN_ROLE);
    expect(endpoint.association(foreign.associationId)?.roleArn).toBe(ROLE);
  });

  test('a takeover of an association whose earlier takeover was never settled records what it was before that one', async () => {
    // GIVEN Adopter took it over in a deployment whose settlement never ran, and no longer holds it
    seedForeign();
    await handler(createEvent({ ...BASE, AdoptExisting: true }, 'Adopter'));
    // WHEN another resource takes it over
    const event = createEvent({ ...BASE, AdoptExisting: true, Tags: undefined }, 'Later');
    await handler(event);
    // THEN the record still says what it was before either takeover
    expect(records()).toEqual([expect.objectContaining({
      requestId: event.RequestId,
      to: { logicalResourceId: 'Later', ownerMark: markOf('Later') },
      from: { roleArn: FOREIGN_ROLE, disableSessionTags: false, tags: { origin: 'console' } },
    })]);
  });

  test('a step that fails after the association was marked gives it back before the request fails', async () => {
    const foreign = seedForeign();
    endpoint.injectFault({ kind: 'access-denied', operation: 'UpdatePodIdentityAssociation', times: 1000 });

    await expect(handler(createEvent({ ...BASE, AdoptExisting: true }, 'Adopter'), lambdaContext(4_000))).rejects.toThrow(
      /^Could not update Pod Identity association a-[a-z0-9]{17} of service account "payments\/api" in EKS cluster "my-cluster" \(roleArn\): EKS answered AccessDeniedException \(HTTP 403\)/,
    );

    expect(stateOf(endpoint.association(foreign.associationId))).toEqual(stateOf(foreign));
    expect(records()).toEqual([]);
  });
});

describe('a Delete of a taken-over association', () => {
  async function adopted(): Promise<{ foreign: StoredAssociation; arn: string }> {
    const foreign = seedForeign();
    const { PhysicalResourceId: arn } = await handler(createEvent({ ...BASE, AdoptExisting: true }, 'Adopter'));
    endpoint.calls.length = 0;
    return { foreign, arn };
  }

  test.each(['UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS'] as const)(
    'in %s gives it back as it was, and removes the record', async status => {
      // GIVEN the deployment that adopted it failed
      const { foreign, arn } = await adopted();
      local.stack.status = status;
      // WHEN
      await handler(deleteEvent(arn, { ...BASE, AdoptExisting: true }, 'Adopter'));
      // THEN
      expect(stateOf(endpoint.association(foreign.associationId))).toEqual(stateOf(foreign));
      expect(endpoint.callsTo('DeletePodIdentityAssociation')).toEqual([]);
      expect(records()).toEqual([]);
      expect(logs.lines()).toContainEqual(expect.objectContaining({ event: 'given-back', owner: 'none' }));
    });

  test.each(['UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'DELETE_IN_PROGRESS'] as const)('in %s deletes it with its record: the transfer was final', async status => {
    const { arn } = await adopted();
    local.stack.status = status;

    await handler(deleteEvent(arn, { ...BASE, AdoptExisting: true }, 'Adopter'));

    expect(endpoint.associations()).toEqual([]);
    expect(records()).toEqual([]);
  });

  test('of the previous owner (a construct that moved) makes the transfer final and leaves the association to its new owner', async () => {
    // GIVEN Old created it; New took it over in the same stack
    const { PhysicalResourceId: arn } = await handler(createEvent(BASE, 'Old'));
    await handler(createEvent(BASE, 'New'));
    expect(records()).toEqual([expect.objectContaining({ to: { logicalResourceId: 'New', ownerMark: markOf('New') }, from: expect.objectContaining({ ownerMark: markOf('Old') }) })]);
    local.stack.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    // WHEN CloudFormation deletes the previous owner
    await handler(deleteEvent(arn, BASE, 'Old'));
    // THEN
    expect(endpoint.associations()).toEqual([expect.objectContaining({ associationArn: arn, tags: { team: 'payments', [OWNER_TAG_KEY]: markOf('New') } })]);
    expect(records()).toEqual([]);
  });

  test('when the stack cannot say which phase it is in, fails without changing anything', async () => {
    const { foreign, arn } = await adopted();
    local.stack.status = 'UPDATE_COMPLETE';

    await expect(handler(deleteEvent(arn, BASE, 'Adopter'))).rejects.toThrow(
      `Could not tell whether stack ${STACK_ID} is rolling back: CloudFormation reports status UPDATE_COMPLETE, in which it sends no requests to custom resources.`,
    );
    expect(endpoint.association(foreign.associationId)?.tags[OWNER_TAG_KEY]).toBe(markOf('Adopter'));
    expect(records()).toHaveLength(1);
  });
});

describe('a stack status event that arrives late', () => {
  test('settling a creation\'s takeover while the next deployment takes the association over again keeps the new takeover\'s record', async () => {
    // GIVEN the stack's creation adopted an association; its status event is late
    const foreign = seedForeign();
    const { PhysicalResourceId: arn } = await handler(createEvent({ ...BASE, AdoptExisting: true }, 'Adopter'));
    local.stack.resources.set('Adopter', { resourceType: 'Custom::EksPodIdentityAssociation', physicalResourceId: arn, status: 'CREATE_COMPLETE' });
    const created = new Date().toISOString();
    local.stack.status = 'UPDATE_IN_PROGRESS';
    // its read of the association is answered slowly, as it was when the event arrived
    endpoint.injectFault({ kind: 'slow', operation: 'DescribePodIdentityAssociation', times: 1, delayMs: 1_500 });

    // WHEN the event arrives during the next deployment, in which the construct moves (Mover takes the association over)
    const late = lambda.invoke({
      'source': 'aws.cloudformation',
      'detail-type': 'CloudFormation Stack Status Change',
      'time': created,
      'detail': { 'stack-id': STACK_ID, 'status-details': { status: 'CREATE_COMPLETE' } },
    } as never);
    await new Promise(resolve => setTimeout(resolve, 300));
    const move = createEvent(BASE, 'Mover');
    await handler(move);
    await late;

    // THEN the record of the move is still there for the move's rollback, and the creation's is gone
    expect(records()).toEqual([expect.objectContaining({ requestId: move.RequestId, to: { logicalResourceId: 'Mover', ownerMark: markOf('Mover') } })]);
    expect(endpoint.association(foreign.associationId)?.tags[OWNER_TAG_KEY]).toBe(markOf('Mover'));
    expect(logs.lines()).toContainEqual(expect.objectContaining({ event: 'transfer-final', owner: markOf('Adopter') }));
  });

  test('delivered twice, settles once and changes nothing the second time', async () => {
    // GIVEN the stack's creation adopted an association
    seedForeign();
    const { PhysicalResourceId: arn } = await handler(createEvent({ ...BASE, AdoptExisting: true }, 'Adopter'));
    local.stack.resources.set('Adopter', { resourceType: 'Custom::EksPodIdentityAssociation', physicalResourceId: arn, status: 'CREATE_COMPLETE' });
    local.stack.status = 'CREATE_COMPLETE';
    const event = {
      'source': 'aws.cloudformation',
      'detail-type': 'CloudFormation Stack Status Change',
      'time': new Date().toISOString(),
      'detail': { 'stack-id': STACK_ID, 'status-details': { status: 'CREATE_COMPLETE' } },
    } as never;
    const held = endpoint.association(arn.split('/').pop()!);

    // WHEN
    await lambda.invoke(event);
    endpoint.calls.length = 0;
    await lambda.invoke(event);

    // THEN
    expect(records()).toEqual([]);
    expect(endpoint.writeCalls()).toEqual([]);
    expect(endpoint.association(arn.split('/').pop()!)).toEqual(held);
  });
});

describe('the transfers resource', () => {
  function transfersEvent(requestType: 'Create' | 'Update' | 'Delete', physicalResourceId?: string) {
    return {
      RequestType: requestType,
      RequestId: randomUUID(),
      StackId: STACK_ID,
      LogicalResourceId: 'Transfers',
      ResourceType: TRANSFERS_RESOURCE_TYPE,
      PhysicalResourceId: physicalResourceId,
      ResourceProperties: { ServiceToken: 'token', AssociationsDigest: 'c'.repeat(64) },
    };
  }

  test('gets a new physical id on every Create and Update, so CloudFormation deletes the previous one once the deployment is over', async () => {
    const created = await handler(transfersEvent('Create'));
    const updated = await handler(transfersEvent('Update', created.PhysicalResourceId));

    expect(created.PhysicalResourceId).toMatch(new RegExp(`^${STACK_UUID}/transfers/[0-9a-f-]{36}$`));
    expect(updated.PhysicalResourceId).not.toBe(created.PhysicalResourceId);
    expect(endpoint.calls).toEqual([]);
  });

  test('its Delete makes final a transfer whose new owner holds the association', async () => {
    const foreign = seedForeign();
    const { PhysicalResourceId: arn } = await handler(createEvent({ ...BASE, AdoptExisting: true }, 'Adopter'));
    local.stack.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    local.stack.resources.set('Adopter', { resourceType: 'Custom::EksPodIdentityAssociation', physicalResourceId: arn, status: 'CREATE_COMPLETE' });

    await handler(transfersEvent('Delete', 'previous'));

    expect(records()).toEqual([]);
    expect(endpoint.association(foreign.associationId)?.tags[OWNER_TAG_KEY]).toBe(markOf('Adopter'));
  });

  test.each([
    ['its create failed', { resourceType: 'Custom::EksPodIdentityAssociation', physicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', status: 'CREATE_FAILED' as const }],
    ['the rollback removed it', undefined],
  ])('its Delete gives back an association whose new owner does not hold it (%s)', async (_, holder) => {
    const foreign = seedForeign();
    await handler(createEvent({ ...BASE, AdoptExisting: true }, 'Adopter'));
    local.stack.status = 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';
    if (holder) {
      local.stack.resources.set('Adopter', holder);
    }

    await handler(transfersEvent('Delete', 'new'));

    expect(stateOf(endpoint.association(foreign.associationId))).toEqual(stateOf(foreign));
    expect(records()).toEqual([]);
  });

  test('its Delete removes parameters that belong to no complete record (a handler stopped between two parts)', async () => {
    const ssm = new SSMClient({ endpoint: local.ssm.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
    await ssm.send(new PutParameterCommand({
      Name: `/cdk-eks-pod-identity/${STACK_UUID}/transfers/a-abcdefghijklmnopq/${randomUUID()}/1-of-2`,
      Value: '{"version":1,',
      Type: 'String',
    }));
    local.stack.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';

    await handler(transfersEvent('Delete', 'previous'));

    expect(local.ssm.parameters().size).toBe(0);
    expect(endpoint.calls).toEqual([]);
  });
});

describe('eventual consistency', () => {
  test('a 409 that names an association EKS no longer describes (its delete lag) is retried until the create succeeds', async () => {
    // GIVEN an association deleted a moment ago still blocks its service account
    endpoint.setDeleteLag(2_500);
    const { PhysicalResourceId: old } = await handler(createEvent(BASE, 'Old'));
    await handler(deleteEvent(old, BASE, 'Old'));
    endpoint.calls.length = 0;
    // WHEN another resource creates one for the service account
    const response = await handler(createEvent(BASE, 'New'));
    // THEN
    expect(response.PhysicalResourceId).not.toBe(old);
    expect(endpoint.associations().map(a => a.associationArn)).toEqual([response.PhysicalResourceId]);
    const statuses = endpoint.callsTo('CreatePodIdentityAssociation').map(call => call.status);
    expect(statuses[0]).toBe(409);
    expect(statuses[statuses.length - 1]).toBe(200);
    expect(logs.lines()).toContainEqual(expect.objectContaining({ event: 'retry', operation: 'CreatePodIdentityAssociation', reason: 'association-being-deleted' }));
  });

  test('AccessDenied right after the handler\'s policy changed is retried', async () => {
    endpoint.injectFault({ kind: 'access-denied', operation: 'CreatePodIdentityAssociation', times: 2 });

    await handler(createEvent(BASE), lambdaContext(60_000));

    expect(endpoint.callsTo('CreatePodIdentityAssociation').map(call => call.status)).toEqual([403, 403, 200]);
    expect(logs.lines().filter(line => line.event === 'retry').map(line => line.reason)).toEqual(['access-denied', 'access-denied']);
  });
});

describe('with the clock of a Lambda that runs 40 times faster', () => {
  let fast: BundledHandler;
  beforeAll(async () => {
    fast = await startBundledHandler({ ...local.environment, timeScale: 40 });
  });
  afterAll(async () => {
    await fast.stop();
  });

  test('a genuine permission problem fails once the 1-minute window has passed, well within the 5-minute timeout, and says so', async () => {
    endpoint.injectFault({ kind: 'access-denied', operation: 'CreatePodIdentityAssociation', times: 1000 });

    const result = await fast.invokeTimed(createEvent(BASE), lambdaContext(300_000));

    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.message).toMatch(/The handler's role was still denied after \d+ attempts over \d+ s \(IAM propagates a changed policy within 1 minute, so this is not a propagation delay\)\./);
    expect(result.elapsedMs).toBeGreaterThan(45_000);
    expect(result.elapsedMs).toBeLessThan(90_000);
  });
});

describe('roles as IAM shows them to EKS', () => {
  let trusting = 0;
  let withTrust: LocalEndpoints;
  let trustHandler: BundledHandler;
  beforeAll(async () => {
    // An IAM where the role's trust statement for pods.eks.amazonaws.com reaches EKS only after a few reads
    const iam: AccessControl = {
      principalOf: () => `arn:aws:iam::${ACCOUNT}:role/handler`,
      authorize: async () => ({ allowed: true }),
      roleExists: () => true,
      roleTrusts: () => trusting-- <= 0,
    };
    withTrust = await startLocalEndpoints({ clusters: ['my-cluster'], accessControl: iam });
    trustHandler = await startBundledHandler(withTrust.environment);
  });
  afterAll(async () => {
    await trustHandler.stop();
    await withTrust.close();
  });

  test('"Trust policy of the role provided is invalid" while a trust statement propagates is retried', async () => {
    trusting = 2;

    const response = await trustHandler.invoke(createEvent(BASE), lambdaContext(60_000));

    expect(withTrust.eks.callsTo('CreatePodIdentityAssociation').map(call => call.status)).toEqual([400, 400, 200]);
    expect(withTrust.eks.associations().map(a => a.associationArn)).toEqual([response.PhysicalResourceId]);
  });
});

describe('an update in place', () => {
  test('refuses an association another resource owns, and changes nothing', async () => {
    const { PhysicalResourceId: arn } = await handler(createEvent(BASE, 'Owner'));
    const before = endpoint.associations()[0];

    await expect(handler(updateEvent(arn, BASE, { ...BASE, RoleArn: FOREIGN_ROLE }, 'Intruder'))).rejects.toThrow(
      `it is marked as owned by ${markOf('Owner')}, not by this resource (${markOf('Intruder')})`,
    );
    expect(stateOf(endpoint.associations()[0])).toEqual(stateOf(before));
  });
});
