/**
 * The contract between the PodIdentityAssociation construct and its custom-resource handler.
 *
 * Both sides import this file (the handler through the esbuild bundle), so a property or attribute
 * name exists exactly once. Nothing here is part of the public jsii API.
 */
import { createHash } from 'crypto';

/** CloudFormation resource type of every association. */
export const ASSOCIATION_RESOURCE_TYPE = 'Custom::EksPodIdentityAssociation';

/**
 * CloudFormation resource type of the one resource per stack that settles ownership transfers: its
 * physical id changes whenever an association is added, moved or changes service account, so
 * CloudFormation deletes the previous one once the deployment has completed (cleanup) or rolled
 * back (rollback cleanup), after every association (they depend on it). That Delete makes the
 * deployment's transfers final, or undoes those whose new owner did not keep the association.
 */
export const TRANSFERS_RESOURCE_TYPE = 'Custom::EksPodIdentityTransfers';

/** Properties of the transfers resource. */
export interface TransfersResourceProperties {
  /**
   * A digest of the logical id, cluster, namespace and service account of every association of the
   * stack, as the template holds them: it changes, and so replaces the resource, whenever one is
   * added, moved or changes service account. Only its changes matter.
   */
  readonly AssociationsDigest: string;
}

/**
 * How long CloudFormation waits for each request to a custom resource of the library
 * (AWS::CloudFormation::CustomResource, ServiceTimeout): the provider framework's own timeout, 15
 * minutes, which covers the handler's 5 and the framework's calls around it. Past it, CloudFormation
 * fails the request rather than wait the default hour. CloudFormation passes it to the handler
 * among the properties.
 */
export const SERVICE_TIMEOUT_SECONDS = '900';

/** The first segment of every SSM parameter the handler writes (its policy is scoped to it). */
export const PARAMETER_ROOT = 'cdk-eks-pod-identity';

/** Where the handler keeps the ownership transfer records of the stack whose unique id is `stackUuid`. */
export function transferRecordsPath(stackUuid: string): string {
  return `/${PARAMETER_ROOT}/${stackUuid}/transfers`;
}

/**
 * Resource properties, as the construct writes them into the template.
 *
 * CloudFormation hands every scalar of a custom resource to the handler as a string, so booleans
 * arrive as `'true'` / `'false'`; the handler accepts both forms.
 */
export interface AssociationResourceProperties {
  readonly ClusterName: string;
  readonly Namespace: string;
  readonly ServiceAccount: string;
  readonly RoleArn: string;
  /** Absent when the association has no target role. */
  readonly TargetRoleArn?: string;
  /** Absent means false (session tags enabled). */
  readonly DisableSessionTags?: string | boolean;
  /** Session policy as a JSON document; absent when there is none. */
  readonly Policy?: string;
  /** User tags; absent when there are none. */
  readonly Tags?: Record<string, string>;
  /** Take over an existing association that this stack did not create; absent means false. */
  readonly AdoptExisting?: string | boolean;
  /**
   * The external id the target role's generated trust requires (session tags disabled), in the
   * format the EKS User Guide documents; the handler fails when EKS returns another `externalId`.
   * Absent when the construct generated no external-id trust.
   */
  readonly ExpectedExternalId?: string;
}

/** Names of the resource properties, for code that must refer to them by name. */
export const PROPERTY = {
  clusterName: 'ClusterName',
  namespace: 'Namespace',
  serviceAccount: 'ServiceAccount',
  roleArn: 'RoleArn',
  targetRoleArn: 'TargetRoleArn',
  disableSessionTags: 'DisableSessionTags',
  policy: 'Policy',
  tags: 'Tags',
  adoptExisting: 'AdoptExisting',
  expectedExternalId: 'ExpectedExternalId',
} as const satisfies Record<string, keyof AssociationResourceProperties>;

/** The `Data` the handler returns; each key is a `Fn::GetAtt` attribute of the custom resource. */
export interface AssociationResponseData {
  readonly AssociationArn: string;
  readonly AssociationId: string;
  /** Empty string when the association has no target role. */
  readonly ExternalId: string;
}

/** Names of the attributes, for `CustomResource.getAttString()`. */
export const ATTRIBUTE = {
  associationArn: 'AssociationArn',
  associationId: 'AssociationId',
  externalId: 'ExternalId',
} as const satisfies Record<string, keyof AssociationResponseData>;

/**
 * The tag with which the handler marks each association it creates or takes over with its owner:
 * the stack (by the unique part of its id) and the logical id of the resource. It is not a user
 * tag: user tags cannot use the key, tag updates never remove it, and it counts against the limit.
 */
export const OWNER_TAG_KEY = 'cdk-eks-pod-identity:owner';

/**
 * CloudFormation resource type of the agent of one cluster, as one stack relies on it: at most one
 * per cluster in a stack (`PodIdentityAgent`).
 */
export const AGENT_RESOURCE_TYPE = 'Custom::EksPodIdentityAgent';

/** The name of the EKS add-on that runs the EKS Pod Identity agent (EKS User Guide, pod-id-agent-setup). */
export const AGENT_ADDON_NAME = 'eks-pod-identity-agent';

/** Properties of the agent resource, as the construct writes them (booleans arrive as strings). */
export interface AgentResourceProperties {
  readonly ClusterName: string;
  /**
   * The add-on version to install, or to bring an existing add-on to; absent: an existing add-on
   * keeps its version, a new one gets EKS's default for the cluster's Kubernetes version.
   */
  readonly AddonVersion?: string;
  /** The add-on's configuration values (JSON); absent: an existing add-on keeps its own, a new one gets none. */
  readonly ConfigurationValues?: string;
  /** Install the add-on even on an Auto Mode cluster with no other compute; absent means false. */
  readonly InstallOnAutoMode?: string | boolean;
  /**
   * A digest of the node groups and Fargate profiles the app declares for the cluster (the
   * `AWS::EKS::Nodegroup` and `AWS::EKS::FargateProfile` resources of its stage); absent when there
   * are none. Only its changes matter: compute added to the cluster in a later deployment sends an
   * Update, so that the handler decides again whether Auto Mode alone runs the agent. The agent
   * resource also waits for those resources (DependsOn in its stack, a stack dependency on another
   * stack), so that they exist when the handler decides.
   */
  readonly ComputeDigest?: string;
}

/** Names of the agent resource's properties. */
export const AGENT_PROPERTY = {
  clusterName: 'ClusterName',
  addonVersion: 'AddonVersion',
  configurationValues: 'ConfigurationValues',
  installOnAutoMode: 'InstallOnAutoMode',
  computeDigest: 'ComputeDigest',
} as const satisfies Record<string, keyof AgentResourceProperties>;

/** The `Data` the handler returns for the agent resource. */
export interface AgentResponseData {
  /** 'auto-mode' (Auto Mode runs the agent; nothing installed), 'created' (this stack installed the add-on) or 'existing'. */
  readonly Source: string;
  /** The add-on's ARN; empty when nothing is installed. */
  readonly AddonArn: string;
  /** The add-on's version; empty when nothing is installed. */
  readonly AddonVersion: string;
}

/** The values of the agent resource's `Source` attribute. */
export const AGENT_SOURCE = {
  /** EKS Auto Mode runs the agent and the cluster has no other compute the API shows: nothing installed. */
  autoMode: 'auto-mode',
  /** This stack installed the add-on. */
  created: 'created',
  /** The add-on existed (installed by anyone, including another stack of the library), and this stack leases it. */
  existing: 'existing',
} as const satisfies Record<string, string>;

/** Names of the agent resource's attributes. */
export const AGENT_ATTRIBUTE = {
  source: 'Source',
  addonArn: 'AddonArn',
  addonVersion: 'AddonVersion',
} as const satisfies Record<string, keyof AgentResponseData>;

/**
 * The tag on an agent add-on that the library created: `<stack uuid>/<logical id>` of the resource
 * that created it. Only an add-on carrying it is ever deleted, and only once no stack relies on it.
 */
export const AGENT_CREATOR_TAG_KEY = 'cdk-eks-pod-identity:created-by';

/**
 * The tags by which agent resources record that they rely on an agent add-on (leases): one per
 * resource, `<prefix><stack uuid>/<digest of its logical id>`, whose value is the logical id. One
 * per resource rather than per stack, so that a construct that moves (a new logical id) or a
 * rollback of that move ends only the lease of the resource that goes.
 */
export const AGENT_LEASE_TAG_PREFIX = 'cdk-eks-pod-identity:relied-on-by/';

/** The start of every lease tag key of the stack whose unique id is `stackUuid` (IAM matches `<it>*`). */
export function agentLeaseTagKeyPrefix(stackUuid: string): string {
  return `${AGENT_LEASE_TAG_PREFIX}${stackUuid}/`;
}

/** The lease tag key of one agent resource: tag keys are at most 128 characters, logical ids 255, hence the digest. */
export function agentLeaseTagKey(stackUuid: string, logicalResourceId: string): string {
  return `${agentLeaseTagKeyPrefix(stackUuid)}${createHash('sha256').update(logicalResourceId).digest('hex').slice(0, 16)}`;
}

/** Where the handler records what an agent add-on was before this stack changed its version or configuration. */
export function agentRecordsPath(stackUuid: string): string {
  return `/${PARAMETER_ROOT}/${stackUuid}/agents`;
}

/**
 * CloudFormation resource type of the hand-over of service accounts to one EKS add-on of the stack:
 * the add-on depends on it, so its requests come before the add-on's. When the add-on takes a
 * service account (its `PodIdentityAssociations` gain it), the hand-over releases the association
 * of this stack that holds it first (an add-on cannot take an existing association over), and a
 * rollback restores that association; when a rollback gives a service account back to the add-on,
 * it releases the association the failed deployment created for it.
 */
export const HANDOVER_RESOURCE_TYPE = 'Custom::EksPodIdentityHandover';

/** Properties of the hand-over resource. */
export interface HandoverResourceProperties {
  readonly ClusterName: string;
  /** The add-on, for messages. */
  readonly AddonName: string;
  /** The service accounts the add-on's roles are for, each `<namespace>/<service account>`. */
  readonly ServiceAccounts: string[];
}

/** Names of the hand-over resource's properties. */
export const HANDOVER_PROPERTY = {
  clusterName: 'ClusterName',
  addonName: 'AddonName',
  serviceAccounts: 'ServiceAccounts',
} as const satisfies Record<string, keyof HandoverResourceProperties>;

/** The service principal that assumes association roles. */
export const PODS_SERVICE_PRINCIPAL = 'pods.eks.amazonaws.com';

/**
 * Pod Identity association ARN:
 * `arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/<association id>`.
 */
const ASSOCIATION_ARN = /^arn:(aws[a-z-]*):eks:([a-z0-9-]+):(\d{12}):podidentityassociation\/([^/]+)\/(a-[a-z0-9]+)$/;

/** The parts of an association ARN. */
export interface AssociationArnParts {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly clusterName: string;
  readonly associationId: string;
}

/** Splits an association ARN, or returns undefined when the string is not one. */
export function parseAssociationArn(arn: string): AssociationArnParts | undefined {
  const match = ASSOCIATION_ARN.exec(arn);
  if (!match) {
    return undefined;
  }
  const [, partition, region, account, clusterName, associationId] = match;
  return { arn, partition, region, account, clusterName, associationId };
}
