import {
  Annotations,
  CfnOutput,
  CfnResource,
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
import { PodIdentityAgent } from './pod-identity-agent';
import { AssociationRole, describeRole, portableRoleArn, trustPolicyOf } from './private/association-role';
import {
  ASSOCIATION_RESOURCE_TYPE,
  ATTRIBUTE,
  OWNER_TAG_KEY,
  SERVICE_TIMEOUT_SECONDS,
  AssociationResourceProperties,
  parseAssociationArn,
} from './private/contract';
import { CredentialsPrincipal } from './private/credentials-principal';
import { errorAt } from './private/errors';
import { PortableValue, checkPortable, crossEnvironment, unresolvableIn } from './private/references';
import { ServiceAccountClaimKind, ServiceAccountRegistry } from './private/service-account-registry';
import {
  ASSUME_ROLE_ACTIONS,
  AssociationIdentity,
  TrustStatementsPrincipal,
  associationRoleTrustStatement,
  clusterArnOf,
  expectedExternalId,
  targetRoleTrustStatements,
} from './private/trust';
import { tagProblems, validateNamespace, validateRoleName, validateServiceAccount } from './private/validation';
import { PodIdentityAssociationProvider } from './provider';
import { PodIdentitySessionTag } from './session-tags';

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
   * A `Role` of this app gets one trust statement per association that uses it: `pods.eks.amazonaws.com`
   * for `sts:AssumeRole` and `sts:TagSession`, only with this association's
   * `aws:RequestTag/eks-cluster-arn`, `aws:RequestTag/kubernetes-namespace` and
   * `aws:RequestTag/kubernetes-service-account` (unconditioned when `disableSessionTags` is true).
   * The trust of an imported role is left as it is.
   *
   * This is the role EKS Pod Identity assumes (`association.role`); the pods receive its
   * credentials unless the association has a target role. Grants to the association go to the role
   * whose credentials the pods receive (`association.grantPrincipal`): this role, or the target role.
   *
   * @default - a new role whose only trust is that statement, with no permissions until you grant
   * them (for example `bucket.grantRead(association)`), on the IAM path
   * `/cdk-eks-pod-identity/<stack>/`. Its name is `roleName`, or generated.
   */
  readonly role?: iam.IRole;

  /**
   * The name of the role this construct creates when `role` is not given. A trust policy in
   * another app can then name the role, and the name stays when the construct moves in the tree
   * (a generated name would change, and the role be replaced). The role's ARN is
   * `arn:<partition>:iam::<account>:role/cdk-eks-pod-identity/<stack>/<roleName>`, where `<stack>`
   * is the stack's unique id (its name, for a stack at the root of the app).
   *
   * @default - a name CloudFormation generates, or CDK where a trust policy in another stack or
   * account must name the role.
   */
  readonly roleName?: string;

  /**
   * A role that EKS Pod Identity assumes with the association role's credentials (role chaining),
   * in any account. The pods then receive the target role's credentials.
   *
   * The same as calling `grantTargetRole()`: the association role may assume the target role, and
   * a target `Role` of this app (in this stack, another stack or another account) trusts this
   * association; an imported target role gets a warning and its trust policy in
   * `targetRoleTrustPolicy`. Grants to the association reach the target role.
   *
   * @default - no target role: the pods receive the association role's credentials.
   */
  readonly targetRole?: iam.IRole;

  /**
   * Turns off the session tags EKS Pod Identity adds when it assumes the role
   * (`eks-cluster-arn`, `eks-cluster-name`, `kubernetes-namespace`, `kubernetes-service-account`,
   * `kubernetes-pod-name`, `kubernetes-pod-uid`).
   *
   * Without session tags, the trusts this construct writes cannot name the workload by its tags:
   * the association role trusts `pods.eks.amazonaws.com` without conditions, and a target role
   * requires the external id `<region>/<cluster account>/<cluster name>/<namespace>/<service account>`
   * (the format the EKS User Guide documents; the deployment fails if EKS reports another one).
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
   *
   * @example
   * declare const cluster: eks.ICluster;
   * declare const sharedRole: iam.IRole;
   * declare const bucket: s3.IBucket;
   *
   * // The uploader's pods may only write objects under incoming/, whatever else the shared role may do.
   * new PodIdentityAssociation(this, 'Uploader', {
   *   cluster,
   *   namespace: 'exchange',
   *   serviceAccount: 'uploader',
   *   role: sharedRole,
   *   disableSessionTags: true,
   *   policy: new iam.PolicyDocument({
   *     statements: [new iam.PolicyStatement({
   *       actions: ['s3:PutObject'],
   *       resources: [bucket.arnForObjects('incoming/*')],
   *     })],
   *   }),
   * });
   */
  readonly policy?: iam.PolicyDocument;

  /**
   * Tags for the association. Tags added with `Tags.of(scope).add()` reach the association too.
   *
   * @default - no tags beyond those from `Tags.of()`.
   */
  readonly tags?: { [key: string]: string };

  /**
   * What happens to the association when it is removed from the stack, replaced, or the stack is
   * deleted. `RemovalPolicy.RETAIN` leaves the association in EKS, with the role this construct
   * created and all the role's policies, so the association still works and the pods keep their
   * credentials; when a change of cluster, namespace or service account replaces the association,
   * the previous one stays too. A deployment that creates the association and then fails still
   * removes it, as `RETAIN_ON_UPDATE_OR_DELETE` does (CloudFormation's `RetainExceptOnCreate`): a
   * failed deployment leaves nothing behind. `applyRemovalPolicy()` does the same.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Take over an association for the same cluster, namespace and service account that already
   * exists and that this stack did not create (created by hand, by another tool, or by another
   * stack). The association is then updated to these props, marked as owned by this construct, and
   * deleted with it. An association that belongs to an EKS add-on is never taken over.
   *
   * Associations that this same stack created are always taken over (a construct that moved in the
   * tree, or two associations that swap service accounts), whatever this prop says.
   *
   * The stack's handler then also gets two policies of their own: to mark an association of this
   * cluster that another owner marked with this stack's mark, and to pass an adopted association's
   * previous role back to it if the deployment fails. Stacks without it can never mark an
   * association another stack owns.
   *
   * @default false - the deployment fails, naming the existing association, when the service
   * account already has one that this stack did not create.
   */
  readonly adoptExisting?: boolean;

  /**
   * Make sure the EKS Pod Identity agent runs on the cluster, which EKS Pod Identity needs to give
   * the pods their credentials: the same as `PodIdentityAgent.ensure(this, cluster)`, one agent per
   * cluster in the stack, with the options of the stack's `PodIdentityAgent` of the cluster if it has
   * one. Every association of the stack on the cluster waits for the agent, whether or not it sets
   * this prop.
   *
   * @default false - nothing is done about the agent, unless the stack has a `PodIdentityAgent` of
   * the cluster (which the association then waits for).
   */
  readonly ensureAgent?: boolean;
}

/** Registry of associations per app, to reject two for the same service account. */
const associationsByApp = new WeakMap<IConstruct, Map<string, string>>();

/**
 * An EKS Pod Identity association, managed by a custom resource (`Custom::EksPodIdentityAssociation`)
 * whose provider is shared by every association in the stack.
 *
 * It is an `iam.IGrantable` whose principal is the role whose credentials the pods receive (the
 * target role when there is one, else the association role), so `bucket.grantRead(association)`
 * gives the pods read access.
 *
 * @resource Custom::EksPodIdentityAssociation
 *
 * @example
 * declare const cluster: eks.ICluster;
 * declare const bucket: s3.IBucket;
 *
 * // The pods of service account reports/generator receive credentials for a role created for them...
 * const association = new PodIdentityAssociation(this, 'Generator', {
 *   cluster,
 *   namespace: 'reports',
 *   serviceAccount: 'generator',
 * });
 * // ...which may read the bucket.
 * bucket.grantRead(association);
 */
export class PodIdentityAssociation extends Resource implements IPodIdentityAssociation, iam.IGrantable, ITaggable {
  /**
   * Imports an existing association by its ARN (a literal or a token).
   *
   * @example
   * const association = PodIdentityAssociation.fromPodIdentityAssociationArn(this, 'Generator',
   *   'arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-abcdefghijklmnop1');
   */
  public static fromPodIdentityAssociationArn(scope: Construct, id: string, associationArn: string): IPodIdentityAssociation {
    let associationId: string;
    if (Token.isUnresolved(associationArn)) {
      // "arn:...:podidentityassociation/<cluster>/<association id>"; cluster names have no slash
      associationId = Fn.select(2, Fn.split('/', associationArn));
    } else {
      const parts = parseAssociationArn(associationArn);
      if (!parts) {
        throw errorAt(scope.node.path ? `${scope.node.path}/${id}` : id,
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

  /** The target role, if any: from `targetRole` or `grantTargetRole()`. */
  public get targetRole(): iam.IRole | undefined {
    return this._targetRole;
  }

  /** The name of the cluster. */
  public readonly clusterName: string;

  /** The Kubernetes namespace of the service account. */
  public readonly namespace: string;

  /** The name of the Kubernetes service account. */
  public readonly serviceAccount: string;

  /**
   * The principal to grant permissions to: the role whose credentials the pods receive. That is
   * the target role when the association has one (grants made before `grantTargetRole()` reach it
   * too), else the association role (`role`).
   */
  public readonly grantPrincipal: iam.IPrincipal;

  /** Tags of the association; `Tags.of()` adds to them. */
  public readonly tags: TagManager;

  /** What identifies this association to the roles it assumes (cluster, namespace, service account). */
  private readonly identity: AssociationIdentity;
  private readonly associationResource: CfnResource;
  private _targetRole?: iam.IRole;
  private targetRoleGrant?: iam.Grant;
  private targetRoleTrust?: iam.PolicyStatement[];
  private readonly credentials: CredentialsPrincipal;

  constructor(scope: Construct, id: string, props: PodIdentityAssociationProps) {
    super(scope, id);

    validateNamespace(this, props.namespace);
    validateServiceAccount(this, props.serviceAccount);
    if (props.policy && props.disableSessionTags !== true) {
      throw errorAt(this,
        `\`policy\` requires \`disableSessionTags: true\` (EKS rejects a session policy while session tags are enabled), got: disableSessionTags ${JSON.stringify(props.disableSessionTags)}. ` +
        'Set `disableSessionTags: true`, or remove `policy`.',
      );
    }

    const stack = Stack.of(this);
    const cluster = props.cluster;
    this.clusterName = cluster.clusterRef.clusterName;
    this.namespace = props.namespace;
    this.serviceAccount = props.serviceAccount;
    checkSameEnvironment(this, 'cluster', cluster, stack, 'the stack that holds the association');
    registerServiceAccount(this, cluster, props.namespace, props.serviceAccount);
    // An add-on role (AddonRole) for the same service account reports the conflict, naming this association.
    ServiceAccountRegistry.of(this).claim(cluster, props.namespace, props.serviceAccount, {
      kind: ServiceAccountClaimKind.ASSOCIATION,
      construct: this,
    });
    if (props.ensureAgent) {
      PodIdentityAgent.ensure(this, cluster);
    }

    const requestedRemovalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    if (requestedRemovalPolicy === RemovalPolicy.SNAPSHOT) {
      throw errorAt(this,
        '`removalPolicy` must be RemovalPolicy.DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE, got: RemovalPolicy.SNAPSHOT. ' +
        'An association has no snapshot; use RETAIN to keep it in EKS.',
      );
    }
    const removalPolicy = retainedExceptOnCreate(requestedRemovalPolicy);
    if (props.roleName !== undefined && props.role) {
      throw errorAt(this, `\`roleName\` names the role this construct creates, but \`role\` is given, got: roleName ${JSON.stringify(props.roleName)}. Remove \`roleName\`, or \`role\` to let the construct create the role.`);
    }
    validateRoleName(this, props.roleName);
    this.identity = {
      partition: stack.partition,
      region: cluster.env.region,
      account: cluster.env.account,
      clusterName: this.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      sessionTagsDisabled: props.disableSessionTags === true,
    };
    const provider = PodIdentityAssociationProvider.getOrCreate(this);
    this.role = props.role ?? new AssociationRole(this, 'Role', {
      assumedBy: new TrustStatementsPrincipal([associationRoleTrustStatement(this.identity)]),
      path: provider._createdRolePath,
      roleName: props.roleName,
      // Kept with a retained association, whose pods still assume it.
      removalPolicy,
    });
    checkSameEnvironment(this, 'role', this.role, cluster, 'the cluster (EKS requires iam:PassRole, which works only within one account)', true);
    if (props.role) {
      this.trustFromAssociationRole(props.role);
    }
    this.credentials = new CredentialsPrincipal(this, this.role, (policy, on) => {
      // Pods receive credentials as soon as the association exists: let them carry the grants (within the stack).
      if (Stack.of(on) === stack) {
        this.associationResource.node.addDependency(policy);
      }
    });
    this.grantPrincipal = this.credentials;

    this.tags = new TagManager(TagType.MAP, ASSOCIATION_RESOURCE_TYPE, props.tags);
    this.node.addValidation({ validate: () => tagProblems(this.tags.tagValues(), { [OWNER_TAG_KEY]: 'the owner mark of the association' }) });
    if (props.policy) {
      const policy = props.policy;
      this.node.addValidation({ validate: () => policy.validateForIdentityPolicy().map(e => `\`policy\` is not a valid session policy: ${e}`) });
    }

    const properties: AssociationResourceProperties = {
      ClusterName: this.clusterName,
      Namespace: props.namespace,
      ServiceAccount: props.serviceAccount,
      RoleArn: this.role.roleArn,
      // Lazy: grantTargetRole() may set the target role after construction.
      TargetRoleArn: Lazy.string({ produce: () => this._targetRole?.roleArn }),
      ExpectedExternalId: Lazy.string({
        produce: () => this._targetRole && this.identity.sessionTagsDisabled ? expectedExternalId(this.identity) : undefined,
      }),
      DisableSessionTags: props.disableSessionTags || undefined,
      Policy: props.policy ? stack.toJsonString(props.policy) : undefined,
      Tags: Lazy.any({ produce: () => this.tags.renderTags() }) as unknown as Record<string, string>,
      AdoptExisting: props.adoptExisting || undefined,
    };
    // A CfnResource rather than aws-cdk-lib's CustomResource, which would nest it one level deeper and so change every association's logical id.
    const resource = new CfnResource(this, 'Resource', {
      type: ASSOCIATION_RESOURCE_TYPE,
      properties: { ServiceToken: provider.serviceToken, ServiceTimeout: SERVICE_TIMEOUT_SECONDS, ...properties },
    });
    // Delete is CloudFormation's default: only other policies are written.
    if (removalPolicy !== RemovalPolicy.DESTROY) {
      resource.applyRemovalPolicy(removalPolicy);
    }
    this.associationResource = resource;
    provider._bind(resource, {
      clusterName: this.clusterName,
      namespace: props.namespace,
      serviceAccount: props.serviceAccount,
      givenRole: props.role,
      adoptExisting: props.adoptExisting === true,
    });
    // Pods receive credentials as soon as the association exists: let them carry the role's grants.
    if (this.role instanceof AssociationRole) {
      this.role.grantsBefore(resource);
    } else if (iam.Role.isRole(this.role) && Stack.of(this.role) === stack) {
      resource.node.addDependency(this.role);
    }

    this.associationArn = Token.asString(resource.getAtt(ATTRIBUTE.associationArn));
    this.associationId = Token.asString(resource.getAtt(ATTRIBUTE.associationId));
    this.externalId = Token.asString(resource.getAtt(ATTRIBUTE.externalId));

    if (props.targetRole) {
      this.grantTargetRole(props.targetRole);
    }
  }

  /**
   * Makes `targetRole` this association's target role (role chaining), and writes the policies of
   * both sides.
   *
   * - the association role may `sts:AssumeRole` and `sts:TagSession` on exactly the target role;
   * - a target `Role` of this app, in this stack, another stack or another account, trusts this
   *   association: the association role's account as principal with `ArnEquals aws:PrincipalARN`
   *   on the association role, and with session tags the `aws:RequestTag/eks-cluster-arn`,
   *   `aws:RequestTag/kubernetes-namespace` and `aws:RequestTag/kubernetes-service-account` of
   *   this association; without session tags, `sts:AssumeRole` only with the external id
   *   `<region>/<cluster account>/<cluster name>/<namespace>/<service account>` and
   *   `sts:TagSession` in its own statement. Each association adds its own statements to a shared
   *   target role;
   * - an imported target role cannot be changed from here: a warning says so, and
   *   `targetRoleTrustPolicy` (also as JSON, and as a stack output) holds the statements to apply
   *   to it in its account;
   * - grants to the association (`bucket.grantRead(association)`), made before or after, reach the
   *   target role, whose credentials the pods receive (a warning names each one that cannot, for
   *   an imported target role).
   *
   * The `targetRole` prop does the same. Calling it again with the same role returns the same
   * grant; an association has one target role, so another role is an error.
   *
   * @returns the grant of `sts:AssumeRole` and `sts:TagSession` to the association role
   *
   * @example
   * declare const cluster: eks.ICluster;
   * // A stack of this app, in the account that holds the data:
   * declare const dataStack: Stack;
   *
   * const reader = new PodIdentityTargetRole(dataStack, 'ReportsReader');
   * const generator = new PodIdentityAssociation(this, 'Generator', {
   *   cluster,
   *   namespace: 'reports',
   *   serviceAccount: 'generator',
   * });
   * // The pods of reports/generator end up with the credentials of the reader role.
   * generator.grantTargetRole(reader);
   */
  public grantTargetRole(targetRole: iam.IRole): iam.Grant {
    if (this._targetRole && this.targetRoleGrant) {
      if (isSameRole(this._targetRole, targetRole)) {
        return this.targetRoleGrant;
      }
      throw errorAt(this,
        `An association has at most one target role; this one already has ${describeRole(this._targetRole)}, got a second one: ${describeRole(targetRole)}. ` +
        'Give the pods that need the other role their own service account and association, or pass the same role to `targetRole` and `grantTargetRole()`.',
      );
    }

    const stack = Stack.of(this);
    const targetStack = Stack.of(targetRole);
    const trustPolicy = trustPolicyOf(targetRole);
    if (trustPolicy && crossEnvironment(targetStack, stack)) {
      const problem = unresolvableIn(stack, targetRole.roleArn);
      if (problem) {
        throw errorAt(this,
          `\`targetRole\` ${targetRole.node.path} is in another environment (account ${targetStack.account}, region ${targetStack.region}) than the association (account ${stack.account}, region ${stack.region}), ` +
          `and its ARN is not known at synth time, so the association's stack cannot name it; got: ${problem}. ` +
          'Give the role a name: `roleName: PhysicalName.GENERATE_IF_NEEDED`, or an explicit name.',
        );
      }
    }

    // In its own stack the association role is referenced as usual; elsewhere by a value that
    // needs no export from this stack (its name is generated where needed).
    const associationRoleArn = trustPolicy && targetStack === stack
      ? this.role.roleArn
      : portableRoleArn(this.role) ?? this.role.roleArn;
    const statements = targetRoleTrustStatements(this.identity, associationRoleArn);
    if (trustPolicy) {
      if (targetStack !== stack) {
        checkPortable(this,
          [...this.portableIdentity(), {
            what: 'the association role\'s ARN',
            value: associationRoleArn,
            fix: 'Give the role passed in `role` a name (`roleName`: an explicit name or `PhysicalName.GENERATE_IF_NEEDED`), or leave `role` out so that the association creates a role it can name.',
            cycleFix: 'Give the role passed in `role` an explicit `roleName`, or leave `role` out so that the association creates a role it can name.',
          }],
          targetStack, stack, [stack, Stack.of(this.role)], `the trust policy of target role ${targetRole.node.path}`,
        );
      }
      trustPolicy.addStatements(...statements);
    }

    this._targetRole = targetRole;
    this.targetRoleTrust = statements;
    // The association role, which EKS Pod Identity chains from, keeps what it needs.
    this.targetRoleGrant = iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: [...ASSUME_ROLE_ACTIONS],
      resourceArns: [targetRole.roleArn],
    });
    this.targetRoleGrant.applyBefore(this.associationResource);
    // The pods receive the target role's credentials: grants to the association follow.
    this.credentials.setTarget(targetRole);

    if (!trustPolicy) {
      const output = new CfnOutput(this, 'TargetRoleTrustPolicy', {
        description: `Trust policy to apply to target role ${describeRole(targetRole)} of EKS Pod Identity association ${this.node.path}`,
        value: this.targetRoleTrustPolicyJson!,
      });
      Annotations.of(this).addWarningV2(IMPORTED_TARGET_ROLE_WARNING,
        `Target role ${describeRole(targetRole)} is imported, so this association cannot add the trust statements that let EKS Pod Identity assume it. ` +
        `Apply the statements of \`targetRoleTrustPolicy\` (as JSON: \`targetRoleTrustPolicyJson\`, or stack output ${stack.resolve(output.logicalId)} once deployed) to the role's trust policy in its account, ` +
        'or create the role there with PodIdentityTargetRole. Until then the pods cannot get its credentials.',
      );
    }
    return this.targetRoleGrant;
  }

  /**
   * The trust statements the target role needs for this association (see `grantTargetRole()`),
   * as a policy document; undefined without a target role. Written into a target `Role` of this
   * app already; for an imported target role, apply them in the role's account.
   */
  public get targetRoleTrustPolicy(): iam.PolicyDocument | undefined {
    return this.targetRoleTrust && new iam.PolicyDocument({ statements: this.targetRoleTrust });
  }

  /**
   * `targetRoleTrustPolicy` as a JSON string, to apply in the target role's account (for example
   * with `aws iam update-assume-role-policy`); undefined without a target role. Values known only
   * at deploy time (such as the partition) make it a token: put it in a `CfnOutput` to read it.
   */
  public get targetRoleTrustPolicyJson(): string | undefined {
    const document = this.targetRoleTrustPolicy;
    return document && Stack.of(this).toJsonString(document);
  }

  /**
   * A condition block that admits only sessions of this association's pods, by their session tags:
   * `{ StringEquals: { 'aws:PrincipalTag/eks-cluster-arn': <cluster ARN>,
   * 'aws:PrincipalTag/kubernetes-namespace': <namespace>, 'aws:PrincipalTag/kubernetes-service-account': <service account> } }`,
   * for the `conditions` of a statement in a resource or identity policy. The tags are transitive,
   * so the condition also holds for the target role's session.
   *
   * Throws when the association disables session tags, since the condition could never hold.
   *
   * @example
   * declare const generator: PodIdentityAssociation;
   * declare const secret: secretsmanager.ISecret;
   *
   * // Only the sessions of the generator's pods may read the secret.
   * secret.addToResourcePolicy(new iam.PolicyStatement({
   *   principals: [new iam.AccountPrincipal('111122223333')],
   *   actions: ['secretsmanager:GetSecretValue'],
   *   resources: ['*'],
   *   conditions: generator.principalTagConditions(),
   * }));
   */
  public principalTagConditions(): { [key: string]: any } {
    if (this.identity.sessionTagsDisabled) {
      throw errorAt(this,
        '`principalTagConditions()` needs session tags, but this association has `disableSessionTags: true`, so EKS Pod Identity sends none and the conditions would never hold. ' +
        'Remove `disableSessionTags`, or scope the policy to the role instead.',
      );
    }
    return PodIdentitySessionTag.principalTagConditions({
      clusterArn: clusterArnOf(this.identity),
      namespace: this.namespace,
      serviceAccount: this.serviceAccount,
    });
  }

  /** Adds this association's trust in `pods.eks.amazonaws.com` to a `Role` of this app given in props. */
  private trustFromAssociationRole(role: iam.IRole): void {
    const trustPolicy = trustPolicyOf(role);
    if (!trustPolicy) {
      return;
    }
    const roleStack = Stack.of(role);
    const stack = Stack.of(this);
    if (roleStack !== stack) {
      checkPortable(this, this.portableIdentity(), roleStack, stack, [stack], `the trust policy of role ${role.node.path}`);
    }
    trustPolicy.addStatements(associationRoleTrustStatement(this.identity));
  }

  /** The values of the identity that a trust policy in another stack holds, with how to fix each. */
  private portableIdentity(): PortableValue[] {
    const env = 'Set `env: { account, region }` on the association\'s stack.';
    return [
      {
        what: 'the cluster name',
        value: this.identity.clusterName,
        fix: 'Give the cluster an explicit name (the `clusterName` prop of the Cluster), or import it by name with `Cluster.fromClusterAttributes()`.',
        cycleFix: 'Import the cluster by name with `Cluster.fromClusterAttributes()` in the association\'s stack, define it in a stack of its own, or define the role in the association\'s stack.',
      },
      { what: 'the cluster\'s account', value: this.identity.account, fix: env },
      { what: 'the cluster\'s region', value: this.identity.region, fix: env },
      { what: '`namespace`', value: this.identity.namespace, fix: 'Pass the namespace as a literal.' },
      { what: '`serviceAccount`', value: this.identity.serviceAccount, fix: 'Pass the service account as a literal.' },
    ];
  }

  /**
   * Applies `policy` to everything the association owns: the custom resource, and the role this
   * construct created with all its policies (a given `role` is not the association's). `RETAIN`
   * keeps them except when the deployment that created them rolls back (`RETAIN_ON_UPDATE_OR_DELETE`).
   */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    if (policy === RemovalPolicy.SNAPSHOT) {
      throw errorAt(this, '`applyRemovalPolicy()` takes RemovalPolicy.DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE, got: RemovalPolicy.SNAPSHOT. An association has no snapshot; use RETAIN to keep it in EKS.');
    }
    const applied = retainedExceptOnCreate(policy);
    this.associationResource.applyRemovalPolicy(applied);
    if (this.role instanceof AssociationRole) {
      this.role.applyRemovalPolicy(applied);
    }
  }

  /** A reference to this association, for aws-cdk-lib APIs that take an `IPodIdentityAssociationRef`. */
  public get podIdentityAssociationRef(): PodIdentityAssociationReference {
    return { associationArn: this.associationArn };
  }
}

/** The id of the warning about an imported target role, to acknowledge it with `Annotations.acknowledgeWarning()`. */
const IMPORTED_TARGET_ROLE_WARNING = 'cdk-eks-pod-identity:importedTargetRole';

/** Whether two role objects are the same role: the same object, or the same known ARN. */
function isSameRole(a: iam.IRole, b: iam.IRole): boolean {
  return a === b || (!Token.isUnresolved(a.roleArn) && a.roleArn === b.roleArn);
}

/** RETAIN as RetainExceptOnCreate: kept when it leaves the stack, not when the deployment that created it rolls back. */
function retainedExceptOnCreate(policy: RemovalPolicy): RemovalPolicy {
  return policy === RemovalPolicy.RETAIN ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : policy;
}

/**
 * Throws when two resources are known (resolved) to be in different accounts, or regions unless
 * `accountOnly`; unresolved environments are not compared.
 */
function checkSameEnvironment(
  scope: IConstruct,
  prop: string,
  resource: { readonly env: { readonly account: string; readonly region: string } },
  other: { readonly env: { readonly account: string; readonly region: string } },
  otherName: string,
  accountOnly = false,
): void {
  const differs = (a: string, b: string) => !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
  if (differs(resource.env.account, other.env.account)) {
    throw errorAt(scope,
      `\`${prop}\` must be in the same account as ${otherName}, got: account ${resource.env.account}, expected ${other.env.account}. ` +
      (prop === 'role'
        ? 'Use a role from the cluster\'s account, and put a role from another account in `targetRole` instead.'
        : 'Define the association in a stack deployed to the cluster\'s account and region.'),
    );
  }
  if (!accountOnly && differs(resource.env.region, other.env.region)) {
    throw errorAt(scope,
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
    throw errorAt(association,
      `Service account "${namespace}/${serviceAccount}" of this cluster already has a Pod Identity association in this app, at ${existing}; EKS allows one per service account. ` +
      'Use that association (grant it more permissions, or give it a target role), or pick another namespace or service account.',
    );
  }
  registry.set(key, association.node.path);
}
