import { Stack } from 'aws-cdk-lib';

/** IAM's limit on the inline policies of one role, all together, in characters without whitespace (IAM quotas). */
export const MAX_ROLE_INLINE_POLICY_CHARACTERS = 10_240;

/**
 * The longest value each pseudo parameter can take: the partition `aws-us-gov`, a region such as
 * `ap-southeast-5`, a 12-digit account, `amazonaws.com.cn`, a 128-character stack name.
 */
const PSEUDO_PARAMETER_LENGTH: Record<string, number> = {
  'AWS::Partition': 10,
  'AWS::Region': 14,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 16,
  'AWS::StackName': 128,
  'AWS::StackId': 229,
};
/** A Ref or Fn::GetAtt of a resource: a role name is at most 64 characters, its ARN about 160 with a path. */
const REFERENCE_LENGTH = 160;
/** `Fn::Select [2, Fn::Split ['/', AWS::StackId]]`: the stack's uuid. */
const UUID_LENGTH = 36;

/**
 * How many characters `documents` take once CloudFormation resolves them, as IAM counts them (the
 * JSON without whitespace), with the longest value each intrinsic function can resolve to: an
 * estimate that errs on the large side.
 */
export function estimatedPolicyCharacters(stack: Stack, documents: unknown[]): number {
  return documents.reduce<number>((total, document) => total + JSON.stringify(withPlaceholders(stack.resolve(document))).length, 0);
}

/** The resolved JSON with each intrinsic function replaced by a string as long as its longest value. */
function withPlaceholders(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(withPlaceholders);
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const length = intrinsicLength(value as Record<string, unknown>);
  if (length !== undefined) {
    return 'x'.repeat(length);
  }
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withPlaceholders(inner)]));
}

/** The longest string an intrinsic function resolves to, or undefined when `value` is not one. */
function intrinsicLength(value: Record<string, unknown>): number | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    return undefined;
  }
  const [key] = keys;
  const argument = value[key];
  switch (key) {
    case 'Ref':
      return PSEUDO_PARAMETER_LENGTH[argument as string] ?? REFERENCE_LENGTH;
    case 'Fn::GetAtt':
    case 'Fn::ImportValue':
      return REFERENCE_LENGTH;
    case 'Fn::Select':
      return isStackUuid(argument) ? UUID_LENGTH : REFERENCE_LENGTH;
    case 'Fn::Join': {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.reduce<number>((total, part) => total + stringLength(part), separator.length * Math.max(0, parts.length - 1));
    }
    default:
      return key.startsWith('Fn::') ? REFERENCE_LENGTH : undefined;
  }
}

function isStackUuid(argument: unknown): boolean {
  return JSON.stringify(argument) === JSON.stringify([2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }]);
}

function stringLength(part: unknown): number {
  if (typeof part === 'string') {
    return part.length;
  }
  return (typeof part === 'object' && part !== null ? intrinsicLength(part as Record<string, unknown>) : undefined) ?? REFERENCE_LENGTH;
}
