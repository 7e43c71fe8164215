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
