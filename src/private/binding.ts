import type * as iam from 'aws-cdk-lib/aws-iam';

/** What the provider needs to know of an association to serve it. */
export interface AssociationBinding {
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** A role the user gave, which the handler must be allowed to pass; undefined for a created role. */
  readonly givenRole?: iam.IRole;
  readonly adoptExisting: boolean;
}

/** What the provider needs to know of a `PodIdentityAgent` to serve it. */
export interface AgentBinding {
  readonly clusterName: string;
  /** As the resource's AddonVersion; undefined when absent. */
  readonly addonVersion?: string;
  /** As the resource's ConfigurationValues (JSON); undefined when absent. */
  readonly configurationValues?: string;
}

/** A service account handed over to an EKS add-on of the stack (`AddonRole` attached to it). */
export interface HandoverBinding {
  readonly namespace: string;
  readonly serviceAccount: string;
}
