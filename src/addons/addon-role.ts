import { CfnResource, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import { CfnAddon, IClusterRef } from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { ADOT, AdotRoleProps } from './adot';
import { AMAZON_CLOUDWATCH_OBSERVABILITY, CloudWatchObservabilityRoleProps } from './amazon-cloudwatch-observability';
import { AWS_EBS_CSI_DRIVER, EbsCsiDriverRoleProps } from './aws-ebs-csi-driver';
import { AWS_EFS_CSI_DRIVER } from './aws-efs-csi-driver';
import { AWS_MOUNTPOINT_S3_CSI_DRIVER, MountpointS3CsiDriverRoleProps } from './aws-mountpoint-s3-csi-driver';
import { AWS_NETWORK_FLOW_MONITORING_AGENT } from './aws-network-flow-monitoring-agent';
import { AddonRoleOptions } from './options';
import { PodIdentityAssociationProvider } from '../provider';
import { VPC_CNI, VpcCniRoleProps } from './vpc-cni';
import { addonResourceOf, attachAddonRole, attachmentProblems, registerEntry } from '../private/addon-attachment';
import { AddonCatalogEntry, exactFinding } from '../private/addon-catalog';
import { AssociationRole } from '../private/association-role';
import { errorAt } from '../private/errors';
import { acknowledgeNagFindings, NAG_PACK } from '../private/nag';
import { ServiceAccountClaimKind, ServiceAccountRegistry } from '../private/service-account-registry';
import { TrustStatementsPrincipal, associationRoleTrustStatement } from '../private/trust';
import { validateNamespace, validateRoleName, validateServiceAccount } from '../private/validation';

/**
 * Properties of an `AddonRole` for any EKS add-on that takes Pod Identity associations. The
 * factory methods (`AddonRole.vpcCni()`, `AddonRole.ebsCsiDriver()`, ...) fill them in, with the
 * policies AWS recommends, for the add-ons this library knows.
 */
export interface AddonRoleProps {
  /**
   * The EKS cluster the add-on runs on: an `aws-eks` or `aws-eks-v2` `Cluster`, a `CfnCluster`, or
   * an imported cluster. It must be in the account of the stack that holds the role.
   */
  readonly cluster: IClusterRef;

  /** The name of the add-on in EKS, as in `aws eks describe-addon-versions`. */
  readonly addonName: string;

  /** The namespace the add-on is installed in. */
  readonly namespace: string;

  /**
   * The add-on's service account that the role is for, one of those the add-on's
   * `DescribeAddonConfiguration` lists under `podIdentityConfiguration`.
   */
  readonly serviceAccount: string;

  /**
   * The name of the role.
   *
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
}

/**
 * The IAM role of an EKS add-on's service account, for the add-on's own Pod Identity association
 * (the `PodIdentityAssociations` of `AWS::EKS::Addon`): the add-on creates the association, owns
 * it, and deletes it with itself.
 *
 * The role is trusted by `pods.eks.amazonaws.com` for `sts:AssumeRole` and `sts:TagSession` only
 * for the add-on's cluster, namespace and service account (by the session tags EKS Pod Identity
 * passes), as the role a `PodIdentityAssociation` creates. The factory methods give it the policy
 * AWS recommends for the add-on, or a customer managed policy scoped to your resources where the
 * add-on needs one. Grants work on it as on an association (`bucket.grantRead(addonRole)`).
 *
 * Attach it to the add-on with `attachToAddon()` (an aws-eks or aws-eks-v2 `Addon`, or a
 * `CfnAddon`), or put `podIdentityAssociation()` in a `CfnAddon`'s `podIdentityAssociations`.
 * A service account has one association: a `PodIdentityAssociation` of this app for the same
 * service account is an error.
 *
 * @resource AWS::IAM::Role
 *
 * @exampleMetadata fixture=addons
 * @example
 * declare const cluster: eks.Cluster;
 * declare const volumeKey: kms.IKey;
 *
 * const ebsCsiRole = AddonRole.ebsCsiDriver(this, 'EbsCsiDriverRole', { cluster, kmsKeys: [volumeKey] });
 * ebsCsiRole.attachToAddon(new eks.Addon(this, 'EbsCsiDriver', { cluster, addonName: 'aws-ebs-csi-driver' }));
 */
export class AddonRole extends Resource implements iam.IGrantable {
  /**
   * The role of the `vpc-cni` add-on (service account `kube-system/aws-node`): AWS managed
   * `AmazonEKS_CNI_Policy`, or, on an IPv6 cluster, a customer managed policy with the EKS User
   * Guide's IPv6 statements. Add-on version `v1.15.5-eksbuild.1` or later.
   */
  public static vpcCni(scope: Construct, id: string, props: VpcCniRoleProps): AddonRole {
    return AddonRole.fromCatalog(scope, id, VPC_CNI, props);
  }

  /**
   * The role of the `aws-ebs-csi-driver` add-on (service account `kube-system/ebs-csi-controller-sa`):
   * the AWS managed policy of `managedPolicy`, and for `kmsKeys` a customer managed policy that
   * lets EBS use those keys. Add-on version `v1.26.0-eksbuild.1` or later.
   */
  public static ebsCsiDriver(scope: Construct, id: string, props: EbsCsiDriverRoleProps): AddonRole {
    return AddonRole.fromCatalog(scope, id, AWS_EBS_CSI_DRIVER, props);
  }

  /**
   * The role of the `aws-efs-csi-driver` add-on's controller (service account
   * `kube-system/efs-csi-controller-sa`): AWS managed `AmazonEFSCSIDriverPolicy`. Add-on version
   * `v2.0.5-eksbuild.1` or later.
   */
  public static efsCsiDriver(scope: Construct, id: string, props: AddonRoleOptions): AddonRole {
    return AddonRole.fromCatalog(scope, id, AWS_EFS_CSI_DRIVER, props);
  }

  /**
   * The role of the `amazon-cloudwatch-observability` add-on (service account
   * `amazon-cloudwatch/cloudwatch-agent`): AWS managed `CloudWatchAgentServerPolicy` and
   * `AWSXrayWriteOnlyAccess`, or a customer managed policy with `logsScopedToCluster`. Add-on
   * version `v3.1.0-eksbuild.1` or later.
   */
  public static cloudWatchObservability(scope: Construct, id: string, props: CloudWatchObservabilityRoleProps): AddonRole {
    return AddonRole.fromCatalog(scope, id, AMAZON_CLOUDWATCH_OBSERVABILITY, props);
  }

  /**
   * The role of one collector of the `adot` add-on (service account
   * `opentelemetry-operator-system/adot-col-*`), with the AWS managed policies its pipelines
   * need. Several collectors' roles attach to the same add-on. Add-on version
   * `v0.94.1-eksbuild.1` or later.
   */
  public static adot(scope: Construct, id: string, props: AdotRoleProps): AddonRole {
    return AddonRole.fromCatalog(scope, id, ADOT, props);
  }

  /**
   * The role of the `aws-network-flow-monitoring-agent` add-on (service account
   * `amazon-network-flow-monitor/aws-network-flow-monitor-agent-service-account`): AWS managed
   * `CloudWatchNetworkFlowMonitorAgentPublishPolicy`. Add-on version `v1.0.1` or later.
   */
  public static networkFlowMonitoringAgent(scope: Construct, id: string, props: AddonRoleOptions): AddonRole {
    return AddonRole.fromCatalog(scope, id, AWS_NETWORK_FLOW_MONITORING_AGENT, props);
  }

  /**
   * The role of the `aws-mountpoint-s3-csi-driver` add-on (service account
   * `kube-system/s3-csi-driver-sa`, driver-level credentials): a customer managed policy with
   * Mountpoint's permissions on `buckets`. AWS documents no minimum add-on version.
   */
  public static mountpointS3CsiDriver(scope: Construct, id: string, props: MountpointS3CsiDriverRoleProps): AddonRole {
    return AddonRole.fromCatalog(scope, id, AWS_MOUNTPOINT_S3_CSI_DRIVER, props);
  }

  /** An add-on role as the catalog entry of its add-on describes it. */
  private static fromCatalog<P extends AddonRoleOptions>(scope: Construct, id: string, entry: AddonCatalogEntry<P>, props: P): AddonRole {
    // Checked before the role exists: errors name the path it would have.
    entry.validate(scope.node.path ? `${scope.node.path}/${id}` : id, props);
    const addonRole = new AddonRole(scope, id, {
      cluster: props.cluster,
      addonName: entry.addonName,
      namespace: props.namespace ?? entry.namespace,
      serviceAccount: entry.serviceAccount(props),
      roleName: props.roleName,
    });
    addonRole._minimumAddonVersion = entry.minimumVersion(props);
    addonRole._defaultAddonNamespace = entry.namespace;
    addonRole.addManagedPolicies(entry.managedPolicies(props));
    const policy = entry.customerPolicy(props, {
      partition: Stack.of(addonRole).partition,
      region: props.cluster.env.region,
      account: props.cluster.env.account,
      clusterName: addonRole.clusterName,
    });
    if (policy) {
      addonRole.addCustomerPolicy(policy.statements, policy.wildcards);
    }
    return addonRole;
  }

  /** The role the add-on's pods receive credentials for. */
  public readonly role: iam.IRole;

  /** The principal to grant permissions to: the role. */
  public readonly grantPrincipal: iam.IPrincipal;

  /** The name of the add-on in EKS. */
  public readonly addonName: string;

  /** The name of the cluster. */
  public readonly clusterName: string;

  /** The namespace of the add-on's service account. */
  public readonly namespace: string;

  /** The add-on's service account the role is for. */
  public readonly serviceAccount: string;

  /**
   * The oldest version of the add-on that takes a Pod Identity association for this service
   * account (`v<major>.<minor>.<patch>[-eksbuild.<n>]`), where the library knows it; attaching
   * the role to an older version is an error.
   */
  public get minimumAddonVersion(): string | undefined {
    return this._minimumAddonVersion;
  }

  /** @internal the namespace the add-on installs into unless its `namespaceConfig` names another, where the catalog knows it */
  public _defaultAddonNamespace?: string;
  /** @internal */
  public _minimumAddonVersion?: string;

  private readonly createdRole: AssociationRole;
  private readonly customerPolicies: iam.ManagedPolicy[] = [];
  private entry?: CfnAddon.PodIdentityAssociationProperty;
  private removalPolicy?: RemovalPolicy;

  constructor(scope: Construct, id: string, props: AddonRoleProps) {
    super(scope, id);
    // The provider of the stack serves the hand-over of the add-on this role is attached to (created now, before the app's aspects run).
    PodIdentityAssociationProvider.getOrCreate(this);
    validateNamespace(this, props.namespace);
    validateServiceAccount(this, props.serviceAccount);
    validateRoleName(this, props.roleName);
    if (!Token.isUnresolved(props.addonName) && !/^[a-z0-9][a-z0-9-]*$/.test(props.addonName)) {
      throw errorAt(this, `\`addonName\` must be the name of an EKS add-on (lowercase letters, digits and '-'), got: ${JSON.stringify(props.addonName)}. List them with \`aws eks describe-addon-versions --query 'addons[].addonName'\`.`);
    }

    const cluster = props.cluster;
    const stack = Stack.of(this);
    const differs = (a: string, b: string) => !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
    if (differs(cluster.env.account, stack.account)) {
      throw errorAt(this,
        `\`cluster\` must be in the account of the stack that holds the role (EKS takes only roles of the cluster's account), got: cluster account ${cluster.env.account}, stack account ${stack.account}. ` +
        'Define the add-on role in a stack of the cluster\'s account.',
      );
    }

    this.addonName = props.addonName;
    this.clusterName = cluster.clusterRef.clusterName;
    this.namespace = props.namespace;
    this.serviceAccount = props.serviceAccount;
    this.createdRole = new AssociationRole(this, 'Role', {
      assumedBy: new TrustStatementsPrincipal([associationRoleTrustStatement({
        partition: stack.partition,
        region: cluster.env.region,
        account: cluster.env.account,
        clusterName: this.clusterName,
        namespace: props.namespace,
        serviceAccount: props.serviceAccount,
        // The add-on API has no way to turn session tags off.
        sessionTagsDisabled: false,
      })]),
      roleName: props.roleName,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = this.createdRole;
    this.grantPrincipal = this.createdRole;

    const claim = { kind: ServiceAccountClaimKind.ADDON_ROLE, construct: this };
    ServiceAccountRegistry.of(this).claim(cluster, props.namespace, props.serviceAccount, claim);
    this.node.addValidation({
      validate: () => [
        ...this.serviceAccountConflicts(cluster),
        ...attachmentProblems(this),
      ],
    });
  }

  /**
   * The entry of this role in an add-on's Pod Identity associations, `{ roleArn, serviceAccount }`,
   * for the `podIdentityAssociations` of a `CfnAddon`. The add-on it is given to counts as
   * attached, as with `attachToAddon()`; prefer that method for an L2 `Addon`.
   *
   * @exampleMetadata fixture=addons
   * @example
   * declare const cluster: eks.Cluster;
   *
   * const cniRole = AddonRole.vpcCni(this, 'VpcCniRole', { cluster });
   * new eksv1.CfnAddon(this, 'VpcCni', {
   *   clusterName: cluster.clusterName,
   *   addonName: 'vpc-cni',
   *   podIdentityAssociations: [cniRole.podIdentityAssociation()],
   * });
   */
  public podIdentityAssociation(): CfnAddon.PodIdentityAssociationProperty {
    registerEntry(this);
    return this._podIdentityAssociationEntry;
  }

  /**
   * Adds this role's entry to the Pod Identity associations of `addon`: an `Addon` of aws-eks or
   * aws-eks-v2 (through its `CfnAddon` child, since aws-cdk-lib's `Addon` has no
   * `podIdentityAssociations` yet), or a `CfnAddon`. The entries the add-on has, or gets later,
   * are kept, and several roles (the collectors of `adot`) attach to one add-on. The add-on waits
   * for the role and its policies, so that its pods never run without them.
   *
   * At synthesis, it is an error if the add-on is another add-on, on another cluster, in a
   * namespace the role does not trust, at a version older than the add-on's first with Pod
   * Identity, or already has an entry for the service account.
   *
   * @param addon an aws-eks or aws-eks-v2 `Addon`, or a `CfnAddon`, of this app
   */
  public attachToAddon(addon: IConstruct): void {
    const resource = addonResourceOf(addon, this);
    // The add-on's stack serves its hand-over: its provider exists before the app's aspects run.
    PodIdentityAssociationProvider.getOrCreate(resource);
    attachAddonRole(resource, this);
  }

  /**
   * Applies `policy` to the role and every policy it has. `RETAIN` keeps them except when the
   * deployment that created them rolls back (`RETAIN_ON_UPDATE_OR_DELETE`): keep the role with an
   * add-on you retain, whose association still names it.
   */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    if (policy === RemovalPolicy.SNAPSHOT) {
      throw errorAt(this, '`applyRemovalPolicy()` takes RemovalPolicy.DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE, got: RemovalPolicy.SNAPSHOT. A role has no snapshot; use RETAIN to keep it.');
    }
    this.removalPolicy = policy === RemovalPolicy.RETAIN ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : policy;
    this.createdRole.applyRemovalPolicy(this.removalPolicy);
    for (const managed of this.customerPolicies) {
      (managed.node.defaultChild as CfnResource | undefined)?.applyRemovalPolicy(this.removalPolicy);
    }
  }

  /** @internal the same object every time, so that an add-on's entries can tell it from the app's */
  public get _podIdentityAssociationEntry(): CfnAddon.PodIdentityAssociationProperty {
    this.entry ??= { roleArn: this.role.roleArn, serviceAccount: this.serviceAccount };
    return this.entry;
  }

  /** @internal */
  public _dependBeforeAddon(resource: CfnResource): void {
    this.createdRole.grantsBefore(resource);
    for (const managed of this.customerPolicies) {
      resource.node.addDependency(managed);
    }
    // The add-on waits for the hand-over, which frees the service account of this stack's own association first.
    PodIdentityAssociationProvider.getOrCreate(resource)._bindHandover(resource, { namespace: this.namespace, serviceAccount: this.serviceAccount });
  }

  /** The other constructs of the app that give this role's service account an association. */
  private serviceAccountConflicts(cluster: IClusterRef): string[] {
    const claims = ServiceAccountRegistry.of(this).claimsOf(cluster, this.namespace, this.serviceAccount);
    const associations = claims.filter(claim => claim.kind === ServiceAccountClaimKind.ASSOCIATION).map(claim => claim.construct.node.path);
    const earlierRoles = claims.slice(0, claims.findIndex(claim => claim.construct === this))
      .filter(claim => claim.kind === ServiceAccountClaimKind.ADDON_ROLE).map(claim => claim.construct.node.path);
    const sa = `"${this.namespace}/${this.serviceAccount}"`;
    return [
      ...associations.map(path =>
        `Service account ${sa} of this cluster has both this add-on role (for the ${this.addonName} add-on) and the PodIdentityAssociation at ${path}. ` +
        'EKS allows one association per service account, and an add-on cannot take over a standalone association (it fails with "already exists"). ' +
        `Remove the PodIdentityAssociation at ${path} and grant its permissions to this role (the add-on then creates the association), or remove this add-on role and keep the association.`),
      ...earlierRoles.map(path =>
        `Service account ${sa} of this cluster already has the add-on role at ${path}; EKS allows one association per service account. Use that role (grant it more permissions), or remove this one.`),
    ];
  }

  /** Attaches AWS managed policies, by name with their path; acknowledges cdk-nag's finding on each, which is AWS's recommendation for the add-on. */
  private addManagedPolicies(names: string[]): void {
    for (const name of names) {
      this.createdRole.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName(name));
    }
    if (names.length > 0) {
      acknowledgeNagFindings(this.createdRole.node.defaultChild as CfnResource | undefined, [{
        ids: [`${NAG_PACK.AWS_SOLUTIONS}-IAM4`],
        reason: `AWS recommends ${names.map(n => n.replace(/^.*\//, '')).join(' and ')} for the ${this.addonName} add-on; AWS keeps ${names.length > 1 ? 'them' : 'it'} current with the add-on's calls.`,
        findings: names.map(name => exactFinding(`Policy::arn:<AWS::Partition>:iam::aws:policy/${name}`)),
      }]);
    }
  }

  /** Writes a customer managed policy for the role (the library's own: its wildcard findings are the add-on's documented needs). */
  private addCustomerPolicy(statements: iam.PolicyStatement[], wildcards?: { findings: string[]; reason: string }): void {
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Permissions of the ${this.addonName} add-on's service account ${this.namespace}/${this.serviceAccount}, written by cdk-eks-pod-identity`,
      statements,
    });
    this.createdRole.addManagedPolicy(policy);
    this.customerPolicies.push(policy);
    if (this.removalPolicy) {
      (policy.node.defaultChild as CfnResource).applyRemovalPolicy(this.removalPolicy);
    }
    if (wildcards) {
      acknowledgeNagFindings(policy.node.defaultChild as CfnResource, [{
        ids: [`${NAG_PACK.AWS_SOLUTIONS}-IAM5`],
        reason: wildcards.reason,
        findings: wildcards.findings,
      }]);
    }
  }
}
