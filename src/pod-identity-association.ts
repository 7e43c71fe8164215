import {
  CustomResource,
  Fn,
  IResource,
  ITaggable,
  Lazy,
  RemovalPolicy,
  Resource,
  Stack,
  TagManager,
  TagType,
  Token,
} from 'aws-cdk-lib';
import { IClusterRef, IPodIdentityAssociationRef, PodIdentityAssociationReference } from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import {
  ASSOCIATION_RESOURCE_TYPE,
  ATTRIBUTE,
  AssociationResourceProperties,
  PODS_SERVICE_PRINCIPAL,
  parseAssociationArn,
} from './private/contract';
import { PodIdentityAssociationProvider } from './private/provider';
import { tagProblems, validateNamespace, validateServiceAccount } from './private/validation';

/**
 * An EKS Pod Identity association: the link between a Kubernetes service account in a cluster and
 * the IAM role its pods receive credentials for.
 */
export interface IPodIdentityAssociation extends IResource, IPodIdentityAssociationRef {
  /**
   * The ARN of the association,
   * `arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/<association id>`.
   *
   * @attribute
   */
  readonly associationArn: string;

  /**
   * The id of the association, `a-` followed by 17 letters and digits.
   *
   * @attribute
   */
  readonly associationId: string;
}

/**
 * Properties of a `PodIdentityAssociation`.
 */
export interface PodIdentityAssociationProps {
  /**
   * The EKS cluster of the service account: an `aws-eks` or `aws-eks-v2` `Cluster`, a
   * `CfnCluster`, or an imported cluster. It must be in the account and region of the stack that
   * holds the association.
   */
  readonly cluster: IClusterRef;

  /**
   * The Kubernetes namespace of the service account.
   */
  readonly namespace: string;

  /**
   * The name of the Kubernetes service account whose pods receive the role's credentials.
   */
  readonly serviceAccount: string;

  /**
   * The IAM role the pods of the service account receive credentials for (the association role).
   * It must be in the cluster's account and trust `pods.eks.amazonaws.com` for `sts:AssumeRole`
   * and `sts:TagSession`.
   *
   * @default - a new role, trusted by `pods.eks.amazonaws.com` for `sts:AssumeRole` and
   * `sts:TagSession`, with no permissions until you grant them (for example
   * `bucket.grantRead(association)`).
   */
  readonly role?: iam.IRole;

  /**
   * A role that EKS Pod Identity assumes with the association role's credentials (role chaining),
   * in any account. The pods then receive the target role's credentials.
   *
   * @default - no target role: the pods receive the association role's credentials.
   */
  readonly targetRole?: iam.IRole;

  /**
   * Turns off the session tags EKS Pod Identity adds when it assumes the role
   * (`eks-cluster-arn`, `eks-cluster-name`, `kubernetes-namespace`, `kubernetes-service-account`,
   * `kubernetes-pod-name`, `kubernetes-pod-uid`).
   *
   * @default false - session tags are added.
   */
  readonly disableSessionTags?: boolean;

  /**
   * A session policy that narrows the permissions of the credentials the pods receive (they get
   * the intersection of this policy and the role's, or the target role's, permissions). EKS accepts
   * a session policy only when `disableSessionTags` is `true`.
   *
   * @default - no session policy: the pods receive all of the role's permissions.
   */
  readonly policy?: iam.PolicyDocument;

  /**
   * Tags for the association. Tags added with `Tags.of(scope).add()` reach the association too.
   *
   * @default - no tags beyond those from `Tags.of()`.
   */
  readonly tags?: { [key: string]: string };

  /**
   * What happens to the association when it is removed from the stack or the stack is deleted.
   * `RemovalPolicy.RETAIN` leaves the association in EKS (and keeps the role this construct
   * created, so the association still works); the pods keep their credentials.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Registry of associations per app, to reject two for the same service account. */
const associationsByApp = new WeakMap<IConstruct, Map<string, string>>();

/**
 * An EKS Pod Identity association, managed by a custom resource (`Custom::EksPodIdentityAssociation`)
 * whose provider is shared by every association in the stack.
 *
 * It is an `iam.IGrantable` whose principal is the association role, so
 * `bucket.grantRead(association)` gives the pods read access.
 *
 * @resource Custom::EksPodIdentityAssociation
 */
export class PodIdentityAssociation extends Resource implements IPodIdentityAssociation, iam.IGrantable, ITaggable {
  /**
   * Imports an existing association by its ARN (a literal or a token).
   */
  public static fromPodIdentityAssociationArn(scope: Construct, id: string, associationArn: string): IPodIdentityAssociation {
    let associationId: string;
    if (Token.isUnresolved(associationArn)) {
      // "arn:...:podidentityassociation/<cluster>/<association id>"; cluster names have no slash
      associationId = Fn.select(2, Fn.split('/', associationArn));
    } else {
      const parts = parseAssociationArn(associationArn);
      if (!parts) {
        throw new Error(
          `\`associationArn\` must be an EKS Pod Identity association ARN (arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/a-<17 letters and digits>), got: ${JSON.stringify(associationArn)}. ` +
          'Copy it from `aws eks describe-pod-identity-association` or from the console.',
        );
      }
      associationId = parts.associationId;
    }

    class Import extends Resource implements IPodIdentityAssociation {
      public readonly associationArn = associationArn;
      public readonly associationId = associationId;
      public get podIdentityAssociationRef(): PodIdentityAssociationReference {
        return { associationArn: this.associationArn };
      }
    }
    return new Import(scope, id, { environmentFromArn: associationArn });
  }

  /**
   * The ARN of the association.
   *
   * @attribute
   */
  public readonly associationArn: string;

  /**
   * The id of the association.
   *
   * @attribute
   */
  public readonly associationId: string;

  /**
   * The external id EKS Pod Identity passes as `sts:ExternalId` when it assumes the target role
   * with session tags disabled; an empty string when there is no target role.
   *
   * @attribute
   */
  public readonly externalId: string;

  /** The association role: the role given in props, or the one this construct created. */
  public readonly role: iam.IRole;

  /** The target role, if any. */
  public readonly targetRole?: iam.IRole;

  /** The name of the cluster. */
  public readonly clusterName: string;

  /** The Kubernetes namespace of the service account. */
  public readonly namespace: string;

  /** The name of the Kubernetes service account. */
  public readonly serviceAccount: string;

  /** The principal to grant permissions to: the association role. */
  public readonly grantPrincipal: iam.IPrincipal;

  /** Tags of the association; `Tags.of()` adds to them. */
  public readonly tags: TagManager;

  constructor(scope: Construct, id: string, props: PodIdentityAssociationProps) {
    super(scope, id);

    validateNamespace(props.namespace);
    validateServiceAccount(props.serviceAccount);
    if (props.policy && props.disableSessionTags !== true) {
      throw new Error(
        `\`policy\` requires \`disableSessionTags: true\` (EKS rejects a session policy while session tags are enabled), got: disableSessionTags ${JSON.stringify(props.disableSessionTags)}. ` +
        'Set `disableSessionTags: true`, or remove `policy`.',
      );
    }

    const stack = Stack.of(this);
    const cluster = props.cluster;
    this.clusterName = cluster.clusterRef.clusterName;
    this.namespace = props.namespace;
    this.serviceAccount = props.serviceAccount;
    checkSameEnvironment('cluster', cluster, stack, 'the stack that holds the association');
    registerServiceAccount(this, cluster, props.namespace, props.serviceAccount);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    if (removalPolicy === RemovalPolicy.SNAPSHOT) {
      throw new Error(
        '`removalPolicy` must be RemovalPolicy.DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE, got: RemovalPolicy.SNAPSHOT. ' +
        'An association has no snapshot; use RETAIN to keep it in EKS.',
      );
    }
    this.role = props.role ?? createAssociationRole(this, removalPolicy);
    checkSameEnvironment('role', this.role, cluster, 'the cluster (EKS requires iam:PassRole, which works only within one account)', true);
    this.targetRole = props.targetRole;
    this.grantPrincipal = this.role.grantPrincipal;

    this.tags = new TagManager(TagType.MAP, ASSOCIATION_RESOURCE_TYPE, props.tags);
    this.node.addValidation({ validate: () => tagProblems(this.tags.tagValues()) });
    if (props.policy) {
      const policy = props.policy;
      this.node.addValidation({ validate: () => policy.validateForIdentityPolicy().map(e => `\`policy\` is not a valid session policy: ${e}`) });
    }

    const provider = PodIdentityAssociationProvider.of(this);
    provider.grantAssociation(this.clusterName, this.role.roleArn);

    const properties: AssociationResourceProperties = {
      ClusterName: this.clusterName,
      Namespace: props.namespace,
      ServiceAccount: props.serviceAccount,
      RoleArn: this.role.roleArn,
      TargetRoleArn: props.targetRole?.roleArn,
      DisableSessionTags: props.disableSessionTags || undefined,
      Policy: props.policy ? stack.toJsonString(props.policy) : undefined,
      Tags: Lazy.any({ produce: () => this.tags.renderTags() }) as unknown as Record<string, string>,
    };
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: ASSOCIATION_RESOURCE_TYPE,
      properties,
      removalPolicy,
    });

    this.associationArn = resource.getAttString(ATTRIBUTE.associationArn);
    this.associationId = resource.getAttString(ATTRIBUTE.associationId);
    this.externalId = resource.getAttString(ATTRIBUTE.externalId);
  }

  /** A reference to this association, for aws-cdk-lib APIs that take an `IPodIdentityAssociationRef`. */
  public get podIdentityAssociationRef(): PodIdentityAssociationReference {
    return { associationArn: this.associationArn };
  }
}

/** The role an association gets when none is given: trusted by EKS Pod Identity, no permissions. */
function createAssociationRole(scope: Construct, removalPolicy: RemovalPolicy): iam.IRole {
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal(PODS_SERVICE_PRINCIPAL)),
    description: `EKS Pod Identity association role for ${scope.node.path}`,
  });
  // Kept with a retained association, whose pods still assume it.
  if (removalPolicy !== RemovalPolicy.DESTROY) {
    role.applyRemovalPolicy(removalPolicy);
  }
  return role;
}

/**
 * Throws when two resources are known (resolved) to be in different accounts, or regions unless
 * `accountOnly`; unresolved environments are not compared.
 */
function checkSameEnvironment(
  prop: string,
  resource: { readonly env: { readonly account: string; readonly region: string } },
  other: { readonly env: { readonly account: string; readonly region: string } },
  otherName: string,
  accountOnly = false,
): void {
  const differs = (a: string, b: string) => !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
  if (differs(resource.env.account, other.env.account)) {
    throw new Error(
      `\`${prop}\` must be in the same account as ${otherName}, got: account ${resource.env.account}, expected ${other.env.account}. ` +
      (prop === 'role'
        ? 'Use a role from the cluster\'s account, and put a role from another account in `targetRole` instead.'
        : 'Define the association in a stack deployed to the cluster\'s account and region.'),
    );
  }
  if (!accountOnly && differs(resource.env.region, other.env.region)) {
    throw new Error(
      `\`${prop}\` must be in the same region as ${otherName}, got: region ${resource.env.region}, expected ${other.env.region}. ` +
      'Define the association in a stack deployed to the cluster\'s account and region.',
    );
  }
}

/**
 * Rejects a second association in the same app for the same cluster, namespace and service
 * account: EKS allows one, and the second would fail at deploy time.
 */
function registerServiceAccount(association: PodIdentityAssociation, cluster: IClusterRef, namespace: string, serviceAccount: string): void {
  if (Token.isUnresolved(namespace) || Token.isUnresolved(serviceAccount)) {
    return;
  }
  const { account, region } = cluster.env;
  // An unresolved environment is the same token in every stack, so scope such clusters to one stack.
  const where = Token.isUnresolved(account) || Token.isUnresolved(region)
    ? `stack ${Stack.of(association).node.path}`
    : `${account}/${region}`;
  const key = `${where} ${cluster.clusterRef.clusterName} ${namespace} ${serviceAccount}`;

  const root = association.node.root;
  let registry = associationsByApp.get(root);
  if (!registry) {
    registry = new Map();
    associationsByApp.set(root, registry);
  }
  const existing = registry.get(key);
  if (existing) {
    throw new Error(
      `Service account "${namespace}/${serviceAccount}" of this cluster already has a Pod Identity association in this app, at ${existing}; EKS allows one per service account. ` +
      'Use that association (grant it more permissions, or give it a target role), or pick another namespace or service account.',
    );
  }
  registry.set(key, association.node.path);
}
