import { Stack, Token } from 'aws-cdk-lib';
import { IClusterRef } from 'aws-cdk-lib/aws-eks';
import { IConstruct } from 'constructs';

/** What holds a service account's one EKS Pod Identity association in this app. */
export enum ServiceAccountClaimKind {
  /** A `PodIdentityAssociation`: a standalone association, made by this library's handler. */
  ASSOCIATION = 'association',
  /** An `AddonRole`: an association the EKS add-on creates and owns. */
  ADDON_ROLE = 'addon-role',
}

/** One construct of the app that gives a service account its association. */
export interface ServiceAccountClaim {
  readonly kind: ServiceAccountClaimKind;
  readonly construct: IConstruct;
}

/**
 * The service accounts of the app that get an EKS Pod Identity association, by cluster, namespace
 * and service account, with what gives each one: a `PodIdentityAssociation` or an `AddonRole`.
 * EKS allows one association per service account, and an add-on cannot take over a standalone
 * association; this is where the app finds out, and where a later step (handing a standalone
 * association over to an add-on) finds the add-on roles of a service account.
 *
 * One registry per app (the root of the construct tree).
 */
export class ServiceAccountRegistry {
  /** The registry of the app that holds `scope`. */
  public static of(scope: IConstruct): ServiceAccountRegistry {
    const root = scope.node.root;
    let registry = registries.get(root);
    if (!registry) {
      registry = new ServiceAccountRegistry();
      registries.set(root, registry);
    }
    return registry;
  }

  /**
   * The key of a service account of `cluster`, or undefined when the namespace or the service
   * account is unresolved (a token cannot be compared). A cluster is known by its account and
   * region and its name; an unresolved name by its resolved form in the cluster's stack (as the
   * provider compares clusters), and an unresolved environment by the cluster's stack.
   */
  public static keyOf(cluster: IClusterRef, namespace: string, serviceAccount: string): string | undefined {
    if (Token.isUnresolved(namespace) || Token.isUnresolved(serviceAccount)) {
      return undefined;
    }
    const stack = Stack.of(cluster);
    const { account, region } = cluster.env;
    const where = Token.isUnresolved(account) || Token.isUnresolved(region) ? `stack ${stack.node.path}` : `${account}/${region}`;
    const name = cluster.clusterRef.clusterName;
    const clusterName = Token.isUnresolved(name) ? `${stack.node.path} ${JSON.stringify(stack.resolve(name))}` : name;
    return JSON.stringify([where, clusterName, namespace, serviceAccount]);
  }

  private readonly claims = new Map<string, ServiceAccountClaim[]>();

  private constructor() {}

  /** Records that `construct` gives the service account an association. A service account with unresolved names is not recorded. */
  public claim(cluster: IClusterRef, namespace: string, serviceAccount: string, claim: ServiceAccountClaim): void {
    const key = ServiceAccountRegistry.keyOf(cluster, namespace, serviceAccount);
    if (key === undefined) {
      return;
    }
    const claims = this.claims.get(key) ?? [];
    claims.push(claim);
    this.claims.set(key, claims);
  }

  /** What gives the service account an association, in the order the app declared them. */
  public claimsOf(cluster: IClusterRef, namespace: string, serviceAccount: string): readonly ServiceAccountClaim[] {
    const key = ServiceAccountRegistry.keyOf(cluster, namespace, serviceAccount);
    return key === undefined ? [] : [...this.claims.get(key) ?? []];
  }

  /** The add-on roles of the service account. */
  public addonRolesOf(cluster: IClusterRef, namespace: string, serviceAccount: string): IConstruct[] {
    return this.claimsOf(cluster, namespace, serviceAccount)
      .filter(claim => claim.kind === ServiceAccountClaimKind.ADDON_ROLE)
      .map(claim => claim.construct);
  }
}

const registries = new WeakMap<IConstruct, ServiceAccountRegistry>();
