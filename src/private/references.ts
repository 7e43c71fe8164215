import { Reference, Stack, Token, Tokenization } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { errorAt } from './errors';

/** True when CDK treats the two stacks as different environments (references between them are not exports). */
export function crossEnvironment(a: Stack, b: Stack): boolean {
  return a.account !== b.account || a.region !== b.region;
}

/** A value that is about to be written into a template of another stack, and what to say about it. */
export interface PortableValue {
  /** How a message names the value, e.g. "the cluster name". */
  readonly what: string;
  readonly value: string;
  /** How to fix a value that cannot be written into another environment's template. */
  readonly fix: string;
  /** How to fix a value that would make two stacks of one environment depend on each other. */
  readonly cycleFix?: string;
}

/**
 * Throws when one of `values` cannot be written into a template of `consumer`:
 * - in another environment, a value must resolve there to literals and `AWS::Partition` (a
 *   template in another account cannot import from this one, and its other pseudo parameters
 *   name its own account and region);
 * - in the same environment, a value must not reference `producers`, the stacks that will
 *   reference `consumer` themselves (each would depend on the other).
 *
 * @param scope the construct that writes them, which errors name
 * @param where how a message names what the values are written into, e.g. "the trust policy of target role App/Data/Reader"
 */
export function checkPortable(scope: IConstruct, values: PortableValue[], consumer: Stack, producer: Stack, producers: Stack[], where: string): void {
  const crossEnv = crossEnvironment(consumer, producer);
  for (const { what, value, fix, cycleFix } of values) {
    if (!Token.isUnresolved(value)) {
      continue;
    }
    if (crossEnv) {
      const problem = unresolvableIn(consumer, value);
      if (problem) {
        throw errorAt(scope,
          `${capitalize(what)} must be known at synth time to be written into ${where}, in stack ${consumer.node.path} (${environmentOf(consumer)}), ` +
          `another environment than the association's stack ${producer.node.path} (${environmentOf(producer)}); got: ${problem}. ${fix}`,
        );
      }
    } else {
      const referenced = referencedStacks(value).find(stack => producers.includes(stack));
      if (referenced) {
        throw errorAt(scope,
          `${capitalize(what)} is a reference to stack ${referenced.node.path}, which itself references stack ${consumer.node.path}; writing it into ${where} ` +
          `would make each stack depend on the other. ${cycleFix ?? fix}`,
        );
      }
    }
  }
}

/** Undefined when `value` resolves in `stack` to literals and `AWS::Partition`, else what it resolves to. */
export function unresolvableIn(stack: Stack, value: string): string | undefined {
  let resolved: unknown;
  try {
    resolved = stack.resolve(value);
  } catch (e) {
    return `a value CDK cannot resolve there (${(e as Error).message.split('\n')[0]})`;
  }
  return hasLocalReference(resolved) ? `a value known only at deploy time, ${JSON.stringify(resolved)}` : undefined;
}

/**
 * True when a resolved value contains a `Ref` to anything but `AWS::Partition` (the same in every
 * account of a partition), a `Fn::GetAtt` or a `Fn::ImportValue`.
 */
function hasLocalReference(resolved: unknown): boolean {
  if (Array.isArray(resolved)) {
    return resolved.some(hasLocalReference);
  }
  if (typeof resolved !== 'object' || resolved === null) {
    return false;
  }
  return Object.entries(resolved).some(([key, inner]) =>
    (key === 'Ref' && inner !== 'AWS::Partition') ||
    key === 'Fn::GetAtt' ||
    key === 'Fn::ImportValue' ||
    hasLocalReference(inner));
}

/** The stacks of the resources that the tokens in `value` reference. */
function referencedStacks(value: string): Stack[] {
  return Tokenization.reverseString(value).tokens
    .filter(Reference.isReference)
    .map(reference => Stack.of(reference.target));
}

function environmentOf(stack: Stack): string {
  const show = (value: string) => Token.isUnresolved(value) ? 'unknown' : value;
  return `account ${show(stack.account)}, region ${show(stack.region)}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
