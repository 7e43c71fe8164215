import { DeleteParametersCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Calls } from './calls';
import type { FailedAction } from './errors';

/** Standard parameters hold at most 4,096 characters (PutParameter API reference); records stay below. */
export const PARAMETER_CHARACTERS = 4_000;
/** DeleteParameters takes at most 10 names (DeleteParameters API reference). */
const DELETE_BATCH = 10;

/**
 * The SSM Parameter Store calls of the stack's records (transfer records, agent records): standard
 * String parameters, written with Overwrite, read by path, removed in batches. Each call is bounded,
 * retried and logged as every call of the request (`Calls`).
 */
export class StackParameters {
  constructor(private readonly client: () => SSMClient, private readonly calls: Calls) {}

  private get ssm(): SSMClient {
    return this.client();
  }

  /** The same calls, bounded by the cleanup part of the deadline. */
  public forCleanup(): StackParameters {
    return new StackParameters(this.client, this.calls.forCleanup());
  }

  /** Writes one parameter (`value` at most PARAMETER_CHARACTERS long; the caller checks). */
  public async put(failed: FailedAction, name: string, value: string, description: string): Promise<void> {
    await this.calls.send(failed, 'PutParameter', options => this.ssm.send(new PutParameterCommand({
      Name: name,
      Value: value,
      Type: 'String',
      Tier: 'Standard',
      Overwrite: true,
      Description: description,
    }), options), { fields: { name } });
  }

  /** Every parameter under `path` (recursively, every page), by name. */
  public async under(path: string, action: string): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    let nextToken: string | undefined;
    do {
      const page = await this.calls.send({ service: 'SSM', action }, 'GetParametersByPath', options => this.ssm.send(new GetParametersByPathCommand({
        Path: path,
        Recursive: true,
        NextToken: nextToken,
      }), options), { fields: { path } });
      for (const parameter of page.Parameters ?? []) {
        values.set(parameter.Name!, parameter.Value ?? '');
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return values;
  }

  /** Removes the parameters `names`; `what` names them in a failure ("ownership transfer records"). */
  public async remove(names: readonly string[], what: string): Promise<void> {
    for (let i = 0; i < names.length; i += DELETE_BATCH) {
      const batch = names.slice(i, i + DELETE_BATCH);
      await this.calls.send({ service: 'SSM', action: `remove ${what} ${batch.join(', ')} from SSM` },
        'DeleteParameters', options => this.ssm.send(new DeleteParametersCommand({ Names: batch }), options), { fields: { names: batch.length } });
    }
  }
}
