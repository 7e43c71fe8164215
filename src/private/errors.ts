import { IConstruct } from 'constructs';

/**
 * An error of the app's definition, naming the construct it is about (its path, as CDK prints
 * validation errors), so that a message in a large app says which association it came from.
 */
export function errorAt(scope: IConstruct | string, message: string): Error {
  const path = typeof scope === 'string' ? scope : scope.node.path;
  return new Error(`[${path}] ${message}`);
}
