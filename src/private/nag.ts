import { CfnResource } from 'aws-cdk-lib';

/** A cdk-nag suppression: the rule, why its finding is intended, and optionally which findings. */
export interface NagSuppression {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo?: Array<string | { regex: string }>;
}

/**
 * Records on `resource` that cdk-nag findings are intended and why, so that users' cdk-nag runs
 * stay clean. Written as the metadata cdk-nag reads (`cdk_nag.rules_to_suppress`), so the library
 * does not depend on cdk-nag. A missing resource is skipped.
 */
export function suppressNagFindings(resource: CfnResource | undefined, suppressions: NagSuppression[]): void {
  // None when iam.Role.customizeRoles() keeps a role's policies out of the template.
  if (!resource) {
    return;
  }
  const existing = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
  const rules = suppressions.map(({ appliesTo, ...rule }) => (appliesTo ? { ...rule, applies_to: appliesTo } : rule));
  resource.addMetadata('cdk_nag', { rules_to_suppress: [...existing, ...rules] });
}
