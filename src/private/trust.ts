/**
 * The trust statements of EKS Pod Identity roles, in the forms the EKS User Guide documents
 * (pages pod-id-role and pod-id-assign-target-role). Every statement this library writes into a
 * trust policy, or hands to a user to apply, is built here.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { PodIdentitySessionTag } from '../session-tags';
import { PODS_SERVICE_PRINCIPAL } from './contract';

/** What identifies an association to the roles it assumes. */
export interface AssociationIdentity {
  /** Partition of the cluster (and of the association role, which is in the cluster's account). */
  readonly partition: string;
  /** Region of the cluster. */
  readonly region: string;
  /** Account of the cluster, which is also the account of the association role. */
  readonly account: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly sessionTagsDisabled: boolean;
}

/** The actions EKS Pod Identity needs on a role it assumes: `AssumeRole`, and `TagSession` for the session tags. */
export const ASSUME_ROLE_ACTIONS: readonly string[] = Object.freeze(['sts:AssumeRole', 'sts:TagSession']);

/** The cluster ARN, as EKS Pod Identity puts it in the `eks-cluster-arn` session tag. */
export function clusterArnOf(identity: AssociationIdentity): string {
  return `arn:${identity.partition}:eks:${identity.region}:${identity.account}:cluster/${identity.clusterName}`;
}

/**
 * The external id EKS Pod Identity passes when it assumes a target role with session tags
 * disabled, in the format the EKS User Guide documents:
 * `<region>/<cluster account>/<cluster name>/<namespace>/<service account>`.
 *
 * The only place this format exists; the handler compares it with the `externalId` EKS returns.
 */
export function expectedExternalId(identity: AssociationIdentity): string {
  return [identity.region, identity.account, identity.clusterName, identity.namespace, identity.serviceAccount].join('/');
}

/**
 * The `StringEquals` conditions on the session tags EKS Pod Identity passes with `AssumeRole`
 * for this association's pods.
 */
function requestTagConditions(identity: AssociationIdentity): Record<string, string> {
  return {
    [PodIdentitySessionTag.requestTagKey(PodIdentitySessionTag.EKS_CLUSTER_ARN)]: clusterArnOf(identity),
    [PodIdentitySessionTag.requestTagKey(PodIdentitySessionTag.KUBERNETES_NAMESPACE)]: identity.namespace,
    [PodIdentitySessionTag.requestTagKey(PodIdentitySessionTag.KUBERNETES_SERVICE_ACCOUNT)]: identity.serviceAccount,
  };
}

/**
 * The association role's trust in `pods.eks.amazonaws.com`: for `sts:AssumeRole` and
 * `sts:TagSession`, only for this cluster, namespace and service account while session tags are
 * enabled; unconditioned (the plain documented trust) when they are disabled, since then no tag
 * can be matched.
 */
export function associationRoleTrustStatement(identity: AssociationIdentity): iam.PolicyStatement {
  return new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(PODS_SERVICE_PRINCIPAL)],
    actions: [...ASSUME_ROLE_ACTIONS],
    conditions: identity.sessionTagsDisabled ? undefined : { StringEquals: requestTagConditions(identity) },
  });
}

/**
 * A target role's trust in one association: the association role's account as principal,
 * narrowed with `ArnEquals aws:PrincipalARN` to the association role (a string condition, so the
 * target role deploys even before the association role exists), and
 * - session tags enabled: one statement for `sts:AssumeRole` and `sts:TagSession` that requires
 *   the association's cluster, namespace and service account session tags;
 * - session tags disabled: `sts:AssumeRole` with the expected `sts:ExternalId`, and
 *   `sts:TagSession` in its own statement.
 *
 * @param associationRoleArn the association role's ARN, as it can be written in the target role's template
 */
export function targetRoleTrustStatements(identity: AssociationIdentity, associationRoleArn: string): iam.PolicyStatement[] {
  const principals = [new iam.AccountPrincipal(identity.account)];
  const fromAssociationRole = { 'aws:PrincipalARN': associationRoleArn };
  if (!identity.sessionTagsDisabled) {
    return [new iam.PolicyStatement({
      principals,
      actions: [...ASSUME_ROLE_ACTIONS],
      conditions: { StringEquals: requestTagConditions(identity), ArnEquals: fromAssociationRole },
    })];
  }
  return [
    new iam.PolicyStatement({
      principals,
      actions: ['sts:AssumeRole'],
      conditions: { StringEquals: { 'sts:ExternalId': expectedExternalId(identity) }, ArnEquals: fromAssociationRole },
    }),
    new iam.PolicyStatement({
      principals,
      actions: ['sts:TagSession'],
      conditions: { ArnEquals: fromAssociationRole },
    }),
  ];
}

/**
 * The `assumedBy` of a role whose trust policy holds exactly `statements` (any principal given to
 * `iam.Role` would add an unconditioned statement of its own). `iam.Role` uses `assumedBy` only
 * to fill its trust policy, through `addToAssumeRolePolicy()`; this principal is never rendered
 * in a statement, so its fragment is empty.
 */
export class TrustStatementsPrincipal extends iam.PrincipalBase {
  public readonly policyFragment = new iam.PrincipalPolicyFragment({});

  constructor(private readonly statements: iam.PolicyStatement[]) {
    super();
  }

  public addToAssumeRolePolicy(document: iam.PolicyDocument): void {
    document.addStatements(...this.statements);
  }

  public dedupeString(): string | undefined {
    return undefined;
  }
}
