import { randomUUID } from 'crypto';
import { EKSClient, UpdateAddonCommand } from '@aws-sdk/client-eks';
import type { OnEventRequest } from '../../lambda/event';
import { HANDOVER_RESOURCE_TYPE, OWNER_TAG_KEY } from '../../src/private/contract';
import type { EksEndpoint, StoredAssociation } from '../fixtures/eks-endpoint';
import {
  ACCOUNT,
  BundledHandler,
  Handler,
  LocalEndpoints,
  SERVICE_TOKEN,
  STACK_ID,
  TemplateProperties,
  captureLogs,
  createEvent,
  deleteEvent,
  startBundledHandler,
  startLocalEndpoints,
} from '../fixtures/handler-harness';

/*
 * Handing a service account over to an EKS add-on (Custom::EksPodIdentityHandover), one request at
 * a time: an add-on cannot take an existing association over, and CloudFormation updates the
 * add-on before it deletes a removed PodIdentityAssociation. The add-on depends on the hand-over,
 * whose Create releases this stack's association first; a rollback restores it.
 */

const STACK_UUID = STACK_ID.split('/')[2];
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ebs-csi`;
const ADDON_ROLE = `arn:aws:iam::${ACCOUNT}:role/ebs-csi-addon`;
const SA: TemplateProperties = { ClusterName: 'prod', Namespace: 'kube-system', ServiceAccount: 'ebs-csi-controller-sa', RoleArn: ROLE, Tags: { team: 'storage' } };
const ADDON = 'aws-ebs-csi-driver';

let local: LocalEndpoints;
let endpoint: EksEndpoint;
let lambda: BundledHandler;
let handler: Handler;
let logs: ReturnType<typeof captureLogs>;
let eks: EKSClient;

beforeAll(async () => {
  local = await startLocalEndpoints({ clusters: ['prod'] });
  endpoint = local.eks;
  lambda = await startBundledHandler({ ...local.environment, timeScale: 20 });
  handler = lambda.invoke;
  eks = new EKSClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDCFN', secretAccessKey: 'secret' } });
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

const EBS_SA = 'kube-system/ebs-csi-controller-sa';

/** A request to the hand-over of the EBS CSI driver add-on, whose roles are for `serviceAccounts` (and were for `previous`, in an Update). */
function handoverEvent(requestType: 'Create' | 'Update' | 'Delete', physicalResourceId?: string, serviceAccounts = [EBS_SA], previous?: string[]): OnEventRequest {
  const properties = (accounts: string[]) => ({ ServiceToken: SERVICE_TOKEN, ClusterName: 'prod', AddonName: ADDON, ServiceAccounts: accounts });
  return {
    RequestType: requestType,
    RequestId: randomUUID(),
    StackId: STACK_ID,
    LogicalResourceId: 'EbsHandover',
    ResourceType: HANDOVER_RESOURCE_TYPE,
    ...physicalResourceId ? { PhysicalResourceId: physicalResourceId } : {},
    ResourceProperties: properties(serviceAccounts),
    ...previous ? { OldResourceProperties: properties(previous) } : {},
  };
}

/** CloudFormation's update of the add-on: its Pod Identity associations, as `AWS::EKS::Addon` sends them. */
async function updateAddon(podIdentityAssociations: Array<{ serviceAccount: string; roleArn: string }>): Promise<void> {
  await eks.send(new UpdateAddonCommand({ clusterName: 'prod', addonName: ADDON, podIdentityAssociations }));
}

function ofServiceAccount(): StoredAssociation[] {
  return endpoint.associations().filter(a => a.serviceAccount === 'ebs-csi-controller-sa');
}

/** The association this stack's `Ebs` PodIdentityAssociation created, and the add-on without associations. */
async function before(): Promise<StoredAssociation> {
  endpoint.seedAddon({ clusterName: 'prod', addonName: ADDON, addonVersion: 'v1.41.0-eksbuild.1' });
  const { PhysicalResourceId: arn } = await handler(createEvent(SA, 'Ebs'));
  return endpoint.associations().find(a => a.associationArn === arn)!;
}

test('the add-on\'s update, which would meet "already exists", succeeds once the hand-over released this stack\'s association', async () => {
  // GIVEN
  await before();
  await expect(updateAddon([{ serviceAccount: 'ebs-csi-controller-sa', roleArn: ADDON_ROLE }])).rejects.toThrow(/already has Pod Identity association/);

  // WHEN the hand-over comes first
  const response = await handler(handoverEvent('Create'));

  // THEN
  expect(response.PhysicalResourceId).toMatch(new RegExp(`^${STACK_UUID}/handover/prod/[0-9a-f-]{36}$`));
  expect(ofServiceAccount()).toEqual([]);
  await updateAddon([{ serviceAccount: 'ebs-csi-controller-sa', roleArn: ADDON_ROLE }]);
  expect(ofServiceAccount()).toEqual([expect.objectContaining({ ownerArn: expect.stringContaining(`:addon/prod/${ADDON}/`), roleArn: ADDON_ROLE })]);
  expect(local.ssm.parameters().size).toBeGreaterThan(0);
});

test('a rollback restores the released association as it was, with its owner mark, once the add-on\'s rollback removed its own', async () => {
  // GIVEN a deployment released the association, updated the add-on, then failed
  const released = await before();
  const { PhysicalResourceId: handover } = await handler(handoverEvent('Create'));
  await updateAddon([{ serviceAccount: 'ebs-csi-controller-sa', roleArn: ADDON_ROLE }]);
  local.stack.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
  // the add-on's rollback removes its association a moment after the hand-over's Delete arrives
  setTimeout(() => void updateAddon([]), 300);
  local.stack.status = 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';

  // WHEN CloudFormation deletes the hand-over created by the failed deployment
  await handler(handoverEvent('Delete', handover));

  // THEN
  const [restored] = ofServiceAccount();
  expect(restored).toEqual(expect.objectContaining({
    roleArn: ROLE,
    tags: { team: 'storage', [OWNER_TAG_KEY]: `${STACK_UUID}/Ebs` },
    disableSessionTags: false,
  }));
  expect(restored.ownerArn).toBeUndefined();
  expect(restored.associationId).not.toBe(released.associationId);
  expect(local.ssm.parameters().size).toBe(0);
  expect(logs.lines()).toContainEqual(expect.objectContaining({ event: 'retry', reason: 'addon-association-being-released' }));

  // AND the association's resource, whose physical id is the released one, still deletes it with the stack
  local.stack.status = 'DELETE_IN_PROGRESS';
  await handler(deleteEvent(released.associationArn, SA, 'Ebs'));
  expect(ofServiceAccount()).toEqual([]);
});

test('a deployment that completes makes the release final: its records go, nothing is restored', async () => {
  await before();
  const { PhysicalResourceId: handover } = await handler(handoverEvent('Create'));
  await updateAddon([{ serviceAccount: 'ebs-csi-controller-sa', roleArn: ADDON_ROLE }]);
  local.stack.status = 'DELETE_IN_PROGRESS';

  await handler(handoverEvent('Delete', handover));

  expect(ofServiceAccount()).toEqual([expect.objectContaining({ roleArn: ADDON_ROLE })]);
  expect(local.ssm.parameters().size).toBe(0);
});

test('an association this stack did not create fails the hand-over, before the add-on\'s update, and is left alone', async () => {
  endpoint.seedAddon({ clusterName: 'prod', addonName: ADDON, addonVersion: 'v1.41.0-eksbuild.1' });
  const foreign = endpoint.seedAssociation({ clusterName: 'prod', namespace: 'kube-system', serviceAccount: 'ebs-csi-controller-sa', roleArn: ROLE, tags: { origin: 'console' } });

  await expect(handler(handoverEvent('Create'))).rejects.toThrow(
    `Could not hand service account "kube-system/ebs-csi-controller-sa" of EKS cluster "prod" over to the add-on ${ADDON}: association ${foreign.associationId} holds it, and this stack did not create it (owner: none).`,
  );
  expect(ofServiceAccount()).toEqual([expect.objectContaining({ associationId: foreign.associationId })]);
});

test('the add-on\'s own association is left to the add-on', async () => {
  endpoint.seedAddon({ clusterName: 'prod', addonName: ADDON, addonVersion: 'v1.41.0-eksbuild.1', podIdentityAssociations: [{ serviceAccount: 'ebs-csi-controller-sa', roleArn: ADDON_ROLE }] });

  await handler(handoverEvent('Create'));

  expect(ofServiceAccount()).toEqual([expect.objectContaining({ roleArn: ADDON_ROLE, ownerArn: expect.any(String) })]);
  expect(endpoint.writeCalls()).toEqual([]);
});

test('an Update that adds a service account releases it and gets a new physical id; one that adds none keeps its physical id and calls nothing', async () => {
  // GIVEN the add-on's hand-over, for no service account yet
  await before();
  const { PhysicalResourceId: first } = await handler(handoverEvent('Create', undefined, []));
  expect(ofServiceAccount()).toHaveLength(1);

  // WHEN a role for the service account is attached
  const { PhysicalResourceId: second } = await handler(handoverEvent('Update', first, [EBS_SA], []));

  // THEN
  expect(second).not.toBe(first);
  expect(ofServiceAccount()).toEqual([]);
  endpoint.calls.length = 0;
  const { PhysicalResourceId: third } = await handler(handoverEvent('Update', second, [EBS_SA], [EBS_SA]));
  expect(third).toBe(second);
  expect(endpoint.calls).toEqual([]);
});

test('a rollback that gives the service account back to the add-on releases the association the failed deployment created, before the add-on\'s rollback', async () => {
  // GIVEN the add-on held the service account; a deployment handed it back to a PodIdentityAssociation, then failed
  endpoint.seedAddon({ clusterName: 'prod', addonName: ADDON, addonVersion: 'v1.41.0-eksbuild.1', podIdentityAssociations: [{ serviceAccount: 'ebs-csi-controller-sa', roleArn: ADDON_ROLE }] });
  const { PhysicalResourceId: handover } = await handler(handoverEvent('Create'));
  await updateAddon([]);
  await handler(createEvent(SA, 'Ebs'));
  local.stack.status = 'UPDATE_ROLLBACK_IN_PROGRESS';

  // WHEN CloudFormation rolls the hand-over back (ResourceProperties: the template rolled back to)
  const response = await handler(handoverEvent('Update', handover, [EBS_SA], []));

  // THEN the service account is free for the add-on's rollback, and nothing is recorded to restore
  expect(response.PhysicalResourceId).toBe(handover);
  expect(ofServiceAccount()).toEqual([]);
  await updateAddon([{ serviceAccount: 'ebs-csi-controller-sa', roleArn: ADDON_ROLE }]);
  expect(ofServiceAccount()).toEqual([expect.objectContaining({ ownerArn: expect.any(String) })]);
  expect(local.ssm.parameters().size).toBe(0);
});
