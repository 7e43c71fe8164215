import { Arn, ArnFormat, Duration, PhysicalName, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { errorAt } from './private/errors';
import { AssociationIdentity, TrustStatementsPrincipal, targetRoleTrustStatements } from './private/trust';
import { validateNamespace, validateServiceAccount } from './private/validation';

/**
 * An EKS Pod Identity association that a target role trusts, described by the values the target
 * account knows: typically another CDK app's association in another account.
 *
 * Identify the cluster with `clusterArn`, or with `clusterName` and `clusterRegion` (the cluster's
 * account is the association role's account, since EKS requires them to be the same).
 */
export interface PodIdentityTrustedAssociation {
  /**
   * The ARN of the association role: the role EKS Pod Identity gives the pods first, and whose
   * credentials it uses to assume the target role. Trusted with `ArnEquals aws:PrincipalARN`, so
   * the target role can be deployed before the association role exists.
   *
   * The full ARN, with the role's IAM path: a role that `PodIdentityAssociation` creates is on
   * `/cdk-eks-pod-identity/<stack>/`, so its ARN is
   * `arn:<partition>:iam::<account>:role/cdk-eks-pod-identity/<stack>/<name>`. An ARN without the
   * path never matches.
   */
  readonly associationRoleArn: string;

  /**
   * The ARN of the association's cluster, `arn:<partition>:eks:<region>:<account>:cluster/<name>`.
   *
   * @default - built from `clusterName`, `clusterRegion` and the partition and account of
   * `associationRoleArn`; one of `clusterArn` and `clusterName` is required.
   */
  readonly clusterArn?: string;

  /**
   * The name of the association's cluster, with `clusterRegion`, instead of `clusterArn`.
   *
   * @default - taken from `clusterArn`.
   */
  readonly clusterName?: string;

  /**
   * The region of the association's cluster; required with `clusterName`.
   *
   * @default - taken from `clusterArn`.
   */
  readonly clusterRegion?: string;

  /**
   * The Kubernetes namespace of the association's service account.
   */
  readonly namespace: string;

  /**
   * The name of the association's Kubernetes service account.
   */
  readonly serviceAccount: string;

  /**
   * Whether the association disables session tags. It decides the form of the trust: with session
   * tags, the role requires the cluster, namespace and service account session tags; without
   * them, it requires the external id `<region>/<cluster account>/<cluster name>/<namespace>/<service account>`,
   * the format the EKS User Guide documents.
   *
   * @default false - the association sends session tags.
   */
  readonly disableSessionTags?: boolean;
}

/**
 * Properties of a `PodIdentityTargetRole`: the associations it trusts, and the role's own settings.
 */
export interface PodIdentityTargetRoleProps {
  /**
   * The EKS Pod Identity associations the role trusts, typically of another CDK app in another
   * account. Each gets its own trust statements; `trustAssociation()` adds more, and so does
   * `PodIdentityAssociation.grantTargetRole()` for an association of this app.
   *
   * @default - none yet; the role must trust at least one association by synth time.
   */
  readonly trustedAssociations?: PodIdentityTrustedAssociation[];

  /**
   * A name for the role. The association's side names the role by its ARN, so an explicit name
   * lets the other app write that ARN before this role is deployed.
   *
   * @default - a name CloudFormation generates, or, when a stack in another account or region of
   * this app references the role, one CDK generates (`PhysicalName.GENERATE_IF_NEEDED`).
   */
  readonly roleName?: string;

  /**
   * A description of the role.
   *
   * @default - no description.
   */
  readonly description?: string;

  /**
   * The path of the role.
   *
   * @default "/"
   */
  readonly path?: string;

  /**
   * Managed policies to attach to the role.
   *
   * @default - none; grant permissions with `grant*()` methods or `addToPolicy()`.
   */
  readonly managedPolicies?: iam.IManagedPolicy[];

  /**
   * Inline policies of the role.
   *
   * @default - none.
   */
  readonly inlinePolicies?: { [name: string]: iam.PolicyDocument };

  /**
   * A permissions boundary for the role.
   *
   * @default - no permissions boundary.
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;

  /**
   * The maximum session duration. A chained session (EKS Pod Identity assumes the target role with
   * the association role's credentials) lasts at most one hour whatever this says.
   *
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

/**
 * An IAM role that EKS Pod Identity associations may use as their target role (role chaining).
 * Its trust policy holds only the statements of the associations it trusts, the same statements
 * `PodIdentityAssociation.grantTargetRole()` writes, in the forms the EKS User Guide documents.
 *
 * In the target account's own CDK app, describe each association with `trustedAssociations` or
 * `trustAssociation()`; the association's app then passes the role's ARN as its `targetRole`
 * (`iam.Role.fromRoleArn(...)`), which gives the association role `sts:AssumeRole` and
 * `sts:TagSession` on it. In the association's app, create it without associations and pass it to
 * `grantTargetRole()`.
 *
 * @resource AWS::IAM::Role
 *
 * @example
 * declare const bucket: s3.IBucket;
 *
 * // In the data account's app: a role that the association of another app, in account 111122223333, may use.
 * const reader = new PodIdentityTargetRole(this, 'ReportsReader', {
 *   roleName: 'reports-reader',
 *   trustedAssociations: [{
 *     associationRoleArn: 'arn:aws:iam::111122223333:role/cdk-eks-pod-identity/Workloads/reports-generator',
 *     clusterArn: 'arn:aws:eks:us-east-1:111122223333:cluster/prod',
 *     namespace: 'reports',
 *     serviceAccount: 'generator',
 *   }],
 * });
 * bucket.grantRead(reader);
 */
export class PodIdentityTargetRole extends iam.Role {
  constructor(scope: Construct, id: string, props: PodIdentityTargetRoleProps = {}) {
    // Checked before the role exists: errors name the path it will have.
    const path = scope.node.path ? `${scope.node.path}/${id}` : id;
    const trusted = (props.trustedAssociations ?? []).flatMap(association =>
      targetRoleTrustStatements(identityOf(path, association), association.associationRoleArn));
    super(scope, id, {
      assumedBy: new TrustStatementsPrincipal(trusted),
      roleName: props.roleName ?? PhysicalName.GENERATE_IF_NEEDED,
      description: props.description,
      path: props.path,
      managedPolicies: props.managedPolicies,
      inlinePolicies: props.inlinePolicies,
      permissionsBoundary: props.permissionsBoundary,
      maxSessionDuration: props.maxSessionDuration,
    });
    this.node.addValidation({
      validate: () => this.assumeRolePolicy!.isEmpty
        ? ['PodIdentityTargetRole trusts no association, so nothing could assume it, got: an empty trust policy. Pass `trustedAssociations`, call `trustAssociation()`, or pass the role to `PodIdentityAssociation.grantTargetRole()`.']
        : [],
    });
  }

  /**
   * Trusts one more association: adds its own statements, which widen none of the others.
   */
  public trustAssociation(association: PodIdentityTrustedAssociation): void {
    this.assumeRolePolicy!.addStatements(...targetRoleTrustStatements(identityOf(this, association), association.associationRoleArn));
  }
}

/** `arn:<partition>:iam::<account>:role/<path and name>` */
const ROLE_ARN = /^arn:([a-z-]+):iam::(\d{12}):role\/.+$/;
/** `arn:<partition>:eks:<region>:<account>:cluster/<name>` */
const CLUSTER_ARN = /^arn:([a-z-]+):eks:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)$/;

/** The identity of a trusted association, validated. */
function identityOf(scope: IConstruct | string, association: PodIdentityTrustedAssociation): AssociationIdentity {
  validateNamespace(scope, association.namespace);
  validateServiceAccount(scope, association.serviceAccount);
  const role = splitArn(scope, 'associationRoleArn', association.associationRoleArn, ROLE_ARN, 'an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)');
  const cluster = clusterOf(scope, association, role);
  if (!Token.isUnresolved(cluster.account) && !Token.isUnresolved(role.account) && cluster.account !== role.account) {
    throw errorAt(scope,
      `\`associationRoleArn\` must be in the cluster's account (EKS requires iam:PassRole, which works only within one account), got: account ${role.account}, expected ${cluster.account} (from \`clusterArn\`). ` +
      'Pass the ARN of the role the association gives its pods, not of a role in another account.',
    );
  }
  return {
    ...cluster,
    namespace: association.namespace,
    serviceAccount: association.serviceAccount,
    sessionTagsDisabled: association.disableSessionTags === true,
  };
}

function clusterOf(
  scope: IConstruct | string,
  association: PodIdentityTrustedAssociation,
  role: { partition: string; account: string },
): Pick<AssociationIdentity, 'partition' | 'region' | 'account' | 'clusterName'> {
  const { clusterArn, clusterName, clusterRegion } = association;
  if (clusterArn !== undefined) {
    if (clusterName !== undefined || clusterRegion !== undefined) {
      throw errorAt(scope,
        `Pass either \`clusterArn\` or \`clusterName\` with \`clusterRegion\`, got both: clusterArn ${JSON.stringify(clusterArn)}, clusterName ${JSON.stringify(clusterName)}, clusterRegion ${JSON.stringify(clusterRegion)}. ` +
        'Remove `clusterName` and `clusterRegion`; the cluster ARN holds them.',
      );
    }
    const parts = splitArn(scope, 'clusterArn', clusterArn, CLUSTER_ARN, 'an EKS cluster ARN (arn:<partition>:eks:<region>:<account>:cluster/<name>)');
    return { partition: parts.partition, region: parts.region, account: parts.account, clusterName: parts.resourceName };
  }
  if (clusterName === undefined) {
    throw errorAt(scope,
      'The association\'s cluster is required, got neither `clusterArn` nor `clusterName`. ' +
      'Pass `clusterArn` (e.g. arn:aws:eks:us-east-1:111122223333:cluster/prod), or `clusterName` with `clusterRegion`.',
    );
  }
  if (clusterRegion === undefined) {
    throw errorAt(scope,
      `\`clusterRegion\` is required with \`clusterName\`, got: undefined (clusterName ${JSON.stringify(clusterName)}). ` +
      'Pass the region of the cluster, or pass `clusterArn` instead.',
    );
  }
  return { partition: role.partition, region: clusterRegion, account: role.account, clusterName };
}

/** The parts of an ARN; a literal must match `pattern`, a token is split at deploy time. */
function splitArn(scope: IConstruct | string, prop: string, arn: string, pattern: RegExp, expected: string) {
  if (!Token.isUnresolved(arn) && !pattern.test(arn)) {
    throw errorAt(scope, `\`${prop}\` must be ${expected}, got: ${JSON.stringify(arn)}. Copy it from the association's account.`);
  }
  const parts = Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME);
  return { partition: parts.partition!, region: parts.region!, account: parts.account!, resourceName: parts.resourceName! };
}
