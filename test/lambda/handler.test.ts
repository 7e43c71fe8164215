import { idempotencyToken } from '../../lambda/eks';
import { OWNER_TAG_KEY } from '../../src/private/contract';
import type { EksEndpoint } from '../fixtures/eks-endpoint';
import {
  ACCOUNT,
  BundledHandler,
  Handler,
  LocalEndpoints,
  REGION,
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

const ROLE = `arn:aws:iam::${ACCOUNT}:role/payments-api`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/payments-api-v2`;
const TARGET_ROLE = 'arn:aws:iam::444455556666:role/data-reader';
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }] });
const ASSOCIATION_ARN = new RegExp(`^arn:aws:eks:${REGION}:${ACCOUNT}:podidentityassociation/my-cluster/a-[a-z0-9]{17}$`);

const BASE: TemplateProperties = { ClusterName: 'my-cluster', Namespace: 'payments', ServiceAccount: 'api', RoleArn: ROLE };
/** The owner mark of logical id `Association` in the harness's stack: `<stack uuid>/<logical id>`. */
const OWNER = { [OWNER_TAG_KEY]: `${STACK_ID.split('/')[2]}/Association` };

let local: LocalEndpoints;
let endpoint: EksEndpoint;
let lambda: BundledHandler;
let handler: Handler;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  local = await startLocalEndpoints({ clusters: ['my-cluster', 'other-cluster'] });
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

/** Operations the endpoint received, in order: the strict check that nothing unexpected was called. */
function operations(): string[] {
  return endpoint.calls.map(call => call.operation);
}

/** The bodies of the UpdatePodIdentityAssociation calls, in order. */
function updateBodies(): unknown[] {
  return endpoint.callsTo('UpdatePodIdentityAssociation').map(call => call.body);
}

/** Creates an association through the handler and forgets the calls it took. */
async function created(properties: TemplateProperties = BASE): Promise<string> {
  const response = await handler(createEvent(properties));
  endpoint.calls.length = 0;
  return response.PhysicalResourceId;
}

describe('Create', () => {
  test('creates the association with an idempotency token of its own and returns its ARN, id and an empty external id', async () => {
    // GIVEN
    const event = createEvent(BASE);
    // WHEN
    const response = await handler(event);
    // THEN
    expect(operations()).toEqual(['CreatePodIdentityAssociation']);
    expect(endpoint.calls[0].params).toEqual({ clusterName: 'my-cluster' });
    expect(endpoint.calls[0].body).toEqual({ namespace: 'payments', serviceAccount: 'api', roleArn: ROLE, tags: OWNER, clientRequestToken: idempotencyToken(event.RequestId, 'create') });
    const [stored] = endpoint.associations();
    expect(response).toEqual({
      PhysicalResourceId: stored.associationArn,
      Data: { AssociationArn: stored.associationArn, AssociationId: stored.associationId, ExternalId: '' },
    });
    expect(response.PhysicalResourceId).toMatch(ASSOCIATION_ARN);
  });

  test('sends every field set in the properties and returns the external id EKS generated', async () => {
    const event = createEvent({ ...BASE, TargetRoleArn: TARGET_ROLE, DisableSessionTags: true, Policy: POLICY, Tags: { team: 'payments' } });

    const response = await handler(event);

    expect(operations()).toEqual(['CreatePodIdentityAssociation']);
    expect(endpoint.calls[0].body).toEqual({
      namespace: 'payments',
      serviceAccount: 'api',
      roleArn: ROLE,
      targetRoleArn: TARGET_ROLE,
      disableSessionTags: true,
      policy: POLICY,
      tags: { team: 'payments', ...OWNER },
      clientRequestToken: idempotencyToken(event.RequestId, 'create'),
    });
    const [stored] = endpoint.associations();
    expect(stored.externalId).toBeTruthy();
    expect(response.Data?.ExternalId).toBe(stored.externalId);
  });

  test('does not send disableSessionTags when CloudFormation delivers "false"', async () => {
    await handler(createEvent({ ...BASE, DisableSessionTags: false }));

    expect(endpoint.calls[0].body).not.toHaveProperty('disableSessionTags');
    expect(endpoint.associations()[0].disableSessionTags).toBe(false);
  });

  test('the same Create delivered twice creates one association', async () => {
    const event = createEvent(BASE);

    const first = await handler(event);
    const second = await handler(event);

    expect(second).toEqual(first);
    expect(endpoint.associations()).toHaveLength(1);
    expect(operations()).toEqual(['CreatePodIdentityAssociation', 'CreatePodIdentityAssociation']);
  });

  test('waits for a new role to propagate, then creates one association', async () => {
    endpoint.failRoleNotFound(2, ROLE);

    const response = await handler(createEvent(BASE), lambdaContext(60_000));

    expect(operations()).toEqual(['CreatePodIdentityAssociation', 'CreatePodIdentityAssociation', 'CreatePodIdentityAssociation']);
    expect(endpoint.associations().map(a => a.associationArn)).toEqual([response.PhysicalResourceId]);
    expect(logs.lines().filter(line => line.event === 'retry').map(line => line.reason)).toEqual(['role-not-propagated', 'role-not-propagated']);
  });

  test('gives up on a role that never appears before the Lambda times out, and says what to do', async () => {
    endpoint.setRoleExists(() => false);
    const started = Date.now();

    const result = handler(createEvent(BASE), lambdaContext(5_000));

    await expect(result).rejects.toThrow(new RegExp(
      '^Could not create the Pod Identity association of service account "payments/api" in EKS cluster "my-cluster" with role ' + ROLE +
      ': EKS answered InvalidParameterException \\(HTTP 400\\): Role provided in the request does not exist\\. ' +
      `The role ${ROLE} still did not exist after \\d+ attempts over \\d+ s`,
    ));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(endpoint.associations()).toEqual([]);
  });

  test('a service account that already has an association this stack did not create fails with its id and both ways out', async () => {
    const existing = endpoint.seedAssociation({ clusterName: 'my-cluster', namespace: 'payments', serviceAccount: 'api', roleArn: OTHER_ROLE });

    await expect(handler(createEvent(BASE))).rejects.toThrow(
      `Could not create the Pod Identity association of service account "payments/api" in EKS cluster "my-cluster" with role ${ROLE}: ` +
      `association ${existing.associationId} already holds service account "payments/api", and EKS allows one association per service account. ` +
      'This stack did not create it (owner: none). ' +
      `Either delete it (aws eks delete-pod-identity-association --cluster-name my-cluster --association-id ${existing.associationId}) and deploy again, ` +
      'or set `adoptExisting: true` on this PodIdentityAssociation to take it over: it is then updated to this configuration and deleted with this stack; a deployment that fails gives it back as it was.',
    );
    expect(operations()).toEqual(['CreatePodIdentityAssociation', 'DescribePodIdentityAssociation']);
    expect(endpoint.associations()).toEqual([expect.objectContaining({ associationId: existing.associationId, roleArn: OTHER_ROLE, tags: {} })]);
  });

  test('an unknown cluster fails with a message that names it', async () => {
    await expect(handler(createEvent({ ...BASE, ClusterName: 'missing' }))).rejects.toThrow(
      /EKS answered ResourceNotFoundException \(HTTP 404\): .*\. Check that EKS cluster "missing" exists in this stack's account and region\.$/,
    );
  });

  test.each(['throttle', 'server-error'] as const)('retries %s answers and succeeds', async kind => {
    endpoint.injectFault({ kind, times: 2, operation: 'CreatePodIdentityAssociation' });

    await handler(createEvent(BASE));

    expect(endpoint.calls.map(call => call.status)).toEqual([kind === 'throttle' ? 429 : 500, kind === 'throttle' ? 429 : 500, 200]);
    expect(endpoint.associations()).toHaveLength(1);
  });
});

describe('Update', () => {
  test('a new role is one UpdatePodIdentityAssociation with only roleArn, after reading the owner mark', async () => {
    const arn = await created();
    const event = updateEvent(arn, BASE, { ...BASE, RoleArn: OTHER_ROLE });

    const response = await handler(event);

    expect(operations()).toEqual(['DescribePodIdentityAssociation', 'UpdatePodIdentityAssociation']);
    expect(endpoint.calls[1].body).toEqual({ roleArn: OTHER_ROLE, clientRequestToken: idempotencyToken(event.RequestId, 'update') });
    expect(response.PhysicalResourceId).toBe(arn);
    expect(endpoint.associations()[0].roleArn).toBe(OTHER_ROLE);
  });

  test('setting a target role returns its external id', async () => {
    const arn = await created();

    const response = await handler(updateEvent(arn, BASE, { ...BASE, TargetRoleArn: TARGET_ROLE }));

    expect(updateBodies()).toEqual([{ targetRoleArn: TARGET_ROLE, clientRequestToken: expect.any(String) }]);
    const [stored] = endpoint.associations();
    expect(stored.targetRoleArn).toBe(TARGET_ROLE);
    expect(response.Data).toEqual({ AssociationArn: arn, AssociationId: stored.associationId, ExternalId: stored.externalId });
  });

  test('clearing the target role sends an empty string and really clears it', async () => {
    const withTarget = { ...BASE, TargetRoleArn: TARGET_ROLE };
    const arn = await created(withTarget);

    const response = await handler(updateEvent(arn, withTarget, BASE));

    expect(updateBodies()).toEqual([{ targetRoleArn: '', clientRequestToken: expect.any(String) }]);
    expect(endpoint.associations()[0].targetRoleArn).toBeUndefined();
    expect(response.Data?.ExternalId).toBe('');
  });

  test.each([
    [false, true],
    [true, false],
  ])('session tags disabled %s -> %s', async (before, after) => {
    const arn = await created({ ...BASE, DisableSessionTags: before });

    await handler(updateEvent(arn, { ...BASE, DisableSessionTags: before }, { ...BASE, DisableSessionTags: after }));

    expect(updateBodies()).toEqual([{ disableSessionTags: after, clientRequestToken: expect.any(String) }]);
    expect(endpoint.associations()[0].disableSessionTags).toBe(after);
  });

  test('setting, changing and clearing the session policy', async () => {
    const noTags = { ...BASE, DisableSessionTags: true };
    const otherPolicy = POLICY.replace('reports', 'archive');
    const arn = await created(noTags);

    await handler(updateEvent(arn, noTags, { ...noTags, Policy: POLICY }));
    expect(endpoint.associations()[0].policy).toBe(POLICY);
    await handler(updateEvent(arn, { ...noTags, Policy: POLICY }, { ...noTags, Policy: otherPolicy }));
    expect(endpoint.associations()[0].policy).toBe(otherPolicy);
    await handler(updateEvent(arn, { ...noTags, Policy: otherPolicy }, noTags));

    expect(updateBodies()).toEqual([
      { policy: POLICY, clientRequestToken: expect.any(String) },
      { policy: otherPolicy, clientRequestToken: expect.any(String) },
      { policy: '', clientRequestToken: expect.any(String) },
    ]);
    expect(endpoint.associations()[0].policy).toBeUndefined();
  });

  test('tag changes are TagResource and UntagResource only', async () => {
    const before = { ...BASE, Tags: { team: 'payments', env: 'dev', owner: 'alice' } };
    const after = { ...BASE, Tags: { team: 'payments', env: 'prod', tier: '1' } };
    const arn = await created(before);

    await handler(updateEvent(arn, before, after));

    expect(operations()).toEqual(['DescribePodIdentityAssociation', 'UntagResource', 'TagResource']);
    expect(endpoint.calls[1].params).toEqual({ resourceArn: arn });
    expect(endpoint.calls[1].query).toEqual({ tagKeys: 'owner' });
    expect(endpoint.calls[2].body).toEqual({ tags: { env: 'prod', tier: '1' } });
    // the owner mark is not a user tag: it stays
    expect(endpoint.associations()[0].tags).toEqual({ team: 'payments', env: 'prod', tier: '1', ...OWNER });
  });

  test('nothing changed: one read (the owner mark), no write', async () => {
    const arn = await created();
    const [stored] = endpoint.associations();

    const response = await handler(updateEvent(arn, BASE, BASE));

    expect(operations()).toEqual(['DescribePodIdentityAssociation']);
    expect(response).toEqual({ PhysicalResourceId: arn, Data: { AssociationArn: arn, AssociationId: stored.associationId, ExternalId: '' } });
  });

  test('nothing changed with a target role: the one read also returns the external id CloudFormation expects', async () => {
    const withTarget = { ...BASE, TargetRoleArn: TARGET_ROLE };
    const arn = await created(withTarget);

    const response = await handler(updateEvent(arn, withTarget, withTarget));

    expect(operations()).toEqual(['DescribePodIdentityAssociation']);
    expect(response.Data?.ExternalId).toBe(endpoint.associations()[0].externalId);
  });

  test.each([
    ['namespace', { Namespace: 'billing' }],
    ['service account', { ServiceAccount: 'worker' }],
    ['cluster', { ClusterName: 'other-cluster' }],
  ])('a new %s creates a new association, after looking for one that holds it; the Delete that follows removes the old one', async (_, change) => {
    const arn = await created();
    const replaced = { ...BASE, ...change };

    const response = await handler(updateEvent(arn, BASE, replaced));
    expect(operations()).toEqual(['ListPodIdentityAssociations', 'CreatePodIdentityAssociation']);
    expect(response.PhysicalResourceId).not.toBe(arn);
    await handler(deleteEvent(arn, BASE));

    expect(endpoint.associations().map(a => [a.associationArn, a.clusterName, a.namespace, a.serviceAccount])).toEqual([
      [response.PhysicalResourceId, replaced.ClusterName, replaced.Namespace, replaced.ServiceAccount],
    ]);
  });
});

describe('Delete', () => {
  test('deletes the association', async () => {
    const arn = await created();

    const response = await handler(deleteEvent(arn, BASE));

    // one read to check the owner mark, one write
    expect(operations()).toEqual(['DescribePodIdentityAssociation', 'DeletePodIdentityAssociation']);
    expect(response).toEqual({ PhysicalResourceId: arn });
    expect(endpoint.associations()).toEqual([]);
  });

  test('an association that is already gone is success: one read, and a look for one a rollback restored under another id', async () => {
    const arn = await created();
    endpoint.deleteOutOfBand(endpoint.associations()[0].associationId);

    await expect(handler(deleteEvent(arn, BASE))).resolves.toEqual({ PhysicalResourceId: arn });
    expect(endpoint.calls.map(call => [call.operation, call.status])).toEqual([['DescribePodIdentityAssociation', 404], ['ListPodIdentityAssociations', 200]]);
  });

  test('a physical id that is not an association ARN (left by a failed create) is success with no call', async () => {
    const event = deleteEvent('0b4c1a4e-6f0e-4a55-9e1f-0c3b1f7b2d11', BASE);

    await expect(handler(event)).resolves.toEqual({ PhysicalResourceId: '0b4c1a4e-6f0e-4a55-9e1f-0c3b1f7b2d11' });
    expect(operations()).toEqual([]);
  });

  test('a failure that outlasts the retries fails the request with what was asked and what AWS answered, within the time left', async () => {
    const arn = await created();
    endpoint.injectFault({ kind: 'server-error', times: 1000, operation: 'DeletePodIdentityAssociation' });
    const started = Date.now();

    await expect(handler(deleteEvent(arn, BASE), lambdaContext(6_000))).rejects.toThrow(
      /^Could not delete Pod Identity association a-[a-z0-9]{17} in EKS cluster "my-cluster": EKS answered ServerException \(HTTP 500\): .*\. EKS kept failing after \d+ attempts over \d+ s, until the time left to this Lambda invocation ran out; retry the deployment later\.$/,
    );
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(endpoint.associations()).toHaveLength(1);
  });
});

describe('requests the handler refuses before calling AWS', () => {
  test('an unknown request type', async () => {
    const event = { ...createEvent(BASE), RequestType: 'Replace' };

    await expect(handler(event)).rejects.toThrow('Unknown RequestType "Replace" for Custom::EksPodIdentityAssociation: expected Create, Update or Delete. Nothing was sent to EKS.');
    expect(operations()).toEqual([]);
  });

  test.each([
    ['a missing cluster name', { ClusterName: undefined }, 'ClusterName must be a non-empty string, got: nothing'],
    ['a number as namespace', { Namespace: 7 }, 'Namespace must be a non-empty string, got: 7'],
    ['a session tags flag that is not a boolean', { DisableSessionTags: 'yes' }, 'DisableSessionTags must be true or false, got: "yes"'],
    ['a policy that is not JSON', { Policy: '{not json' }, 'Policy must be a JSON policy document, got 9 characters that do not parse as JSON'],
    ['tags that are not strings', { Tags: { team: 1 } }, 'Tags values must be strings, got: 1 for key "team"'],
    ['the owner tag among the user tags', { Tags: OWNER }, `Tags must not use the key ${OWNER_TAG_KEY}, which marks the association's owner`],
    ['an adoptExisting flag that is not a boolean', { AdoptExisting: 1 }, 'AdoptExisting must be true or false, got: 1'],
  ])('%s', async (_, change, problem) => {
    const event = createEvent(BASE);
    const broken = { ...event, ResourceProperties: { ...event.ResourceProperties, ...change } };

    await expect(handler(broken)).rejects.toThrow(`Invalid ResourceProperties for Custom::EksPodIdentityAssociation: ${problem}`);
    await expect(handler(broken)).rejects.toThrow('. Nothing was sent to EKS.');
    expect(operations()).toEqual([]);
  });

  test('properties this version does not know (CloudFormation\'s ServiceTimeout, a newer version\'s) are ignored and logged, and the request succeeds', async () => {
    // GIVEN a create as a newer construct, or CloudFormation, writes it
    const event = createEvent(BASE);
    const newer = { ...event, ResourceProperties: { ...event.ResourceProperties, ServiceTimeout: '900', RetiredOrFuture: 'x' } };
    // WHEN
    const response = await handler(newer);
    // THEN
    expect(response.PhysicalResourceId).toMatch(ASSOCIATION_ARN);
    expect(operations()).toEqual(['CreatePodIdentityAssociation']);
    expect(logs.lines()).toContainEqual({ event: 'ignored-properties', properties: ['RetiredOrFuture'], reason: 'not known to this version of the handler' });
  });

  test('a rollback across a library upgrade: an Update back whose properties this version does not know still succeeds', async () => {
    const arn = await created();
    const event = updateEvent(arn, BASE, { ...BASE, RoleArn: OTHER_ROLE });

    await handler({ ...event, ResourceProperties: { ...event.ResourceProperties, FromANewerVersion: 'x' } });

    expect(endpoint.associations()[0].roleArn).toBe(OTHER_ROLE);
  });

  test('old properties written by another version may carry properties this one does not know', async () => {
    const arn = await created();
    const event = updateEvent(arn, BASE, { ...BASE, RoleArn: OTHER_ROLE });

    await handler({ ...event, OldResourceProperties: { ...event.OldResourceProperties, Retired: 'x' } });

    expect(operations()).toEqual(['DescribePodIdentityAssociation', 'UpdatePodIdentityAssociation']);
  });
});

describe('logs', () => {
  test('one JSON line per request, EKS call and decision, without credentials or the session policy body', async () => {
    const properties = { ...BASE, DisableSessionTags: true, Policy: POLICY };
    endpoint.seedAssociation({ clusterName: 'my-cluster', namespace: 'payments', serviceAccount: 'api', roleArn: OTHER_ROLE });

    await expect(handler(createEvent({ ...properties, AdoptExisting: true }))).resolves.toBeDefined();

    expect(logs.lines()).toEqual([
      expect.objectContaining({ event: 'request', requestType: 'Create', resourceType: 'Custom::EksPodIdentityAssociation', logicalResourceId: 'Association' }),
      { event: 'CreatePodIdentityAssociation', policyBytes: POLICY.length, ms: expect.any(Number), error: 'ResourceInUseException' },
      { event: 'DescribePodIdentityAssociation', associationId: expect.stringMatching(/^a-/), ms: expect.any(Number) },
      expect.objectContaining({ event: 'GetParametersByPath' }),
      expect.objectContaining({ event: 'GetParametersByPath' }),
      expect.objectContaining({ event: 'PutParameter' }),
      expect.objectContaining({ event: 'take-over', previousOwner: 'none', because: 'adoptExisting' }),
      expect.objectContaining({ event: 'TagResource', keys: [OWNER_TAG_KEY] }),
      expect.objectContaining({ event: 'UpdatePodIdentityAssociation', changed: ['roleArn', 'disableSessionTags', 'policy'], policyBytes: POLICY.length }),
    ]);
    const raw = logs.raw().join('\n');
    expect(raw).not.toContain('s3:GetObject');
    expect(raw).not.toContain('AKIDLOCALTEST');
    expect(raw).not.toContain('local-test-secret');
  });
});

describe('a target-role trust generated with an external id (session tags disabled)', () => {
  const EXPECTED = `${REGION}/${ACCOUNT}/my-cluster/payments/api`;
  const withExternalIdTrust: TemplateProperties = { ...BASE, TargetRoleArn: TARGET_ROLE, DisableSessionTags: true, ExpectedExternalId: EXPECTED };

  test('succeeds when EKS reports the external id the trust requires', async () => {
    endpoint.setExternalIdFormat('user-guide');

    const response = await handler(createEvent(withExternalIdTrust));

    expect(response.Data?.ExternalId).toBe(EXPECTED);
    expect(endpoint.associations()).toHaveLength(1);
  });

  test('a create fails, and removes what it created, when EKS reports another external id', async () => {
    endpoint.setExternalIdFormat('random');

    await expect(handler(createEvent(withExternalIdTrust))).rejects.toThrow(new RegExp(
      `^Could not give service account "payments/api" in EKS cluster "my-cluster" target role ${TARGET_ROLE}: ` +
      'EKS reports the external id "[0-9a-f-]{36}" for association a-[a-z0-9]{17}, ' +
      `but the trust this library generated for the target role requires "${EXPECTED}"`,
    ));
    expect(operations()).toEqual(['CreatePodIdentityAssociation', 'DeletePodIdentityAssociation']);
    expect(endpoint.associations()).toEqual([]);
  });

  test('an update that sets the target role fails when EKS reports another external id, and leaves the association for the rollback', async () => {
    endpoint.setExternalIdFormat('random');
    const noTags = { ...BASE, DisableSessionTags: true };
    const arn = await created(noTags);

    await expect(handler(updateEvent(arn, noTags, withExternalIdTrust))).rejects.toThrow(`requires "${EXPECTED}"`);
    expect(operations()).toEqual(['DescribePodIdentityAssociation', 'UpdatePodIdentityAssociation']);
    expect(endpoint.associations()).toHaveLength(1);
  });
});
