import type { Addon } from '@aws-sdk/client-eks';
import { AddonSettings, EksAddons } from './addons';
import type { AgentRecord, AgentRecords } from './agent-records';
import { idempotencyToken } from './eks';
import { RequestError, isNotFound } from './errors';
import type { OnEventRequest, OnEventResponse } from './event';
import type { Log } from './log';
import { stackUuidOf } from './owner';
import { RetriesExhaustedError } from './retry';
import type { StackState } from './stack';
import {
  AGENT_CREATOR_TAG_KEY,
  AGENT_LEASE_TAG_PREFIX,
  AGENT_PROPERTY,
  AgentResponseData,
  agentLeaseTagKey,
} from '../src/private/contract';

/** The agent resource's properties, parsed. */
export interface DeclaredAgent {
  readonly clusterName: string;
  readonly addonVersion?: string;
  readonly configurationValues?: string;
  readonly installOnAutoMode: boolean;
  /** Changes when the app's node groups or Fargate profiles of the cluster change: an Update that decides again. */
  readonly computeDigest?: string;
}

/**
 * The parts of an agent resource's physical id, `<stack uuid>/agent/<cluster>/<add-on>/<request id>`:
 * `<add-on>` says what the resource relies on, the id at the end of the add-on's ARN (each add-on
 * of that name gets another), or `auto-mode` for nothing.
 */
interface AgentPhysicalId {
  readonly stackUuid: string;
  readonly clusterName: string;
  readonly reliesOn: string;
  readonly requestId: string;
}

const PHYSICAL_ID = /^([^/]+)\/agent\/([^/]+)\/([^/]+)\/([^/]+)$/;
/** What a physical id relies on when Auto Mode runs the agent. */
const AUTO_MODE = 'auto-mode';

function parsePhysicalId(physicalResourceId: string | undefined): AgentPhysicalId | undefined {
  const match = PHYSICAL_ID.exec(physicalResourceId ?? '');
  return match ? { stackUuid: match[1], clusterName: match[2], reliesOn: match[3], requestId: match[4] } : undefined;
}

/** The id at the end of an add-on ARN (`arn:…:addon/<cluster>/<name>/<id>`): another for each add-on of that name. */
function addonIdOf(addon: Addon | undefined): string | undefined {
  const arn = addon?.addonArn;
  return arn ? arn.slice(arn.lastIndexOf('/') + 1) : undefined;
}

/** Builds the EKS add-on calls of one cluster. */
export type AddonsOf = (clusterName: string) => EksAddons;

/**
 * Carries out one CloudFormation request for a `Custom::EksPodIdentityAgent`: makes sure the EKS
 * Pod Identity agent runs on a cluster, for as long as this stack relies on it.
 *
 * - Auto Mode with no other compute the API can see runs the agent itself: nothing is installed.
 * - An existing `eks-pod-identity-agent` add-on, whoever installed it, is used as it is (its version
 *   and configuration change only when the resource asks for them, recorded first); the stack
 *   records that it relies on it with a tag of its own (a lease).
 * - Otherwise the add-on is created, with the version asked for or EKS's default for the cluster's
 *   Kubernetes version, marked as created by the library, and leased.
 *
 * A Delete ends the stack's lease unless the resource still relies on the cluster's add-on (a newer
 * physical id of it holds it), gives back a change the failed deployment made, and deletes the
 * add-on only when the library created it and no stack relies on it any more. Every Create or
 * Update that changes something returns a new physical id, so CloudFormation's Delete of the
 * previous one (cleanup) or of the new one (rollback) comes in the phase that decides.
 */
export class AgentLifecycle {
  constructor(
    private readonly addonsOf: AddonsOf,
    private readonly records: AgentRecords,
    private readonly stack: StackState,
    private readonly log: Log,
  ) {}

  public async onEvent(event: OnEventRequest): Promise<OnEventResponse> {
    switch (event.RequestType) {
      case 'Create':
        return this.ensure(parseDeclaredAgent(event.ResourceProperties, 'ResourceProperties'), event);
      case 'Update': {
        const declared = parseDeclaredAgent(event.ResourceProperties, 'ResourceProperties');
        const previous = parseDeclaredAgent(event.OldResourceProperties, 'OldResourceProperties');
        if (parsePhysicalId(event.PhysicalResourceId) && JSON.stringify(declared) === JSON.stringify(previous)) {
          this.log('no-agent-change', { clusterName: declared.clusterName });
          return { PhysicalResourceId: event.PhysicalResourceId! };
        }
        if (parsePhysicalId(event.PhysicalResourceId) && await this.stack.isRollingBack()) {
          // The rollback's Delete of this physical id gives back what its request changed, and ends its lease.
          this.log('left-to-rollback-delete', { clusterName: declared.clusterName });
          return { PhysicalResourceId: event.PhysicalResourceId! };
        }
        return this.ensure(declared, event);
      }
      case 'Delete':
        await this.release(event);
        return { PhysicalResourceId: event.PhysicalResourceId ?? '' };
      default:
        throw new Error(`Unknown RequestType ${JSON.stringify(event.RequestType)} for Custom::EksPodIdentityAgent: expected Create, Update or Delete. Nothing was changed.`);
    }
  }

  /**
   * Makes sure the agent runs on the declared cluster; returns a new physical id. A request that
   * fails may have created or leased the add-on (an answer lost): CloudFormation sends no Delete
   * for a failed Create, so it ends that lease itself, unless the resource still relies on the
   * cluster's add-on through an earlier physical id.
   */
  private async ensure(declared: DeclaredAgent, event: OnEventRequest): Promise<OnEventResponse> {
    try {
      return await this.ensureOnce(declared, event);
    } catch (error) {
      try {
        const addons = this.addonsOf(declared.clusterName).forCleanup();
        if (!await this.stillReliesOn(addons, event.LogicalResourceId, declared.clusterName, event.RequestId)) {
          await this.endLease(addons, agentLeaseTagKey(stackUuidOf(event.StackId), event.LogicalResourceId));
        }
      } catch (cleanupError) {
        this.log('cleanup-failed', {
          error: cleanupError instanceof Error ? cleanupError.message : String(cleanupError),
          advice: `the lease tag ${agentLeaseTagKey(stackUuidOf(event.StackId), event.LogicalResourceId)} may remain on the ${declared.clusterName} add-on; the next deployment or the stack's deletion ends it`,
        });
      }
      throw error;
    }
  }

  private async ensureOnce(declared: DeclaredAgent, event: OnEventRequest): Promise<OnEventResponse> {
    const stackUuid = stackUuidOf(event.StackId);
    const physicalIdOf = (reliesOn: string) => `${stackUuid}/agent/${declared.clusterName}/${reliesOn}/${event.RequestId}`;
    const addons = this.addonsOf(declared.clusterName);
    const respond = (reliesOn: string, data: AgentResponseData): OnEventResponse =>
      ({ PhysicalResourceId: physicalIdOf(reliesOn), Data: data as never });

    const cluster = await addons.describeCluster();
    if (cluster.computeConfig?.enabled === true && !declared.installOnAutoMode && !await addons.hasOtherCompute()) {
      // EKS User Guide, pod-id-agent-setup: Auto Mode runs the agent; other compute still needs the add-on.
      this.log('agent-built-in', { clusterName: declared.clusterName, reason: 'Auto Mode, and no node group or Fargate profile' });
      return respond(AUTO_MODE, { Source: 'auto-mode', AddonArn: '', AddonVersion: '' });
    }

    const lease = { [agentLeaseTagKey(stackUuid, event.LogicalResourceId)]: event.LogicalResourceId };
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const existing = await addons.describe();
      if (existing?.status === 'DELETING') {
        // Another stack's deletion of the add-on is under way: it must end before the add-on can be created again.
        await this.waitForDeletion(addons, attempt, started);
        continue;
      }
      if (existing) {
        await this.checkNotLeaving(existing, declared, event);
        await this.useExisting(addons, existing, declared, event, physicalIdOf(addonIdOf(existing)!), lease);
        return respond(addonIdOf(existing)!, { Source: 'existing', AddonArn: existing.addonArn ?? '', AddonVersion: declared.addonVersion ?? existing.addonVersion ?? '' });
      }
      const addonVersion = declared.addonVersion ?? await addons.defaultVersion(cluster.version);
      try {
        const created = await addons.create(
          { addonVersion, configurationValues: declared.configurationValues },
          { [AGENT_CREATOR_TAG_KEY]: `${stackUuid}/${event.LogicalResourceId}`, ...lease },
          idempotencyToken(event.RequestId, 'create-agent'),
        );
        this.log('agent-created', { clusterName: declared.clusterName, addonVersion: created.addonVersion ?? addonVersion });
        return respond(addonIdOf(created)!, { Source: 'created', AddonArn: created.addonArn!, AddonVersion: created.addonVersion ?? addonVersion ?? '' });
      } catch (error) {
        // Addon already exists (addon-facts A3): another stack created it meanwhile; it is used as it is.
        if (!(error instanceof RequestError && (error.cause as Error | undefined)?.name === 'ResourceInUseException')) {
          throw error;
        }
        this.log('agent-created-meanwhile', { clusterName: declared.clusterName });
      }
    }
  }

  /**
   * Fails when the add-on is a resource of this very stack that the template no longer declares
   * (it declared it, and the agent replaces it in this deployment): CloudFormation would delete it
   * in its cleanup, after this agent relied on it. The stack's resources, as CloudFormation
   * describes them during the update, still list it.
   */
  private async checkNotLeaving(existing: Addon, declared: DeclaredAgent, event: OnEventRequest): Promise<void> {
    const physicalResourceId = `${declared.clusterName}|${existing.addonName}`;
    const resource = await this.stack.resourceWithPhysicalId('AWS::EKS::Addon', physicalResourceId);
    if (!resource) {
      return;
    }
    throw new RequestError({ service: 'CloudFormation', action: `rely on the add-on ${existing.addonName} of EKS cluster "${declared.clusterName}"`, clusterName: declared.clusterName },
      new Error(`it is resource ${resource} of this stack (${event.StackId}), which this deployment no longer declares, so CloudFormation would delete it in its cleanup`),
      'Keep the add-on in the app (the agent then uses it and creates nothing), or hand it over in three deployments: give the add-on `RemovalPolicy.RETAIN`; ' +
      'remove it and the agent from the app (CloudFormation leaves the add-on in place); add the agent, which relies on it as it is.');
  }

  /** Leases an existing add-on, first bringing it to the version and configuration asked for, if any (recorded first). */
  private async useExisting(
    addons: EksAddons,
    existing: Addon,
    declared: DeclaredAgent,
    event: OnEventRequest,
    physicalResourceId: string,
    lease: Record<string, string>,
  ): Promise<void> {
    const wanted: { -readonly [K in keyof AddonSettings]: AddonSettings[K] } = {};
    if (declared.addonVersion !== undefined && declared.addonVersion !== existing.addonVersion) {
      wanted.addonVersion = declared.addonVersion;
    }
    if (declared.configurationValues !== undefined && !sameJson(declared.configurationValues, existing.configurationValues)) {
      wanted.configurationValues = declared.configurationValues;
    }
    if (Object.keys(wanted).length > 0) {
      await this.records.write({
        version: 1,
        clusterName: declared.clusterName,
        physicalResourceId,
        logicalResourceId: event.LogicalResourceId,
        recordedAt: new Date().toISOString(),
        before: { addonVersion: existing.addonVersion, configurationValues: existing.configurationValues ?? undefined },
      });
      await addons.update(wanted, idempotencyToken(event.RequestId, 'update-agent'));
      this.log('agent-updated', { clusterName: declared.clusterName, changed: Object.keys(wanted) });
    }
    const [key, value] = Object.entries(lease)[0];
    if (existing.tags?.[key] !== value) {
      await addons.tag(existing.addonArn!, lease);
    }
    this.log('agent-leased', { clusterName: declared.clusterName, createdByLibrary: existing.tags?.[AGENT_CREATOR_TAG_KEY] !== undefined });
  }

  private async waitForDeletion(addons: EksAddons, attempt: number, started: number): Promise<void> {
    try {
      await addons.calls.retrier.pause('DescribeAddon', 'addon-being-deleted', attempt, new Error(`the add-on ${addons.addonName} is being deleted`), started);
    } catch (error) {
      if (error instanceof RetriesExhaustedError) {
        throw new RequestError({ action: `create the add-on ${addons.addonName} in EKS cluster "${addons.clusterName}"`, clusterName: addons.clusterName }, error,
          `EKS kept the add-on in status DELETING for ${Math.round(error.waitedMs / 1000)} s, so it could not be created again. Retry the deployment once \`aws eks describe-addon --cluster-name ${addons.clusterName} --addon-name ${addons.addonName}\` answers that it does not exist.`);
      }
      throw error;
    }
  }

  /**
   * CloudFormation's Delete of one physical id: gives back what a failed deployment changed, ends
   * this stack's lease unless the resource still relies on the cluster's add-on, and deletes an
   * add-on the library created once no stack relies on it.
   */
  private async release(event: OnEventRequest): Promise<void> {
    const current = parsePhysicalId(event.PhysicalResourceId);
    if (!current) {
      this.log('left-alone', { reason: 'physical id is not an agent resource\'s' });
      return;
    }
    const addons = this.addonsOf(current.clusterName);
    const records = await this.records.all(current.clusterName);
    const own = records.find(record => record.physicalResourceId === event.PhysicalResourceId);
    const rollingBack = records.length > 0 && await this.stack.isRollingBack();
    if (own && rollingBack) {
      // The deployment that changed the add-on failed: it gets its version and configuration back.
      await this.giveBack(addons, own, event.RequestId);
      await this.records.remove([own]);
    } else if (records.length > 0 && !rollingBack) {
      // A Delete of a forward phase: the deployment completed (or the stack goes), so every change is final.
      await this.records.remove(records);
    }
    if (await this.stillReliesOn(addons, event.LogicalResourceId, current.clusterName, current.requestId)) {
      return;
    }
    await this.endLease(addons, agentLeaseTagKey(current.stackUuid, event.LogicalResourceId));
  }

  /**
   * Whether the resource still relies on the cluster's add-on through another physical id than the
   * one of `requestId`: the one it holds names this cluster and that very add-on (not Auto Mode,
   * not an add-on deleted since, whose successor a failed deployment may have created).
   */
  private async stillReliesOn(addons: EksAddons, logicalResourceId: string, clusterName: string, requestId: string): Promise<boolean> {
    const held = parsePhysicalId(await this.stack.heldBy(logicalResourceId));
    if (!held || held.requestId === requestId || held.clusterName !== clusterName || held.reliesOn === AUTO_MODE ||
      held.reliesOn !== addonIdOf(await addons.describe())) {
      return false;
    }
    this.log('agent-still-relied-on', { clusterName, heldBy: held.requestId });
    return true;
  }

  /** Removes one resource's lease (`key`), then deletes the add-on if the library created it and nothing relies on it. */
  private async endLease(addons: EksAddons, key: string): Promise<void> {
    const addon = await addons.describe();
    if (!addon || addon.status === 'DELETING') {
      this.log('already-deleted', { clusterName: addons.clusterName, addonName: addons.addonName });
      return;
    }
    if (!(key in (addon.tags ?? {}))) {
      this.log('left-alone', { clusterName: addons.clusterName, reason: 'this resource holds no lease on the add-on' });
      return;
    }
    try {
      await addons.untag(addon.addonArn!, [key]);
    } catch (error) {
      if (isNotFound(error)) {
        return;
      }
      throw error;
    }
    // Read again: another stack may have leased it meanwhile.
    const now = await addons.describe();
    const leases = Object.keys(now?.tags ?? {}).filter(tag => tag.startsWith(AGENT_LEASE_TAG_PREFIX));
    if (!now || now.tags?.[AGENT_CREATOR_TAG_KEY] === undefined || leases.length > 0) {
      this.log('agent-kept', { clusterName: addons.clusterName, createdByLibrary: now?.tags?.[AGENT_CREATOR_TAG_KEY] !== undefined, leases: leases.length });
      return;
    }
    await addons.delete();
    this.log('agent-deleted', { clusterName: addons.clusterName, reason: 'created by the library, and no stack relies on it' });
  }

  /** Restores the version and configuration an agent record says the add-on had. */
  private async giveBack(addons: EksAddons, record: AgentRecord, requestId: string): Promise<void> {
    const addon = await addons.describe();
    if (!addon) {
      return;
    }
    const wanted: { -readonly [K in keyof AddonSettings]: AddonSettings[K] } = {};
    if (record.before.addonVersion && record.before.addonVersion !== addon.addonVersion) {
      wanted.addonVersion = record.before.addonVersion;
    }
    if (!sameJson(record.before.configurationValues ?? '', addon.configurationValues ?? '')) {
      // An empty string clears configuration values that the add-on had none of before.
      wanted.configurationValues = record.before.configurationValues ?? '';
    }
    if (Object.keys(wanted).length > 0) {
      await addons.update(wanted, idempotencyToken(requestId, `give-back agent ${record.physicalResourceId}`));
      this.log('agent-given-back', { clusterName: record.clusterName, restored: Object.keys(wanted) });
    }
  }

  /**
   * After a stack operation has ended (EventBridge) or when the transfers resource settles: a
   * record whose resource holds its physical id is final; another is given back (only where
   * `giveBack` is true: where CloudFormation's order makes that safe, as for associations).
   */
  public async settle(record: AgentRecord, requestId: string, giveBack: boolean): Promise<void> {
    if (await this.stack.holds(record.logicalResourceId, record.physicalResourceId)) {
      this.log('agent-change-final', { clusterName: record.clusterName });
    } else if (giveBack) {
      await this.giveBack(this.addonsOf(record.clusterName), record, requestId);
    } else {
      return;
    }
    await this.records.remove([record]);
  }
}

/** Equal JSON documents (configuration values), whatever their spacing and key order. */
function sameJson(a: string | undefined, b: string | undefined): boolean {
  const canonical = (text: string | undefined) => {
    if (!text) {
      return '';
    }
    try {
      return JSON.stringify(sortKeys(JSON.parse(text)));
    } catch {
      return text;
    }
  };
  return canonical(a) === canonical(b);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

/** Parses the agent resource's properties, or throws an error that names what is wrong. */
export function parseDeclaredAgent(raw: unknown, which: 'ResourceProperties' | 'OldResourceProperties'): DeclaredAgent {
  const fail = (problem: string) => new Error(
    `Invalid ${which} for Custom::EksPodIdentityAgent: ${problem}. Nothing was sent to EKS. ` +
    'These properties are written by the PodIdentityAgent construct; if the template was edited by hand, restore what the construct synthesizes.');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fail(`expected an object, got: ${JSON.stringify(raw) ?? 'nothing'}`);
  }
  const props = raw as Record<string, unknown>;
  const optional = (name: string): string | undefined => {
    const value = props[name];
    if (value === undefined || value === '') {
      return undefined;
    }
    if (typeof value !== 'string') {
      throw fail(`${name} must be a string, got: ${JSON.stringify(value)}`);
    }
    return value;
  };
  const clusterName = optional(AGENT_PROPERTY.clusterName);
  if (!clusterName) {
    throw fail(`${AGENT_PROPERTY.clusterName} must be a non-empty string, got: ${JSON.stringify(props[AGENT_PROPERTY.clusterName]) ?? 'nothing'}`);
  }
  const install = props[AGENT_PROPERTY.installOnAutoMode];
  if (![undefined, true, false, 'true', 'false'].includes(install as never)) {
    throw fail(`${AGENT_PROPERTY.installOnAutoMode} must be true or false, got: ${JSON.stringify(install)}`);
  }
  return {
    clusterName,
    addonVersion: optional(AGENT_PROPERTY.addonVersion),
    configurationValues: optional(AGENT_PROPERTY.configurationValues),
    installOnAutoMode: install === true || install === 'true',
    computeDigest: optional(AGENT_PROPERTY.computeDigest),
  };
}
