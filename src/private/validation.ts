import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { errorAt } from './errors';

/** Kubernetes DNS-1123 label: what a namespace name must be. */
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_LABEL_MAX = 63;

/** Kubernetes DNS-1123 subdomain: what a service account name must be. */
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1123_SUBDOMAIN_MAX = 253;

/** EKS tag limits (the same on every AWS resource that takes tags). */
export const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;
const RESERVED_TAG_PREFIX = /^aws:/i;

/** IAM role names: 1 to 64 of `[\w+=,.@-]` (IAM API reference, CreateRole). */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** Throws when `namespace` is a known value that Kubernetes would not accept as a namespace name. */
export function validateNamespace(scope: IConstruct | string, namespace: string): void {
  if (Token.isUnresolved(namespace)) {
    return;
  }
  if (namespace.length > DNS_1123_LABEL_MAX || !DNS_1123_LABEL.test(namespace)) {
    throw errorAt(scope,
      `\`namespace\` must be a Kubernetes namespace name (a DNS-1123 label: at most ${DNS_1123_LABEL_MAX} lowercase letters, digits and '-', starting and ending with a letter or digit), got: ${JSON.stringify(namespace)}. ` +
      'Use the namespace exactly as it appears in the service account\'s metadata.namespace.',
    );
  }
}

/** Throws when `serviceAccount` is a known value that Kubernetes would not accept as a service account name. */
export function validateServiceAccount(scope: IConstruct | string, serviceAccount: string): void {
  if (Token.isUnresolved(serviceAccount)) {
    return;
  }
  if (serviceAccount.length > DNS_1123_SUBDOMAIN_MAX || !DNS_1123_SUBDOMAIN.test(serviceAccount)) {
    throw errorAt(scope,
      `\`serviceAccount\` must be a Kubernetes service account name (a DNS-1123 subdomain: at most ${DNS_1123_SUBDOMAIN_MAX} lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit), got: ${JSON.stringify(serviceAccount)}. ` +
      'Use the service account exactly as it appears in its metadata.name.',
    );
  }
}

/** Throws when `roleName` is a known value that IAM would not accept as a role name. */
export function validateRoleName(scope: IConstruct, roleName: string | undefined): void {
  if (roleName === undefined || Token.isUnresolved(roleName)) {
    return;
  }
  if (!ROLE_NAME.test(roleName)) {
    throw errorAt(scope,
      `\`roleName\` must be an IAM role name (1 to 64 letters, digits and +=,.@_-), got: ${JSON.stringify(roleName)} (${roleName.length} characters). ` +
      'Shorten it, or replace the other characters.',
    );
  }
}

/**
 * Returns one message per problem in the final tag set (props tags plus `Tags.of()` tags).
 *
 * @param reserved tags the library itself adds to the association (key and purpose): users may not
 * use their keys, and they count against the limit
 */
export function tagProblems(tags: Record<string, string>, reserved: Record<string, string> = {}): string[] {
  const problems: string[] = [];
  const reservedCount = Object.keys(reserved).length;
  const limit = MAX_TAGS - reservedCount;
  const keys = Object.keys(tags);
  if (keys.length > limit) {
    problems.push(
      `\`tags\` may hold at most ${limit} tags (EKS allows ${MAX_TAGS} per association${reservedCount ? `, ${reservedCount} of them used by this library` : ''}), got: ${keys.length} ` +
      '(tags from props and from Tags.of() together). Remove some, or exclude this association from a Tags.of() aspect with `excludeResourceTypes`.',
    );
  }
  for (const key of keys) {
    const value = tags[key];
    if (Token.isUnresolved(key)) {
      continue;
    }
    if (key.length < 1 || key.length > MAX_TAG_KEY) {
      problems.push(`\`tags\` keys must be 1 to ${MAX_TAG_KEY} characters long, got: ${JSON.stringify(key)} (${key.length} characters). Shorten the key.`);
    }
    if (key in reserved) {
      problems.push(`\`tags\` key ${JSON.stringify(key)} is reserved for ${reserved[key]}. Rename the key.`);
    }
    if (RESERVED_TAG_PREFIX.test(key)) {
      problems.push(`\`tags\` keys must not start with "aws:", which AWS reserves, got: ${JSON.stringify(key)}. Rename the key.`);
    }
    if (!Token.isUnresolved(value) && value.length > MAX_TAG_VALUE) {
      problems.push(`\`tags\` values must be at most ${MAX_TAG_VALUE} characters long, got ${value.length} characters for key ${JSON.stringify(key)}. Shorten the value.`);
    }
  }
  return problems;
}
