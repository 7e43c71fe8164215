import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Calls } from './calls';
import type { Configuration } from './eks';
import { PARAMETER_CHARACTERS, StackParameters } from './parameters';
import { transferRecordsPath } from '../src/private/contract';

/** The last segment of a part's name: `<index>-of-<count>`, from 1. */
const PART_NAME = /^(\d+)-of-(\d+)$/;

/** What an association was, everything a give-back restores. */
export interface AssociationState extends Configuration {
  /** The owner mark it carried; absent when it carried none. */
  readonly ownerMark?: string;
  /** Its user tags (without the owner mark). */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The record of one ownership transfer: a resource of this stack took an existing association
 * over. Written before the association changes; removed once the transfer is final or undone.
 */
export interface TransferRecord {
  readonly version: 1;
  readonly associationArn: string;
  /** The CloudFormation request that took the association over; a redelivery of it finds its own record. */
  readonly requestId: string;
  readonly recordedAt: string;
  /** The resource that took the association over. */
  readonly to: { readonly logicalResourceId: string; readonly ownerMark: string };
  /** The association as it was before. */
  readonly from: AssociationState;
  /**
   * Set when the association was not taken over but released (deleted) for an EKS add-on to take
   * its service account (`to` is then the hand-over resource): what a rollback needs to create it
   * again.
   */
  readonly released?: ReleasedAssociation;
}

/** A released association's service account, and the hand-over resource's physical id. */
export interface ReleasedAssociation {
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly physicalResourceId: string;
}

/** The records found under the stack's path, and parameters that belong to no complete record. */
export interface StoredTransfers {
  readonly records: TransferRecord[];
  readonly strayNames: string[];
}

/**
 * The stack's transfer records in SSM Parameter Store, under
 * `/cdk-eks-pod-identity/<stack uuid>/transfers/<association id>/<request id>/<n>-of-<count>`: a record
 * is JSON split into standard parameters. Each record has names of its own (the request id), since
 * Parameter Store asks for 30 seconds before a deleted name is created again (DeleteParameters API
 * reference).
 */
export class TransferStore {
  /** The records of the stack whose unique id is `stackUuid`. */
  public static ofStack(ssm: () => SSMClient, calls: Calls, stackUuid: string): TransferStore {
    return new TransferStore(new StackParameters(ssm, calls), transferRecordsPath(stackUuid));
  }

  private constructor(private readonly parameters: StackParameters, private readonly path: string) {}

  /** The same store, its calls bounded by the cleanup part of the deadline. */
  public forCleanup(): TransferStore {
    return new TransferStore(this.parameters.forCleanup(), this.path);
  }

  /** The current record of an association, if there is one. */
  public async read(associationId: string): Promise<TransferRecord | undefined> {
    const { records } = await this.load(`${this.path}/${associationId}`, `read the ownership transfer record of association ${associationId}`);
    return records[0];
  }

  /** Writes `record`, then removes earlier records of the same association. */
  public async write(record: TransferRecord): Promise<void> {
    const associationId = associationIdOf(record);
    const earlier = await this.namesUnder(`${this.path}/${associationId}`, `read the ownership transfer record of association ${associationId}`);
    const base = `${this.path}/${associationId}/${record.requestId}`;
    const parts = split(JSON.stringify(record));
    const failed = { service: 'SSM' as const, action: `record the ownership transfer of association ${associationId} in SSM parameter ${base}` };
    for (const [index, value] of parts.entries()) {
      const name = `${base}/${index + 1}-of-${parts.length}`;
      await this.parameters.put(failed, name, value,
        'cdk-eks-pod-identity: how a Pod Identity association was before this stack took it over, until the transfer is final or undone');
    }
    await this.removeNames(earlier.filter(name => !name.startsWith(`${base}/`)));
  }

  /**
   * Removes one record, and no other of its association: a record a concurrent takeover wrote
   * meanwhile (a late stack event settles while the next deployment runs) stays.
   */
  public async removeRecord(record: TransferRecord): Promise<void> {
    const associationId = associationIdOf(record);
    await this.removeNames(await this.namesUnder(`${this.path}/${associationId}/${record.requestId}`, `read the ownership transfer record of association ${associationId}`));
  }

  /** Removes every record of an association. */
  public async remove(associationId: string): Promise<void> {
    await this.removeNames(await this.namesUnder(`${this.path}/${associationId}`, `read the ownership transfer record of association ${associationId}`));
  }

  /** Every record of the stack (the newest of each association), and the parameters that belong to none. */
  public async all(): Promise<StoredTransfers> {
    return this.load(this.path, 'read the stack\'s ownership transfer records');
  }

  public async removeNames(names: string[]): Promise<void> {
    await this.parameters.remove(names, 'ownership transfer records');
  }

  private async load(path: string, action: string): Promise<StoredTransfers> {
    const values = await this.parameters.under(path, action);
    // <path>/<association id>/<request id>/<n>-of-<count>, grouped by record
    const groups = new Map<string, Map<number, { count: number; value: string; name: string }>>();
    const strayNames: string[] = [];
    for (const [name, value] of values) {
      const segments = name.slice(this.path.length + 1).split('/');
      const part = PART_NAME.exec(segments[2] ?? '');
      if (segments.length !== 3 || !part) {
        strayNames.push(name);
        continue;
      }
      const key = `${segments[0]}/${segments[1]}`;
      const group = groups.get(key) ?? new Map();
      group.set(Number(part[1]), { count: Number(part[2]), value, name });
      groups.set(key, group);
    }
    const newest = new Map<string, TransferRecord>();
    for (const group of groups.values()) {
      const record = assemble(group);
      if (!record) {
        strayNames.push(...[...group.values()].map(p => p.name));
        continue;
      }
      const associationId = associationIdOf(record);
      const other = newest.get(associationId);
      if (other && other.recordedAt > record.recordedAt) {
        continue;
      }
      newest.set(associationId, record);
    }
    return { records: [...newest.values()], strayNames };
  }

  private async namesUnder(path: string, action: string): Promise<string[]> {
    return [...(await this.parameters.under(path, action)).keys()];
  }
}

/** The association id at the end of a record's association ARN. */
export function associationIdOf(record: TransferRecord): string {
  return record.associationArn.slice(record.associationArn.lastIndexOf('/') + 1);
}

/** JSON cut into parts of at most PARAMETER_CHARACTERS characters, never inside a surrogate pair. */
function split(json: string): string[] {
  const characters = Array.from(json);
  const parts: string[] = [];
  for (let i = 0; i < characters.length; i += PARAMETER_CHARACTERS) {
    parts.push(characters.slice(i, i + PARAMETER_CHARACTERS).join(''));
  }
  return parts;
}

/** The record whose parts are all there and parse, else undefined. */
function assemble(parts: Map<number, { count: number; value: string }>): TransferRecord | undefined {
  const count = parts.get(1)?.count;
  if (count === undefined || parts.size !== count || [...parts.values()].some(p => p.count !== count)) {
    return undefined;
  }
  let json = '';
  for (let index = 1; index <= count; index++) {
    const part = parts.get(index);
    if (!part) {
      return undefined;
    }
    json += part.value;
  }
  try {
    const record = JSON.parse(json) as TransferRecord;
    return record.version === 1 && typeof record.associationArn === 'string' && record.to && record.from ? record : undefined;
  } catch {
    return undefined;
  }
}
