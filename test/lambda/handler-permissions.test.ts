import * as fc from 'fast-check';
import { OWNER_TAG_KEY } from '../../src/private/contract';
import type { TagOnCreateAuthorization } from '../fixtures/eks-endpoint';
import { LocalAws } from '../fixtures/local-aws';
import { AppSpec, AssociationSpec, WORKLOAD_ACCOUNT, WORKLOAD_REGION } from '../fixtures/workload-app';

/*
 * IAM enforces the ownership promise as well as the handler's code (issue 18): the handler's role,
 * as CloudFormation deploys it, is judged by the IAM policy evaluator for every request the handler
 * could make on an association its stack did not create, whatever the handler asks.
 */

jest.setTimeout(120_000);

const STACK = 'Workloads';
const ANOTHER_STACK_MARK = '9b1f3c1e-5d2a-4c55-9a51-0c0ffee00001/Elsewhere';

const api: AssociationSpec = { id: 'Api', cluster: 'blue', namespace: 'payments', serviceAccount: 'api', role: 'created' };
const worker: AssociationSpec = { id: 'Worker', cluster: 'green', namespace: 'payments', serviceAccount: 'worker', role: 'imported', targetRole: 'stack' };

/** An association of one of the stack's clusters, as IAM sees it: its ARN and its tags. */
interface Existing {
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
}

const associationIdArb = fc.stringMatching(/^a-[a-z0-9]{17}$/);
const clusterArb = fc.constantFrom('blue', 'green', 'other');
const userTagsArb = fc.dictionary(fc.constantFrom('team', 'env', 'origin'), fc.constantFrom('a', 'b', ''), { maxKeys: 3 });

/** What a request may set as the owner mark: this stack's (any logical id), another stack's, or nothing. */
function markArb(stackUuid: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constantFrom(`${stackUuid}/ApiABCD1234`, `${stackUuid}/NewLogicalId`, `${stackUuid}/*`, stackUuid),
    fc.constantFrom(ANOTHER_STACK_MARK, 'none', ''),
    fc.constant(undefined),
  );
}

/** Associations the stack did not create: none, another stack's or a console user's, each with or without user tags. */
function foreignArb(): fc.Arbitrary<Existing> {
  return fc.record({
    cluster: clusterArb,
    id: associationIdArb,
    tags: userTagsArb,
    owner: fc.constantFrom(undefined, ANOTHER_STACK_MARK),
  }).map(({ cluster, id, tags, owner }) => ({
    arn: `arn:aws:eks:${WORKLOAD_REGION}:${WORKLOAD_ACCOUNT}:podidentityassociation/${cluster}/${id}`,
    tags: owner ? { ...tags, [OWNER_TAG_KEY]: owner } : tags,
  }));
}

function resourceTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]));
}

describe.each<TagOnCreateAuthorization>(['association', 'cluster', 'none'])('the handler\'s role (EKS authorizes tags on create: %s)', tagOnCreate => {
  let world: LocalAws;
  let logs: jest.SpyInstance;

  beforeAll(async () => {
    logs = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    world = await LocalAws.start({ timeScale: 20, seed: 3, tagOnCreateAuthorization: tagOnCreate });
  });
  afterAll(async () => {
    logs.mockRestore();
    await world.stop();
  });

  /** Deploys `spec` and returns a judge of requests by its handler's role, as IAM holds it now. */
  async function deployed(spec: AppSpec) {
    world.reset(3);
    const result = await world.deploy(spec);
    expect(result.status).toBe('CREATE_COMPLETE');
    world.iam.settle();
    const uuid = world.stackUuid(spec.stackName);
    const role = Object.values(world.cloudformation.stack(spec.stackName)!.resources)
      .find(r => r.resourceType === 'AWS::IAM::Role' && r.logicalResourceId.startsWith('PodIdentityAssociationProviderHandlerRole'))!;
    const principalArn = String(role.attributes.Arn);
    const allowed = async (action: string, resourceArn: string, context: Record<string, string | string[]>) =>
      (await world.iam.authorize({ principalArn, action: `eks:${action}`, resourceArn, context })).allowed;
    return { uuid, allowed };
  }

  test('a stack without adoptExisting can never update, delete or untag an association it did not create, nor mark one another owner marked', async () => {
    // GIVEN
    const { uuid, allowed } = await deployed({ stackName: STACK, associations: [api, worker] });
    let judged = 0;

    // WHEN the handler asks anything of an association it did not create
    await fc.assert(fc.asyncProperty(foreignArb(), markArb(uuid), userTagsArb, fc.array(fc.constantFrom(OWNER_TAG_KEY, 'team', 'env', 'origin'), { minLength: 1, maxLength: 3 }),
      async (existing, mark, userTags, untagKeys) => {
        const onResource = resourceTags(existing.tags);
        const requestTags = mark === undefined ? userTags : { ...userTags, [OWNER_TAG_KEY]: mark };
        const tagContext = {
          ...onResource,
          ...Object.fromEntries(Object.entries(requestTags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
          'aws:TagKeys': Object.keys(requestTags),
        };

        // THEN IAM denies every change
        expect(await allowed('UpdatePodIdentityAssociation', existing.arn, onResource)).toBe(false);
        expect(await allowed('DeletePodIdentityAssociation', existing.arn, onResource)).toBe(false);
        expect(await allowed('UntagResource', existing.arn, { ...onResource, 'aws:TagKeys': untagKeys })).toBe(false);
        const tagging = Object.keys(requestTags).length > 0 && await allowed('TagResource', existing.arn, tagContext);
        if (existing.tags[OWNER_TAG_KEY] !== undefined) {
          // Another owner's association: never, whatever the request sets.
          expect(tagging).toBe(false);
        } else {
          // One that carries no mark: only the statement tags on create may need (IAM cannot tell the new association from it),
          // only on the stack's clusters, and only to set this stack's mark.
          expect(tagging).toBe(/podidentityassociation\/(blue|green)\//.test(existing.arn) && mark !== undefined && mark.startsWith(`${uuid}/`));
        }
        judged++;
      }), { numRuns: 150, seed: 18 });
    expect(judged).toBe(150);
  });

  test('only a stack with adoptExisting may mark an association another owner marked, only on the clusters of adopting associations, and only with its own mark', async () => {
    // GIVEN
    const plain = await deployed({ stackName: STACK, associations: [api, worker] });
    const foreignOnBlue = `arn:aws:eks:${WORKLOAD_REGION}:${WORKLOAD_ACCOUNT}:podidentityassociation/blue/a-foreign0000000001`;
    const foreignOnGreen = `arn:aws:eks:${WORKLOAD_REGION}:${WORKLOAD_ACCOUNT}:podidentityassociation/green/a-foreign0000000002`;
    const marking = (uuid: string, mark = `${uuid}/ApiABCD1234`) => ({
      [`aws:ResourceTag/${OWNER_TAG_KEY}`]: ANOTHER_STACK_MARK,
      [`aws:RequestTag/${OWNER_TAG_KEY}`]: mark,
      'aws:TagKeys': [OWNER_TAG_KEY],
    });
    expect(await plain.allowed('TagResource', foreignOnBlue, marking(plain.uuid))).toBe(false);

    // WHEN Api (on blue) adopts
    const adopting = await deployed({ stackName: STACK, associations: [{ ...api, adoptExisting: true }, worker] });

    // THEN
    expect(await adopting.allowed('TagResource', foreignOnBlue, marking(adopting.uuid))).toBe(true);
    expect(await adopting.allowed('TagResource', foreignOnGreen, marking(adopting.uuid))).toBe(false);
    expect(await adopting.allowed('TagResource', foreignOnBlue, marking(adopting.uuid, 'f00d/Other'))).toBe(false);
    // Update and Delete still need this stack's mark first.
    expect(await adopting.allowed('UpdatePodIdentityAssociation', foreignOnBlue, { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: ANOTHER_STACK_MARK })).toBe(false);
    expect(await adopting.allowed('DeletePodIdentityAssociation', foreignOnBlue, { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: ANOTHER_STACK_MARK })).toBe(false);
  });

  test('the stack\'s own associations: changed, tagged and given back, whatever their logical id', async () => {
    const { uuid, allowed } = await deployed({ stackName: STACK, associations: [api] });
    const own = `arn:aws:eks:${WORKLOAD_REGION}:${WORKLOAD_ACCOUNT}:podidentityassociation/blue/a-own0000000000001`;
    const ours = { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: `${uuid}/ApiABCD1234` };

    expect(await allowed('UpdatePodIdentityAssociation', own, ours)).toBe(true);
    expect(await allowed('DeletePodIdentityAssociation', own, ours)).toBe(true);
    expect(await allowed('UntagResource', own, { ...ours, 'aws:TagKeys': [OWNER_TAG_KEY] })).toBe(true);
    // A give-back restores the previous owner's mark while the association still carries this stack's.
    expect(await allowed('TagResource', own, { ...ours, [`aws:RequestTag/${OWNER_TAG_KEY}`]: ANOTHER_STACK_MARK, 'aws:TagKeys': [OWNER_TAG_KEY] })).toBe(true);
  });
});
