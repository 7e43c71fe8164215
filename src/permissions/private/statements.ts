import { Aws, Token } from 'aws-cdk-lib';
import { IClusterRef } from 'aws-cdk-lib/aws-eks';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IConstruct } from 'constructs';
import { errorAt } from '../../private/errors';

/**
 * One statement of a permission set. `wildcardReason` is set on the statements whose wildcards the
 * controller's upstream policy requires (an action that takes no resource, a resource that does
 * not exist before the controller creates it, a tag condition that does the scoping): the library
 * acknowledges those to cdk-nag, with that reason. A wildcard in a statement without it (every
 * hosted zone, a name prefix the user gave) is the user's choice, and stays reported.
 */
export interface ControllerStatement {
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
  readonly wildcardReason?: string;
}

/** Where an error points: the construct granted to (its path), or the permission set's name. */
export type ErrorScope = IConstruct | string;

/** `arn:<partition>:<service>:<region>:<account>:<resource>` in the partition of the stack the statement lands in. */
export function arn(service: string, region: string, account: string, resource: string): string {
  return `arn:${Aws.PARTITION}:${service}:${region}:${account}:${resource}`;
}

/** The account of the credentials the controller receives: that of the stack the statement lands in. */
export const CREDENTIALS_ACCOUNT = Aws.ACCOUNT_ID;

/** `Aws.URL_SUFFIX`: `amazonaws.com`, or `amazonaws.com.cn` in the China regions. */
export const URL_SUFFIX = Aws.URL_SUFFIX;

/** What a permission set knows of a cluster: its name, ARN, account and region. */
export interface ClusterFacts {
  readonly name: string;
  readonly arn: string;
  readonly account: string;
  readonly region: string;
}

/**
 * The cluster's name, ARN and region. With `literalName`, the name goes into a condition key
 * (`aws:ResourceTag/kubernetes.io/cluster/<name>`), which CloudFormation cannot take from a
 * reference: it must be known at synth time.
 */
export function clusterFacts(where: ErrorScope, setName: string, cluster: IClusterRef, literalName: boolean): ClusterFacts {
  const name = cluster.clusterRef.clusterName;
  if (literalName && Token.isUnresolved(name)) {
    throw errorAt(where,
      `${setName}: the cluster's name goes into the tag keys of the policy's conditions (kubernetes.io/cluster/<name>), so it must be known at synth time, got: a token (${cluster.node.path}). ` +
      'Give the Cluster an explicit `clusterName`, or import the cluster by name with `Cluster.fromClusterAttributes()`.');
  }
  return { name, arn: cluster.clusterRef.clusterArn, account: cluster.env.account, region: cluster.env.region };
}

/**
 * Throws unless exactly one of a list of resources and its `all…` flag is given, and the list, if
 * given, is not empty.
 */
export function oneScope(
  where: ErrorScope, setName: string,
  listProp: string, list: readonly unknown[] | undefined,
  allProp: string, all: boolean | undefined,
  what: string,
): void {
  if (list !== undefined && all === true) {
    throw errorAt(where,
      `${setName}: \`${listProp}\` and \`${allProp}: true\` both given, got: ${list.length} ${what} and ${allProp}. ` +
      `Keep \`${listProp}\` to name the ${what} the controller may change, or remove it to grant every one with \`${allProp}\`.`);
  }
  if (list === undefined && all !== true) {
    throw errorAt(where,
      `${setName}: name the ${what} the controller may change in \`${listProp}\`, or set \`${allProp}: true\` to grant every one of the account, got: neither. ` +
      `A permission set is scoped by default: \`${allProp}\` is the explicit choice of a wildcard.`);
  }
  if (list !== undefined) {
    nonEmpty(where, setName, listProp, list, what, `or set \`${allProp}: true\` to grant every one of the account`);
  }
}

/** Throws when a required list is empty. */
export function nonEmpty(where: ErrorScope, setName: string, prop: string, list: readonly unknown[], what: string, alternative?: string): void {
  if (list.length === 0) {
    throw errorAt(where,
      `${setName}: \`${prop}\` must name at least one of the ${what}, got: []. ` +
      `Pass the ${what} the controller works with${alternative ? `, ${alternative}` : ''}.`);
  }
}

/** The KMS key of this app that encrypts a bucket or queue, if it has one. */
export function keyOf(resource: s3.IBucket | sqs.IQueue): kms.IKey | undefined {
  return 'bucketArn' in resource ? resource.encryptionKey : resource.encryptionMasterKey;
}

/** The ARN of every version of a secret: its full ARN when known, else its partial ARN followed by Secrets Manager's six-character suffix. */
export function secretArnOf(secret: { readonly secretArn: string; readonly secretFullArn?: string }): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}

/** The statement that lets the controller use a key, or none. */
export function keyStatement(keys: ReadonlyArray<kms.IKey | undefined>, actions: string[]): ControllerStatement[] {
  const arns = [...new Set(keys.filter((key): key is kms.IKey => key !== undefined).map(key => key.keyArn))];
  return arns.length > 0 ? [{ actions, resources: arns }] : [];
}

/** Whether a value given to a permission set is a literal it can check. */
export function known(value: string): boolean {
  return !Token.isUnresolved(value);
}
