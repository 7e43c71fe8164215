import { randomUUID } from 'crypto';
import { DeleteAddonCommand, EKSClient } from '@aws-sdk/client-eks';
import type { OnEventRequest } from '../../lambda/event';
import { AGENT_CREATOR_TAG_KEY, AGENT_RESOURCE_TYPE, TRANSFERS_RESOURCE_TYPE, agentLeaseTagKey } from '../../src/private/contract';
import type { EksEndpoint } from '../fixtures/eks-endpoint';
import {
  BundledHandler,
  Handler,
  LocalEndpoints,
  SERVICE_TOKEN,
  STACK_ID,
  captureLogs,
  lambdaContext,
  startBundledHandler,
  startLocalEndpoints,
} from '../fixtures/handler-harness';

/*
 * The agent resource (Custom::EksPodIdentityAgent), one request at a time against the local EKS,
 * SSM and CloudFormation endpoints: the agent exactly once per cluster, leases per resource, the
 * add-on deleted only when the library created it and nothing relies on it, and a failed
 * deployment's changes given back.
 */

const STACK_UUID = STACK_ID.split('/')[2];
const AGENT = 'eks-pod-identity-agent';
/** EKS's default version of the agent for Kubernetes 1.31 in the local catalog (test/fixtures/eks-addons.ts). */
const DEFAULT_FOR_1_31 = 'v1.3.5-eksbuild.2';

let local: LocalEndpoints;
let endpoint: EksEndpoint;
let lambda: BundledHandler;
let handler: Handler;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  local = await startLocalEndpoints({ clusters: ['prod'] });
  endpoint = local.eks;
  lambda = await startBundledHandler({ ...local.environment, timeScale: 20 });
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

interface AgentProps {
  readonly AddonVersion?: string;
  readonly ConfigurationValues?: string;
  readonly InstallOnAutoMode?: string;
  readonly ComputeDigest?: string;
}

function agentEvent(requestType: 'Create' | 'Update' | 'Delete', props: AgentProps = {}, extra: Partial<OnEventRequest> = {}): OnEventRequest {
  return {
    RequestType: requestType,
    RequestId: randomUUID(),
    StackId: STACK_ID,
    LogicalResourceId: 'Agent',
    ResourceType: AGENT_RESOURCE_TYPE,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ClusterName: 'prod', ...props },
    ...extra,
  };
}

/** The stack holds `physicalResourceId` as resource Agent. */
function holds(physicalResourceId: string): void {
  local.stack.resources.set('Agent', { resourceType: AGENT_RESOURCE_TYPE, physicalResourceId, status: 'CREATE_COMPLETE' });
}

const lease = (logicalId = 'Agent', stackUuid = STACK_UUID) => agentLeaseTagKey(stackUuid, logicalId);

describe('Create', () => {
  test('on a cluster without the add-on: creates it at EKS\'s default version for the cluster\'s Kubernetes version, marked as the library\'s and leased', async () => {
    const response = await handler(agentEvent('Create'));

    expect(response.PhysicalResourceId).toMatch(new RegExp(`^${STACK_UUID}/agent/prod/[^/]+/[0-9a-f-]{36}$`));
    expect(response.Data).toEqual({ Source: 'created', AddonArn: expect.stringContaining(':addon/prod/eks-pod-identity-agent/'), AddonVersion: DEFAULT_FOR_1_31 });
    expect(endpoint.addon('prod', AGENT)).toEqual(expect.objectContaining({
      addonVersion: DEFAULT_FOR_1_31,
      tags: { [AGENT_CREATOR_TAG_KEY]: `${STACK_UUID}/Agent`, [lease()]: 'Agent' },
    }));
  });

  test('with a version and configuration values (hybrid nodes): passes them through', async () => {
    const hybrid = JSON.stringify({ daemonsets: { hybrid: { create: true } } });

    await handler(agentEvent('Create', { AddonVersion: 'v1.3.4-eksbuild.1', ConfigurationValues: hybrid }));

    expect(endpoint.addon('prod', AGENT)).toEqual(expect.objectContaining({ addonVersion: 'v1.3.4-eksbuild.1', configurationValues: hybrid }));
    expect(endpoint.callsTo('DescribeAddonVersions')).toEqual([]);
  });

  test('on an Auto Mode cluster with no node group or Fargate profile: installs nothing', async () => {
    endpoint.addCluster('prod', { autoMode: true });

    const response = await handler(agentEvent('Create'));

    expect(response.Data).toEqual({ Source: 'auto-mode', AddonArn: '', AddonVersion: '' });
    expect(endpoint.addons()).toEqual([]);
    expect(endpoint.writeCalls()).toEqual([]);
  });

  test.each([
    ['a managed node group', { autoMode: true, nodegroups: ['general'] }, {}],
    ['a Fargate profile', { autoMode: true, fargateProfiles: ['batch'] }, {}],
    ['installOnAutoMode', { autoMode: true }, { InstallOnAutoMode: 'true' }],
  ])('on an Auto Mode cluster with %s: creates the add-on', async (_, cluster, props) => {
    endpoint.addCluster('prod', cluster);

    const response = await handler(agentEvent('Create', props));

    expect(response.Data).toEqual(expect.objectContaining({ Source: 'created' }));
    expect(endpoint.addons()).toHaveLength(1);
  });

  test('an add-on that exists (installed by hand): used as it is, and leased', async () => {
    endpoint.seedAddon({ clusterName: 'prod', addonName: AGENT, addonVersion: 'v1.3.4-eksbuild.1', tags: { team: 'platform' } });

    const response = await handler(agentEvent('Create'));

    expect(response.Data).toEqual(expect.objectContaining({ Source: 'existing', AddonVersion: 'v1.3.4-eksbuild.1' }));
    expect(endpoint.addon('prod', AGENT)).toEqual(expect.objectContaining({ addonVersion: 'v1.3.4-eksbuild.1', tags: { team: 'platform', [lease()]: 'Agent' } }));
    // Nothing else changed: the lease is the only write.
    expect(endpoint.writeCalls().map(call => call.operation)).toEqual(['TagResource']);
  });

  test('an add-on being deleted by another stack: waits until it is gone, then creates it', async () => {
    // GIVEN another stack's DeleteAddon, which leaves the add-on DELETING for a second
    endpoint.setAddonDeleteLag(1_000);
    endpoint.seedAddon({ clusterName: 'prod', addonName: AGENT });
    await new EKSClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } })
      .send(new DeleteAddonCommand({ clusterName: 'prod', addonName: AGENT }));
    expect(endpoint.addon('prod', AGENT)?.status).toBe('DELETING');

    const response = await handler(agentEvent('Create'));

    expect(response.Data).toEqual(expect.objectContaining({ Source: 'created' }));
    expect(logs.lines()).toContainEqual(expect.objectContaining({ event: 'retry', reason: 'addon-being-deleted' }));
  });

  test('a CreateAddon whose answer was lost is retried with the same token: one add-on', async () => {
    endpoint.injectFault({ kind: 'drop-after-apply', operation: 'CreateAddon', times: 1 });

    await handler(agentEvent('Create'));

    expect(endpoint.addons()).toHaveLength(1);
    expect(endpoint.callsTo('CreateAddon').map(call => call.status)).toEqual(['dropped', 200]);
  });

  test('a Create that fails after its add-on was created removes it: CloudFormation sends no Delete for a failed Create', async () => {
    endpoint.injectFault({ kind: 'drop-after-apply', operation: 'CreateAddon', times: 1 });
    endpoint.injectFault({ kind: 'server-error', operation: 'CreateAddon', times: 1_000 });

    await expect(handler(agentEvent('Create'), lambdaContext(20_000))).rejects.toThrow(/^Could not create the add-on eks-pod-identity-agent/);

    expect(endpoint.addons().filter(addon => addon.status !== 'DELETING')).toEqual([]);
  });
});

describe('leases: the add-on goes only when the library created it and nothing relies on it', () => {
  test('the creator leaves while another agent resource relies on it: kept; the other leaves: deleted', async () => {
    // GIVEN Agent created it, and OtherAgent (another stack's, or a construct that moved) leased it
    const { PhysicalResourceId: mine } = await handler(agentEvent('Create'));
    const other = await handler(agentEvent('Create', {}, { LogicalResourceId: 'OtherAgent' }));
    expect(other.Data).toEqual(expect.objectContaining({ Source: 'existing' }));
    local.stack.status = 'DELETE_IN_PROGRESS';

    // WHEN the creator goes
    await handler(agentEvent('Delete', {}, { PhysicalResourceId: mine }));

    // THEN the add-on stays, with the other lease only
    expect(endpoint.addon('prod', AGENT)?.tags).toEqual({ [AGENT_CREATOR_TAG_KEY]: `${STACK_UUID}/Agent`, [lease('OtherAgent')]: 'OtherAgent' });

    // WHEN the other goes too, THEN the add-on goes
    await handler(agentEvent('Delete', {}, { LogicalResourceId: 'OtherAgent', PhysicalResourceId: other.PhysicalResourceId }));
    expect(endpoint.addons().filter(addon => addon.status !== 'DELETING')).toEqual([]);
    expect(logs.lines()).toContainEqual(expect.objectContaining({ event: 'agent-deleted' }));
  });

  test('an add-on that is a resource of this stack, which the template no longer declares, is not relied on: the agent fails and says how to hand it over', async () => {
    // GIVEN the stack's own CfnAddon created the add-on, and this deployment replaces it with the agent
    const addon = endpoint.seedAddon({ clusterName: 'prod', addonName: AGENT });
    local.stack.resources.set('OwnAgentAddon', { resourceType: 'AWS::EKS::Addon', physicalResourceId: `prod|${AGENT}`, status: 'UPDATE_COMPLETE' });

    // WHEN
    await expect(handler(agentEvent('Create'))).rejects.toThrow(
      `Could not rely on the add-on ${AGENT} of EKS cluster "prod": it is resource OwnAgentAddon of this stack (${STACK_ID}), which this deployment no longer declares, so CloudFormation would delete it in its cleanup.`,
    );

    // THEN nothing changed
    expect(endpoint.addon('prod', AGENT)?.tags).toEqual(addon.tags);
  });

  test('an add-on the library did not create is never deleted', async () => {
    endpoint.seedAddon({ clusterName: 'prod', addonName: AGENT });
    const { PhysicalResourceId } = await handler(agentEvent('Create'));
    local.stack.status = 'DELETE_IN_PROGRESS';

    await handler(agentEvent('Delete', {}, { PhysicalResourceId }));

    expect(endpoint.addon('prod', AGENT)).toEqual(expect.objectContaining({ status: 'ACTIVE', tags: {} }));
    expect(endpoint.callsTo('DeleteAddon')).toEqual([]);
  });

  test('the cleanup Delete of a replaced physical id keeps the lease of the resource that still relies on the add-on', async () => {
    // GIVEN a version change gave the resource a new physical id
    const { PhysicalResourceId: first } = await handler(agentEvent('Create'));
    holds(first);
    const { PhysicalResourceId: second } = await handler(agentEvent('Update', { AddonVersion: 'v1.3.4-eksbuild.1' }, { PhysicalResourceId: first, OldResourceProperties: { ClusterName: 'prod' } }));
    expect(second).not.toBe(first);
    holds(second);
    local.stack.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';

    // WHEN CloudFormation deletes the previous one
    await handler(agentEvent('Delete', {}, { PhysicalResourceId: first }));

    // THEN
    expect(endpoint.addon('prod', AGENT)).toEqual(expect.objectContaining({ addonVersion: 'v1.3.4-eksbuild.1', tags: expect.objectContaining({ [lease()]: 'Agent' }) }));
    expect(local.ssm.parameters().size).toBe(0);
  });

  test('a construct that moves (new logical id) keeps the add-on: the old resource ends only its own lease', async () => {
    const { PhysicalResourceId: old } = await handler(agentEvent('Create'));
    const moved = await handler(agentEvent('Create', {}, { LogicalResourceId: 'MovedAgent' }));
    local.stack.resources.set('MovedAgent', { resourceType: AGENT_RESOURCE_TYPE, physicalResourceId: moved.PhysicalResourceId, status: 'CREATE_COMPLETE' });
    local.stack.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';

    await handler(agentEvent('Delete', {}, { PhysicalResourceId: old }));

    expect(endpoint.addon('prod', AGENT)?.tags).toEqual({ [AGENT_CREATOR_TAG_KEY]: `${STACK_UUID}/Agent`, [lease('MovedAgent')]: 'MovedAgent' });
  });
});

describe('a failed deployment leaves the add-on as it was', () => {
  test('the rollback of the deployment that created it deletes it', async () => {
    const { PhysicalResourceId } = await handler(agentEvent('Create'));
    local.stack.status = 'ROLLBACK_IN_PROGRESS';

    await handler(agentEvent('Delete', {}, { PhysicalResourceId }));

    expect(endpoint.addons().filter(addon => addon.status !== 'DELETING')).toEqual([]);
  });

  test('the rollback of a version and configuration change to an add-on installed by hand gives them back and ends the lease', async () => {
    // GIVEN an add-on installed by hand, brought to another version and configuration by a deployment that then failed
    const before = endpoint.seedAddon({ clusterName: 'prod', addonName: AGENT, addonVersion: 'v1.3.4-eksbuild.1', configurationValues: '{"tolerations":[]}' });
    const { PhysicalResourceId } = await handler(agentEvent('Create', { AddonVersion: 'v1.3.5-eksbuild.2', ConfigurationValues: '{"daemonsets":{"hybrid":{"create":true}}}' }));
    expect(endpoint.addon('prod', AGENT)?.addonVersion).toBe('v1.3.5-eksbuild.2');
    expect(local.ssm.parameters().size).toBe(1);
    local.stack.status = 'ROLLBACK_IN_PROGRESS';

    // WHEN
    await handler(agentEvent('Delete', {}, { PhysicalResourceId }));

    // THEN
    expect(endpoint.addon('prod', AGENT)).toEqual(expect.objectContaining({
      addonVersion: before.addonVersion,
      configurationValues: before.configurationValues,
      tags: {},
      status: 'ACTIVE',
    }));
    expect(local.ssm.parameters().size).toBe(0);
  });

  test('the rollback of the deployment that installed the add-on on a cluster Auto Mode served until then deletes it: the Auto Mode physical id relied on none', async () => {
    // GIVEN the resource relied on Auto Mode; a node group appeared, and a deployment installed the add-on, then failed
    endpoint.addCluster('prod', { autoMode: true });
    const { PhysicalResourceId: autoMode } = await handler(agentEvent('Create'));
    expect(autoMode).toContain('/agent/prod/auto-mode/');
    holds(autoMode);
    endpoint.setNodegroups('prod', ['general']);
    const { PhysicalResourceId: installed } = await handler(agentEvent('Update', { ComputeDigest: 'one-node-group' }, { PhysicalResourceId: autoMode, OldResourceProperties: { ClusterName: 'prod' } }));
    expect(endpoint.addons()).toHaveLength(1);
    local.stack.status = 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';

    // WHEN CloudFormation deletes the new physical id; the stack holds the Auto Mode one again
    await handler(agentEvent('Delete', {}, { PhysicalResourceId: installed }));

    // THEN
    expect(endpoint.addons().filter(addon => addon.status !== 'DELETING')).toEqual([]);
  });

  test('a rollback\'s Update back changes nothing: the Delete of the new physical id gives back what its request changed', async () => {
    // GIVEN a version change of an add-on installed by hand, in a deployment that failed
    endpoint.seedAddon({ clusterName: 'prod', addonName: AGENT, addonVersion: 'v1.3.4-eksbuild.1' });
    const { PhysicalResourceId: first } = await handler(agentEvent('Create', { AddonVersion: 'v1.3.4-eksbuild.1' }));
    holds(first);
    const { PhysicalResourceId: changed } = await handler(agentEvent('Update', { AddonVersion: 'v1.3.5-eksbuild.2' }, { PhysicalResourceId: first, OldResourceProperties: { ClusterName: 'prod', AddonVersion: 'v1.3.4-eksbuild.1' } }));
    local.stack.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
    endpoint.calls.length = 0;

    // WHEN CloudFormation sends the Update back (ResourceProperties: the old template), then, in the cleanup, the Delete
    const back = await handler(agentEvent('Update', { AddonVersion: 'v1.3.4-eksbuild.1' }, { PhysicalResourceId: changed, OldResourceProperties: { ClusterName: 'prod', AddonVersion: 'v1.3.5-eksbuild.2' } }));
    expect(back.PhysicalResourceId).toBe(changed);
    expect(endpoint.writeCalls()).toEqual([]);
    local.stack.status = 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';
    await handler(agentEvent('Delete', {}, { PhysicalResourceId: changed }));

    // THEN the version it had, the lease of the resource that still relies on it, and no record
    expect(endpoint.addon('prod', AGENT)).toEqual(expect.objectContaining({ addonVersion: 'v1.3.4-eksbuild.1', tags: { [lease()]: 'Agent' } }));
    expect(local.ssm.parameters().size).toBe(0);
  });

  test('a change that completed is final: the stack event settles its record', async () => {
    endpoint.seedAddon({ clusterName: 'prod', addonName: AGENT, addonVersion: 'v1.3.4-eksbuild.1' });
    const { PhysicalResourceId } = await handler(agentEvent('Create', { AddonVersion: 'v1.3.5-eksbuild.2' }));
    holds(PhysicalResourceId);
    local.stack.status = 'CREATE_COMPLETE';

    await lambda.invoke({
      'source': 'aws.cloudformation',
      'detail-type': 'CloudFormation Stack Status Change',
      // The operation ended after the record, on the handler's clock (which runs 20 times faster).
      'time': new Date(await lambda.now() + 1_000).toISOString(),
      'detail': { 'stack-id': STACK_ID, 'status-details': { status: 'CREATE_COMPLETE' } },
    } as never);

    expect(local.ssm.parameters().size).toBe(0);
    expect(endpoint.addon('prod', AGENT)?.addonVersion).toBe('v1.3.5-eksbuild.2');
  });

  test('a settlement that cannot give a change back fails, counting the agent records among those it settled, and keeps the record for the next one', async () => {
    // GIVEN a version change of an add-on installed by hand, by a deployment that failed; EKS refuses to change it back
    endpoint.seedAddon({ clusterName: 'prod', addonName: AGENT, addonVersion: 'v1.3.4-eksbuild.1' });
    await handler(agentEvent('Create', { AddonVersion: 'v1.3.5-eksbuild.2' }));
    local.stack.status = 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';
    endpoint.injectFault({ kind: 'access-denied', operation: 'UpdateAddon', times: 1_000 });

    // WHEN the transfers resource's Delete settles the stack's records
    const settled = handler({
      RequestType: 'Delete',
      RequestId: randomUUID(),
      StackId: STACK_ID,
      LogicalResourceId: 'Transfers',
      ResourceType: TRANSFERS_RESOURCE_TYPE,
      PhysicalResourceId: `${STACK_UUID}/transfers/${randomUUID()}`,
      ResourceProperties: { ServiceToken: SERVICE_TOKEN, AssociationsDigest: 'c'.repeat(64) },
    });

    // THEN
    await expect(settled).rejects.toThrow(/^Could not settle 1 of 1 records of this stack \(ownership transfers: 0, agent changes: 1\); .*agent of EKS cluster prod: /s);
    expect(local.ssm.parameters().size).toBe(1);
  });
});

describe('requests the handler refuses', () => {
  test('properties without a cluster name', async () => {
    await expect(handler({ ...agentEvent('Create'), ResourceProperties: { ServiceToken: SERVICE_TOKEN } })).rejects.toThrow(
      'Invalid ResourceProperties for Custom::EksPodIdentityAgent: ClusterName must be a non-empty string, got: nothing. Nothing was sent to EKS.',
    );
    expect(endpoint.calls).toEqual([]);
  });
});
