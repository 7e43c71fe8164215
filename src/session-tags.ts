import { Token } from 'aws-cdk-lib';

/**
 * The values to match in `aws:PrincipalTag/...` conditions: the workload whose EKS Pod Identity
 * sessions a policy admits. Each value given adds one condition; values left out are not matched.
 */
export interface PodIdentitySessionTagValues {
  /**
   * The ARN of the cluster, matched against the `eks-cluster-arn` session tag.
   *
   * @default - the cluster ARN is not matched.
   */
  readonly clusterArn?: string;

  /**
   * The name of the cluster, matched against the `eks-cluster-name` session tag.
   *
   * @default - the cluster name is not matched.
   */
  readonly clusterName?: string;

  /**
   * The Kubernetes namespace, matched against the `kubernetes-namespace` session tag.
   *
   * @default - the namespace is not matched.
   */
  readonly namespace?: string;

  /**
   * The Kubernetes service account, matched against the `kubernetes-service-account` session tag.
   *
   * @default - the service account is not matched.
   */
  readonly serviceAccount?: string;
}

/**
 * The session tags EKS Pod Identity adds to the sessions of the roles it assumes (unless the
 * association disables session tags), and helpers for the conditions that match them.
 *
 * The tags are transitive, so a target role's session carries them too. Identity and resource
 * policies match them with `aws:PrincipalTag/<key>`; trust policies match the tags of the
 * `AssumeRole` request with `aws:RequestTag/<key>`.
 *
 * @see https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html
 */
export class PodIdentitySessionTag {
  /** The ARN of the cluster: `eks-cluster-arn`. */
  public static readonly EKS_CLUSTER_ARN = 'eks-cluster-arn';

  /** The name of the cluster: `eks-cluster-name`. */
  public static readonly EKS_CLUSTER_NAME = 'eks-cluster-name';

  /** The namespace of the pod: `kubernetes-namespace`. */
  public static readonly KUBERNETES_NAMESPACE = 'kubernetes-namespace';

  /** The service account of the pod: `kubernetes-service-account`. */
  public static readonly KUBERNETES_SERVICE_ACCOUNT = 'kubernetes-service-account';

  /** The name of the pod: `kubernetes-pod-name`. */
  public static readonly KUBERNETES_POD_NAME = 'kubernetes-pod-name';

  /** The UID of the pod: `kubernetes-pod-uid`. */
  public static readonly KUBERNETES_POD_UID = 'kubernetes-pod-uid';

  /** All six keys, in the order the EKS User Guide lists them (a frozen array: it cannot be changed). */
  public static readonly ALL: string[] = Object.freeze([
    PodIdentitySessionTag.EKS_CLUSTER_ARN,
    PodIdentitySessionTag.EKS_CLUSTER_NAME,
    PodIdentitySessionTag.KUBERNETES_NAMESPACE,
    PodIdentitySessionTag.KUBERNETES_SERVICE_ACCOUNT,
    PodIdentitySessionTag.KUBERNETES_POD_NAME,
    PodIdentitySessionTag.KUBERNETES_POD_UID,
  ]) as string[];

  /**
   * The condition key that matches a session tag of the calling principal, for identity and
   * resource policies: `aws:PrincipalTag/<key>`.
   *
   * @param key one of the keys of this class, e.g. `PodIdentitySessionTag.KUBERNETES_NAMESPACE`
   */
  public static principalTagKey(key: string): string {
    return `aws:PrincipalTag/${key}`;
  }

  /**
   * The condition key that matches a session tag passed in an `AssumeRole` request, for trust
   * policies: `aws:RequestTag/<key>`.
   *
   * @param key one of the keys of this class, e.g. `PodIdentitySessionTag.KUBERNETES_NAMESPACE`
   */
  public static requestTagKey(key: string): string {
    return `aws:RequestTag/${key}`;
  }

  /**
   * A condition block that admits only sessions whose EKS Pod Identity session tags carry the
   * given values: `{ StringEquals: { 'aws:PrincipalTag/<key>': value, ... } }`, for the
   * `conditions` of an `iam.PolicyStatement` in an identity or resource policy.
   *
   * `PodIdentityAssociation.principalTagConditions()` builds it for an association of this app.
   *
   * @example
   * declare const bucket: s3.Bucket;
   *
   * // Any pod of namespace reports in cluster prod, in account 111122223333, may read the bucket.
   * bucket.addToResourcePolicy(new iam.PolicyStatement({
   *   principals: [new iam.AccountPrincipal('111122223333')],
   *   actions: ['s3:GetObject'],
   *   resources: [bucket.arnForObjects('*')],
   *   conditions: PodIdentitySessionTag.principalTagConditions({
   *     clusterArn: 'arn:aws:eks:us-east-1:111122223333:cluster/prod',
   *     namespace: 'reports',
   *   }),
   * }));
   */
  public static principalTagConditions(values: PodIdentitySessionTagValues): { [key: string]: any } {
    const byKey: Array<[keyof PodIdentitySessionTagValues, string]> = [
      ['clusterArn', PodIdentitySessionTag.EKS_CLUSTER_ARN],
      ['clusterName', PodIdentitySessionTag.EKS_CLUSTER_NAME],
      ['namespace', PodIdentitySessionTag.KUBERNETES_NAMESPACE],
      ['serviceAccount', PodIdentitySessionTag.KUBERNETES_SERVICE_ACCOUNT],
    ];
    const stringEquals: { [key: string]: string } = {};
    for (const [prop, key] of byKey) {
      const value = values[prop];
      if (value === undefined) {
        continue;
      }
      if (!Token.isUnresolved(value) && value.length === 0) {
        throw new Error(
          `\`${prop}\` must not be empty, got: "". ` +
          'Leave it out to match any value, or pass the value the session tag carries.',
        );
      }
      stringEquals[PodIdentitySessionTag.principalTagKey(key)] = value;
    }
    if (Object.keys(stringEquals).length === 0) {
      throw new Error(
        '`principalTagConditions()` needs at least one of `clusterArn`, `clusterName`, `namespace` or `serviceAccount`, got none. ' +
        'A condition block that matches nothing would admit every session.',
      );
    }
    return { StringEquals: stringEquals };
  }

  private constructor() {}
}
