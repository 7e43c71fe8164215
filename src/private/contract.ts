/**
 * The contract between the PodIdentityAssociation construct and its custom-resource handler.
 *
 * Both sides import this file (the handler through the esbuild bundle), so a property or attribute
 * name exists exactly once. Nothing here is part of the public jsii API.
 */

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
