/**
 * The shape of an entry of the add-on catalog (`src/addons/<add-on>.ts`, one file per add-on):
 * what the library knows of one EKS add-on with native Pod Identity support, and how it builds
 * the add-on's role from the user's options. Each entry's docstring names its sources.
 */
import * as iam from 'aws-cdk-lib/aws-iam';

/** Where the role's customer policy applies: the cluster of the add-on. */
export interface CatalogContext {
  readonly partition: string;
  /** Region of the cluster. */
  readonly region: string;
  /** Account of the cluster (and of the role). */
  readonly account: string;
  readonly clusterName: string;
}

/** A customer managed policy the library writes for an add-on, from the user's resources. */
export interface CustomerPolicy {
  readonly statements: iam.PolicyStatement[];
  /**
   * The `AwsSolutions-IAM5` findings of these statements that the source of the entry asks for
   * (patterns, as cdk-nag 2 matches them), and why.
   */
  readonly wildcards?: { readonly findings: string[]; readonly reason: string };
}

/** One add-on of the catalog. `P` is the options of its `AddonRole` factory method. */
export interface AddonCatalogEntry<P> {
  /** The add-on's name in EKS (`addonName` of `AWS::EKS::Addon`). */
  readonly addonName: string;
  /** The namespace the add-on installs into when its `namespaceConfig` names no other. */
  readonly namespace: string;
  /** The service account of the add-on that the role is for. */
  serviceAccount(props: P): string;
  /**
   * The oldest add-on version whose association for that service account works with the role,
   * `v<major>.<minor>.<patch>[-eksbuild.<n>]`; undefined where no source states one (no version
   * is then refused).
   */
  minimumVersion(props: P): string | undefined;
  /** The AWS managed policies to attach, by name with their path (`service-role/AmazonEBSCSIDriverPolicyV2`). */
  managedPolicies(props: P): string[];
  /** The customer managed policy to write, where the user's options or resources call for one. */
  customerPolicy(props: P, context: CatalogContext): CustomerPolicy | undefined;
  /** Throws (with `errorAt(path, ...)`) on options that cannot be right for the add-on. */
  validate(path: string, props: P): void;
}

/** `v1.31.0-eksbuild.1` as [1, 31, 0, 1]; undefined for anything else. */
function parseAddonVersion(version: string): number[] | undefined {
  const match = /^v(\d+)\.(\d+)\.(\d+)(?:-eksbuild\.(\d+))?$/.exec(version);
  return match ? [match[1], match[2], match[3], match[4] ?? '0'].map(Number) : undefined;
}

/**
 * Whether EKS add-on version `version` is older than `minimum`; false when either is not of the
 * form `v<major>.<minor>.<patch>[-eksbuild.<n>]` (it cannot be judged).
 */
export function isOlderAddonVersion(version: string, minimum: string): boolean {
  const a = parseAddonVersion(version);
  const b = parseAddonVersion(minimum);
  if (!a || !b) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return a[i] < b[i];
    }
  }
  return false;
}

/** A cdk-nag 2 pattern (`/^...$/`) for the finding `text` exactly. */
export function exactFinding(text: string): string {
  return `/^${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$/`;
}
