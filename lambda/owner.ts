import { createHash } from 'crypto';
import { OWNER_TAG_KEY } from '../src/private/contract';

/** EKS tag values are at most 256 characters. */
const MAX_TAG_VALUE = 256;

/**
 * The owner of an association: one custom resource of one stack. Its mark, the value of the
 * `OWNER_TAG_KEY` tag, reads `<stack uuid>/<logical id>`; the stack uuid (the end of the stack id)
 * tells a stack from an earlier one of the same name.
 */
export class Owner {
  /** The owner of the resource a CloudFormation request is about. */
  public static of(event: { readonly StackId: string; readonly LogicalResourceId: string }): Owner {
    return new Owner(stackUuidOf(event.StackId), event.LogicalResourceId);
  }

  /** The value of the owner tag. */
  public readonly mark: string;

  private constructor(public readonly stackUuid: string, public readonly logicalResourceId: string) {
    const mark = `${stackUuid}/${logicalResourceId}`;
    // Logical ids may be up to 255 characters; a digest keeps such marks unique and within the limit.
    this.mark = mark.length <= MAX_TAG_VALUE
      ? mark
      : `${stackUuid}/sha256:${createHash('sha256').update(logicalResourceId).digest('hex')}`;
  }

  /** The owner tag, to add to an association's tags. */
  public get tag(): Record<string, string> {
    return { [OWNER_TAG_KEY]: this.mark };
  }

  /** True when `tags` mark an association owned by any resource of this owner's stack. */
  public sameStackAs(tags: Readonly<Record<string, string>> | undefined): boolean {
    return tags?.[OWNER_TAG_KEY]?.startsWith(`${this.stackUuid}/`) ?? false;
  }

  /** True when `tags` mark an association owned by exactly this resource. */
  public owns(tags: Readonly<Record<string, string>> | undefined): boolean {
    return tags?.[OWNER_TAG_KEY] === this.mark;
  }
}

/** The unique part of a stack id, `arn:...:stack/<name>/<uuid>`. */
export function stackUuidOf(stackId: string): string {
  return stackId.slice(stackId.lastIndexOf('/') + 1);
}

/** The owner mark in `tags`, or undefined when the association carries none. */
export function markOf(tags: Readonly<Record<string, string>> | undefined): string | undefined {
  return tags?.[OWNER_TAG_KEY];
}

/** The owner mark in `tags`, or 'none', for logs and messages. */
export function ownerMarkOf(tags: Readonly<Record<string, string>> | undefined): string {
  return markOf(tags) ?? 'none';
}

/** `tags` without the owner mark: the user's tags. */
export function userTagsOf(tags: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const { [OWNER_TAG_KEY]: _mark, ...userTags } = tags ?? {};
  return userTags;
}
