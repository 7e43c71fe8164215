import type { DeclaredAssociation } from '../../lambda/properties';
import { OWNER_TAG_KEY } from '../../src/private/contract';
import { SimulatedStack, Template } from '../fixtures/cloudformation';
import { EksEndpoint, StoredAssociation, startEksEndpoint } from '../fixtures/eks-endpoint';
import { ACCOUNT, BundledHandler, Handler, TemplateProperties, captureLogs, startBundledHandler } from '../fixtures/handler-harness';

/*
 * CloudFormation sequences, driven through the bundled handler against the local EKS endpoint.
 * After each one the endpoint must hold exactly the associations the final template declares
 * (nothing leaked, nothing duplicated, nothing deleted that was not ours), and every request must
 * have ended, in success or a clear error, within the Lambda timeout.
 */

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const TARGET_ROLE = 'arn:aws:iam::444455556666:role/data-reader';
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });

const api: TemplateProperties = { ClusterName: 'my-cluster', Namespace: 'payments', ServiceAccount: 'api', RoleArn: role('api') };
const worker: TemplateProperties = { ClusterName: 'my-cluster', Namespace: 'payments', ServiceAccount: 'worker', RoleArn: role('worker') };

let endpoint: EksEndpoint;
let lambda: BundledHandler;
let handler: Handler;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  endpoint = await startEksEndpoint({ clusters: ['my-cluster', 'other-cluster'] });
});
afterAll(async () => {
  await endpoint.close();
});
// A fresh Lambda container per test: the SDK's adaptive retry state must not leak between tests.
beforeEach(async () => {
  endpoint.reset();
  logs = captureLogs();
  lambda = await startBundledHandler(endpoint.url);
  handler = lambda.invoke;
});
afterEach(async () => {
  await lambda.stop();
  logs.restore();
});

/** The state an association must have in EKS, as the template and the owner mark define it. */
type AssociationState = Omit<DeclaredAssociation, 'adoptExisting' | 'expectedExternalId'> & { readonly associationArn: string };

function declared(...stacks: SimulatedStack[]): AssociationState[] {
  return sorted(stacks.flatMap(stack => [...stack.resources].map(([logicalId, { physicalResourceId, properties }]) => ({
    associationArn: physicalResourceId,
    clusterName: properties.ClusterName,
    namespace: properties.Namespace,
    serviceAccount: properties.ServiceAccount,
    roleArn: properties.RoleArn,
    targetRoleArn: properties.TargetRoleArn,
    disableSessionTags: properties.DisableSessionTags ?? false,
    policy: properties.Policy,
    tags: { ...properties.Tags, [OWNER_TAG_KEY]: `${stack.stackId.split('/')[2]}/${logicalId}` },
  }))));
}

function actual(except: StoredAssociation[] = []): AssociationState[] {
  const foreign = new Set(except.map(a => a.associationId));
  return sorted(endpoint.associations().filter(a => !foreign.has(a.associationId)).map(a => ({
    associationArn: a.associationArn,
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
    targetRoleArn: a.targetRoleArn,
    disableSessionTags: a.disableSessionTags,
    policy: a.policy,
    tags: a.tags,
  })));
}

function sorted(states: AssociationState[]): AssociationState[] {
  return [...states].sort((a, b) => a.associationArn.localeCompare(b.associationArn));
}

/** Nothing leaked, nothing duplicated; foreign associations are exactly as they were. */
function expectEndpointHoldsExactly(stacks: SimulatedStack[], foreign: StoredAssociation[] = []): void {
  expect(actual(foreign)).toEqual(declared(...stacks));
  for (const association of foreign) {
    expect(endpoint.association(association.associationId)).toEqual(association);
  }
}

/** Every request ended within the Lambda timeout, in success or an error that explains itself. */
function expectEveryRequestAnswered(stack: SimulatedStack): void {
  for (const invocation of stack.invocations) {
    expect(invocation.elapsedMs).toBeLessThan(invocation.budgetMs);
    if (!invocation.ok) {
      expect(invocation.error).toMatch(/^(Could not .+: .+\. .+|Invalid .+)/);
    }
  }
}

function writes(): string[] {
  return endpoint.writeCalls().map(call => call.operation);
}

describe('lifecycle sequences', () => {
  test('create, update every field in place, replace, delete', async () => {
    const stack = new SimulatedStack(handler);

    // create
    expect(await stack.deploy({ Api: api, Worker: worker })).toBe('UPDATE_COMPLETE');
    expectEndpointHoldsExactly([stack]);
    expect(writes()).toEqual(['CreatePodIdentityAssociation', 'CreatePodIdentityAssociation']);

    // update in place, one change at a time, each with the writes it takes
    const steps: Array<[Partial<TemplateProperties>, string[]]> = [
      [{ RoleArn: role('api-v2') }, ['UpdatePodIdentityAssociation']],
      [{ TargetRoleArn: TARGET_ROLE }, ['UpdatePodIdentityAssociation']],
      [{ DisableSessionTags: true }, ['UpdatePodIdentityAssociation']],
      [{ Policy: POLICY }, ['UpdatePodIdentityAssociation']],
      [{ Policy: POLICY.replace('"*"', '"arn:aws:s3:::reports/*"') }, ['UpdatePodIdentityAssociation']],
      [{ Policy: undefined }, ['UpdatePodIdentityAssociation']],
      [{ TargetRoleArn: undefined, DisableSessionTags: undefined }, ['UpdatePodIdentityAssociation']],
      [{ Tags: { team: 'payments', env: 'dev' } }, ['TagResource']],
      [{ Tags: { team: 'billing', tier: '1' } }, ['UntagResource', 'TagResource']],
      [{ Tags: undefined }, ['UntagResource']],
      [{ DisableSessionTags: false }, []],
    ];
    let current: TemplateProperties = api;
    for (const [change, expectedWrites] of steps) {
      current = { ...current, ...change };
      endpoint.calls.length = 0;
      expect(await stack.deploy({ Api: current, Worker: worker })).toBe('UPDATE_COMPLETE');
      expectEndpointHoldsExactly([stack]);
      expect(writes()).toEqual(expectedWrites);
    }

    // replacement: new service account; CloudFormation then deletes the old association
    endpoint.calls.length = 0;
    expect(await stack.deploy({ Api: { ...current, ServiceAccount: 'api-v2' }, Worker: worker })).toBe('UPDATE_COMPLETE');
    expectEndpointHoldsExactly([stack]);
    expect(writes()).toEqual(['CreatePodIdentityAssociation', 'DeletePodIdentityAssociation']);

    // delete
    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expect(endpoint.associations()).toEqual([]);
    expectEveryRequestAnswered(stack);
  });

  test('every request delivered twice: still one association each, and the same end state', async () => {
    const stack = new SimulatedStack(handler, { deliverTwice: true });

    expect(await stack.deploy({ Api: api, Worker: worker })).toBe('UPDATE_COMPLETE');
    expect(endpoint.associations()).toHaveLength(2);
    expect(await stack.deploy({ Api: { ...api, RoleArn: role('api-v2'), Tags: { team: 'payments' } }, Worker: { ...worker, Namespace: 'jobs' } })).toBe('UPDATE_COMPLETE');
    expectEndpointHoldsExactly([stack]);
    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expect(endpoint.associations()).toEqual([]);
    expectEveryRequestAnswered(stack);
  });

  test('a construct that moves (new logical id, same service account) takes its association over instead of colliding', async () => {
    const stack = new SimulatedStack(handler);
    await stack.deploy({ Api: api });
    const [original] = endpoint.associations();

    expect(await stack.deploy({ ApiMoved: { ...api, RoleArn: role('api-v2') } })).toBe('UPDATE_COMPLETE');

    // the same association, now owned by the new logical id; the old one's Delete left it alone
    expectEndpointHoldsExactly([stack]);
    expect(endpoint.associations().map(a => a.associationId)).toEqual([original.associationId]);
    expect(logs.lines().filter(line => line.event === 'left-alone')).toEqual([
      expect.objectContaining({ associationId: original.associationId, owner: `${stack.stackId.split('/')[2]}/ApiMoved` }),
    ]);
    expectEveryRequestAnswered(stack);
  });

  test('two associations swap namespaces in one deployment', async () => {
    const stack = new SimulatedStack(handler);
    const blue = { ...api, Namespace: 'blue', ServiceAccount: 'app', RoleArn: role('one') };
    const green = { ...api, Namespace: 'green', ServiceAccount: 'app', RoleArn: role('two') };
    await stack.deploy({ One: blue, Two: green });

    expect(await stack.deploy({ One: { ...blue, Namespace: 'green' }, Two: { ...green, Namespace: 'blue' } })).toBe('UPDATE_COMPLETE');

    expectEndpointHoldsExactly([stack]);
    expect(endpoint.associations()).toHaveLength(2);
    expectEveryRequestAnswered(stack);
  });

  test('rollback after a failed create deletes what the deployment created', async () => {
    const foreign = endpoint.seedAssociation({ clusterName: 'my-cluster', namespace: 'payments', serviceAccount: 'worker', roleArn: role('someone-else') });
    const stack = new SimulatedStack(handler);

    expect(await stack.deploy({ Api: api, Worker: worker })).toBe('UPDATE_ROLLBACK_COMPLETE');

    expect(stack.resources.size).toBe(0);
    expectEndpointHoldsExactly([stack], [foreign]);
    expect(stack.errors()).toEqual([expect.stringContaining(`Association ${foreign.associationId} already holds service account "payments/worker" and this stack did not create it (owner: none)`)]);
    expectEveryRequestAnswered(stack);
  });

  test('rollback after a failed update restores the previous associations', async () => {
    const stack = new SimulatedStack(handler);
    await stack.deploy({ Api: api, Worker: worker });
    const before = declared(stack);
    endpoint.setRoleExists(arn => arn !== role('missing'));

    // Api is replaced (new namespace) while Worker's update fails: its role never appears
    const status = await stack.deploy({ Api: { ...api, Namespace: 'billing' }, Worker: { ...worker, RoleArn: role('missing') } });

    expect(status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(declared(stack)).toEqual(before);
    expectEndpointHoldsExactly([stack]);
    expectEveryRequestAnswered(stack);
  }, 60_000);

  test('an association deleted out of band is created again by the next update, and its stale ARN deletes cleanly', async () => {
    const stack = new SimulatedStack(handler);
    await stack.deploy({ Api: api, Worker: worker });
    const [gone] = endpoint.associations();
    endpoint.deleteOutOfBand(gone.associationId);

    expect(await stack.deploy({ Api: { ...api, RoleArn: role('api-v2') }, Worker: { ...worker, Tags: { team: 'jobs' } } })).toBe('UPDATE_COMPLETE');

    expectEndpointHoldsExactly([stack]);
    expect(endpoint.associations()).toHaveLength(2);
    expect(logs.lines().filter(line => line.event === 'recreate')).toHaveLength(1);
  });

  test('deleting a stack whose association was deleted out of band succeeds', async () => {
    const stack = new SimulatedStack(handler);
    await stack.deploy({ Api: api });
    endpoint.deleteOutOfBand(endpoint.associations()[0].associationId);

    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expect(endpoint.associations()).toEqual([]);
  });
});

describe('associations this stack did not create', () => {
  test('without adoptExisting the deployment fails and the association is untouched', async () => {
    const foreign = endpoint.seedAssociation({ ...seedFor(api), tags: { team: 'platform' } });
    const stack = new SimulatedStack(handler);

    expect(await stack.deploy({ Api: api })).toBe('UPDATE_ROLLBACK_COMPLETE');

    expectEndpointHoldsExactly([stack], [foreign]);
  });

  test('another stack\'s association is never taken over or deleted', async () => {
    const other = new SimulatedStack(handler, { stackName: 'Other' });
    await other.deploy({ Api: api });
    const stack = new SimulatedStack(handler);

    expect(await stack.deploy({ Api: { ...api, RoleArn: role('mine') } })).toBe('UPDATE_ROLLBACK_COMPLETE');

    expect(stack.errors()[0]).toContain(`and this stack did not create it (owner: ${other.stackId.split('/')[2]}/Api)`);
    expectEndpointHoldsExactly([other, stack]);
    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expectEndpointHoldsExactly([other]);
  });

  test('with adoptExisting it is taken over: updated, marked, and deleted with the stack', async () => {
    const foreign = endpoint.seedAssociation({ ...seedFor(api), roleArn: role('old'), tags: { team: 'platform', stale: 'x' } });
    const stack = new SimulatedStack(handler);
    const adopting = { ...api, Tags: { team: 'payments' }, AdoptExisting: true };

    expect(await stack.deploy({ Api: adopting })).toBe('UPDATE_COMPLETE');

    expect(stack.resources.get('Api')!.physicalResourceId).toBe(foreign.associationArn);
    expect(endpoint.association(foreign.associationId)).toEqual(expect.objectContaining({
      roleArn: api.RoleArn,
      tags: { team: 'payments', [OWNER_TAG_KEY]: `${stack.stackId.split('/')[2]}/Api` },
    }));
    expect(await stack.destroy()).toBe('DELETE_COMPLETE');
    expect(endpoint.associations()).toEqual([]);
  });

  test('an EKS add-on\'s association is never modified, even with adoptExisting', async () => {
    const addOn = endpoint.seedAssociation({ ...seedFor(api), ownerArn: `arn:aws:eks:us-east-1:${ACCOUNT}:addon/my-cluster/aws-ebs-csi-driver/abc` });
    const stack = new SimulatedStack(handler);

    expect(await stack.deploy({ Api: { ...api, AdoptExisting: true } })).toBe('UPDATE_ROLLBACK_COMPLETE');

    expect(stack.errors()[0]).toContain(`belongs to the EKS add-on ${addOn.ownerArn}, and this library never modifies or deletes an add-on's association`);
    expectEndpointHoldsExactly([stack], [addOn]);
  });
});

describe('faults', () => {
  const template: Template = { Api: api, Worker: worker };
  const updated: Template = { Api: { ...api, RoleArn: role('api-v2'), Tags: { team: 'x' } }, Worker: { ...worker, Namespace: 'jobs' } };

  async function happyPath(stack: SimulatedStack, inject: () => void): Promise<void> {
    inject();
    expect(await stack.deploy(template)).toBe('UPDATE_COMPLETE');
    expectEndpointHoldsExactly([stack]);
    inject();
    expect(await stack.deploy(updated)).toBe('UPDATE_COMPLETE');
    expectEndpointHoldsExactly([stack]);
    inject();
    const status = await stack.destroy();
    expect(stack.errors()).toEqual([]);
    expect(status).toBe('DELETE_COMPLETE');
    expect(endpoint.associations()).toEqual([]);
    expectEveryRequestAnswered(stack);
  }

  test('throttling on every operation', async () => {
    const stack = new SimulatedStack(handler);
    await happyPath(stack, () => endpoint.injectFault({ kind: 'throttle', times: 4 }));
    expect(endpoint.calls.filter(call => call.status === 429)).toHaveLength(12);
  }, 60_000);

  test('server errors on every operation', async () => {
    const stack = new SimulatedStack(handler);
    await happyPath(stack, () => endpoint.injectFault({ kind: 'server-error', times: 4 }));
    expect(endpoint.calls.filter(call => call.status === 500)).toHaveLength(12);
  }, 60_000);

  test('throttling that outlasts the SDK\'s own retries', async () => {
    const stack = new SimulatedStack(handler);
    endpoint.injectFault({ kind: 'throttle', times: 5, operation: 'CreatePodIdentityAssociation' });

    expect(await stack.deploy({ Api: api })).toBe('UPDATE_COMPLETE');
    expectEndpointHoldsExactly([stack]);
    expect(logs.lines().filter(line => line.event === 'retry').map(line => line.reason)).toContain('throttled');
  }, 60_000);

  test('dropped connections, before and after EKS applied the request', async () => {
    const stack = new SimulatedStack(handler);
    await happyPath(stack, () => {
      endpoint.injectFault({ kind: 'drop-connection', times: 1 });
      endpoint.injectFault({ kind: 'drop-after-apply', times: 2 });
    });
  }, 60_000);

  test('slow answers', async () => {
    const stack = new SimulatedStack(handler);
    await happyPath(stack, () => endpoint.injectFault({ kind: 'slow', times: 3, delayMs: 1_500 }));
  }, 60_000);

  test('a connection that hangs once is retried', async () => {
    const stack = new SimulatedStack(handler, { lambdaTimeoutMs: 15_000 });
    endpoint.injectFault({ kind: 'hang', times: 1, operation: 'CreatePodIdentityAssociation' });

    expect(await stack.deploy({ Api: api })).toBe('UPDATE_COMPLETE');
    expectEndpointHoldsExactly([stack]);
    expectEveryRequestAnswered(stack);
  }, 60_000);

  test('EKS that never answers: a clear error before the Lambda times out, and nothing left behind', async () => {
    const stack = new SimulatedStack(handler, { lambdaTimeoutMs: 10_000 });
    // the first create is applied but its answer lost; every later create hangs
    endpoint.injectFault({ kind: 'drop-after-apply', times: 1, operation: 'CreatePodIdentityAssociation' });
    endpoint.injectFault({ kind: 'hang', times: 100, operation: 'CreatePodIdentityAssociation' });

    expect(await stack.deploy({ Api: api })).toBe('UPDATE_ROLLBACK_COMPLETE');

    expect(stack.errors()).toEqual([expect.stringMatching(/^Could not create the Pod Identity association of service account "payments\/api" in EKS cluster "my-cluster" with role .*: the call to EKS failed with /)]);
    expectEveryRequestAnswered(stack);
    // the failed Create removed the association its lost answer had created
    expect(logs.lines().filter(line => line.event === 'cleanup-failed')).toEqual([]);
    expect(endpoint.associations()).toEqual([]);
    expect(logs.lines().filter(line => line.event === 'removed-unanswered-create')).toHaveLength(1);
  }, 60_000);

  test('a role that does not exist for the first attempts', async () => {
    const stack = new SimulatedStack(handler);
    await happyPath(stack, () => endpoint.failRoleNotFound(2));
  }, 60_000);
});

function seedFor(properties: TemplateProperties) {
  return {
    clusterName: properties.ClusterName,
    namespace: properties.Namespace,
    serviceAccount: properties.ServiceAccount,
    roleArn: properties.RoleArn,
  };
}
