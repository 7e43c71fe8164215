import { createHash } from 'crypto';
import { Reference, Stack, Token, Tokenization } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Where a cluster name is known from, and how it reads there: the stack of the resource it
 * references (a `Cluster` or `CfnCluster` of the app), or, for a literal or another value, the
 * stack of `scope`, the construct whose template holds it.
 */
function homeOf(scope: IConstruct, clusterName: string): { home: Stack; referenced: boolean } {
  const references = Token.isUnresolved(clusterName)
    ? Tokenization.reverseString(clusterName).tokens.filter(Reference.isReference)
    : [];
  return references.length > 0
    ? { home: Stack.of(references[0].target), referenced: true }
    : { home: Stack.of(scope), referenced: false };
}

/**
 * The cluster name as the stack that defines it reads it: the literal, or the resolved reference
 * (`{"Ref":"Cluster..."}`) resolved in the referenced resource's own stack, which reads the same
 * whether or not CDK has turned it into an import elsewhere yet.
 */
function resolvedName(scope: IConstruct, clusterName: string): unknown {
  const { home } = homeOf(scope, clusterName);
  return Token.isUnresolved(clusterName) ? home.resolve(clusterName) : clusterName;
}

/**
 * A key that is the same for two cluster names of one stage when they name the same cluster as
 * far as the app can tell: the same literal name in the same account and region, or a reference to
 * the same cluster resource. `scope` is the construct whose template holds the name. A literal in a
 * stack without a resolved account and region is known only within that stack.
 */
export function clusterKeyOf(scope: IConstruct, clusterName: string): string {
  const { home, referenced } = homeOf(scope, clusterName);
  const where = referenced || Token.isUnresolved(home.account) || Token.isUnresolved(home.region)
    ? `stack ${home.node.path}`
    : `${home.account}/${home.region}`;
  return JSON.stringify([where, resolvedName(scope, clusterName)]);
}

/** How a message names a cluster: its literal name, or the value it resolves to. */
export function describeClusterName(scope: IConstruct, clusterName: string): string {
  return JSON.stringify(resolvedName(scope, clusterName));
}

/** A short, stable digest of a cluster name as its own stack reads it, for construct ids. */
export function clusterNameDigest(scope: IConstruct, clusterName: string): string {
  return createHash('sha256').update(JSON.stringify(resolvedName(scope, clusterName))).digest('hex').slice(0, 8).toUpperCase();
}
