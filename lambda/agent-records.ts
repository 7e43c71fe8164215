import { DeleteParametersCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { AddonSettings } from './addons';
import type { Calls } from './calls';
import { RequestError } from './errors';
import { agentRecordsPath } from '../src/private/contract';

/** Standard parameters hold at most 4,096 characters (PutParameter API reference). */
const MAX_RECORD_CHARACTERS = 4_000;
/** DeleteParameters takes at most 10 names (DeleteParameters API reference). */
const DELETE_BATCH = 10;

/**
 * What an agent add-on was before a request of this stack changed its version or configuration:
 * written before the change, used to give the add-on back if the deployment fails, removed once the
 * change is final.
 */
export interface AgentRecord {
  readonly version: 1;
  readonly clusterName: string;
  /** The physical id of the agent resource the changing request returned. */
  readonly physicalResourceId: string;
  readonly logicalResourceId: string;
  readonly recordedAt: string;
  /** The add-on's version and configuration values before the change. */
  readonly before: AddonSettings;
}

/**
 * The agent records of one stack in SSM Parameter Store, one standard parameter each, under
 * `/cdk-eks-pod-identity/<stack uuid>/agents/<cluster>/<request id>`.
 */
export class AgentRecords {
  public static ofStack(ssm: () => SSMClient, calls: Calls, stackUuid: string): AgentRecords {
    return new AgentRecords(ssm, calls, agentRecordsPath(stackUuid));
  }

  private constructor(private readonly client: () => SSMClient, private readonly calls: Calls, private readonly path: string) {}

  private get ssm(): SSMClient {
    return this.client();
  }

  /** The same records, their calls bounded by the cleanup part of the deadline. */
  public forCleanup(): AgentRecords {
    return new AgentRecords(this.client, this.calls.forCleanup(), this.path);
  }

  private nameOf(record: Pick<AgentRecord, 'clusterName' | 'physicalResourceId'>): string {
    return `${this.path}/${record.clusterName}/${record.physicalResourceId.slice(record.physicalResourceId.lastIndexOf('/') + 1)}`;
  }

  /** Writes `record`; fails before anything changes when the add-on's configuration is too large to record. */
  public async write(record: AgentRecord): Promise<void> {
    const name = this.nameOf(record);
    const value = JSON.stringify(record);
    const failed = { service: 'SSM' as const, action: `record the version and configuration of the add-on of EKS cluster "${record.clusterName}" in SSM parameter ${name}` };
    if (value.length > MAX_RECORD_CHARACTERS) {
      throw new RequestError(failed, new Error(`the record holds ${value.length} characters, more than a standard parameter's ${MAX_RECORD_CHARACTERS}`),
        'The add-on\'s current configuration values are too large to record for a rollback, so nothing was changed. Change the add-on\'s configuration outside this stack, or leave `addonVersion` and `configurationValues` unset to use it as it is.');
    }
    await this.calls.send(failed, 'PutParameter', options => this.ssm.send(new PutParameterCommand({
      Name: name,
      Value: value,
      Type: 'String',
      Tier: 'Standard',
      Overwrite: true,
      Description: 'cdk-eks-pod-identity: the eks-pod-identity-agent add-on as it was before this stack changed it, until the change is final or undone',
    }), options), { fields: { name } });
  }

  /** The records of one cluster, or of every cluster. */
  public async all(clusterName?: string): Promise<AgentRecord[]> {
    const path = clusterName ? `${this.path}/${clusterName}` : this.path;
    const records: AgentRecord[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.calls.send({ service: 'SSM', action: `read the agent records of this stack under ${path}` }, 'GetParametersByPath',
        options => this.ssm.send(new GetParametersByPathCommand({ Path: path, Recursive: true, NextToken: nextToken }), options),
        { fields: { path } });
      for (const parameter of page.Parameters ?? []) {
        const record = parse(parameter.Value);
        if (record) {
          records.push(record);
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return records;
  }

  public async remove(records: ReadonlyArray<Pick<AgentRecord, 'clusterName' | 'physicalResourceId'>>): Promise<void> {
    const names = records.map(record => this.nameOf(record));
    for (let i = 0; i < names.length; i += DELETE_BATCH) {
      const batch = names.slice(i, i + DELETE_BATCH);
      await this.calls.send({ service: 'SSM', action: `remove agent records ${batch.join(', ')} from SSM` },
        'DeleteParameters', options => this.ssm.send(new DeleteParametersCommand({ Names: batch }), options), { fields: { names: batch.length } });
    }
  }
}

function parse(value: string | undefined): AgentRecord | undefined {
  try {
    const record = JSON.parse(value ?? '') as AgentRecord;
    return record.version === 1 && typeof record.physicalResourceId === 'string' && typeof record.clusterName === 'string' && record.before ? record : undefined;
  } catch {
    return undefined;
  }
}
