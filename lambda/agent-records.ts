import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AddonSettings } from './addons';
import type { Calls } from './calls';
import { RequestError } from './errors';
import { PARAMETER_CHARACTERS, StackParameters } from './parameters';
import { agentRecordsPath } from '../src/private/contract';

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
    return new AgentRecords(new StackParameters(ssm, calls), agentRecordsPath(stackUuid));
  }

  private constructor(private readonly parameters: StackParameters, private readonly path: string) {}

  /** The same records, their calls bounded by the cleanup part of the deadline. */
  public forCleanup(): AgentRecords {
    return new AgentRecords(this.parameters.forCleanup(), this.path);
  }

  private nameOf(record: Pick<AgentRecord, 'clusterName' | 'physicalResourceId'>): string {
    return `${this.path}/${record.clusterName}/${record.physicalResourceId.slice(record.physicalResourceId.lastIndexOf('/') + 1)}`;
  }

  /** Writes `record`; fails before anything changes when the add-on's configuration is too large to record. */
  public async write(record: AgentRecord): Promise<void> {
    const name = this.nameOf(record);
    const value = JSON.stringify(record);
    const failed = { service: 'SSM' as const, action: `record the version and configuration of the add-on of EKS cluster "${record.clusterName}" in SSM parameter ${name}` };
    if (value.length > PARAMETER_CHARACTERS) {
      throw new RequestError(failed, new Error(`the record holds ${value.length} characters, more than a standard parameter's ${PARAMETER_CHARACTERS}`),
        'The add-on\'s current configuration values are too large to record for a rollback, so nothing was changed. Change the add-on\'s configuration outside this stack, or leave `addonVersion` and `configurationValues` unset to use it as it is.');
    }
    await this.parameters.put(failed, name, value,
      'cdk-eks-pod-identity: the eks-pod-identity-agent add-on as it was before this stack changed it, until the change is final or undone');
  }

  /** The records of one cluster, or of every cluster. */
  public async all(clusterName?: string): Promise<AgentRecord[]> {
    const path = clusterName ? `${this.path}/${clusterName}` : this.path;
    const values = await this.parameters.under(path, `read the agent records of this stack under ${path}`);
    return [...values.values()].map(parse).filter((record): record is AgentRecord => record !== undefined);
  }

  public async remove(records: ReadonlyArray<Pick<AgentRecord, 'clusterName' | 'physicalResourceId'>>): Promise<void> {
    await this.parameters.remove(records.map(record => this.nameOf(record)), 'agent records');
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
