import * as core from 'aws-cdk-lib';
import { CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** The cdk-nag rule packs, by the prefix of their rule ids (`<pack>-<rule>`). */
export const NAG_PACK = {
  AWS_SOLUTIONS: 'AwsSolutions',
  HIPAA: 'HIPAA.Security',
  NIST_R4: 'NIST.800.53.R4',
  NIST_R5: 'NIST.800.53.R5',
  PCI: 'PCI.DSS.321',
  SERVERLESS: 'Serverless',
} as const;

/**
 * A finding of cdk-nag that the library intends, and why. The library acknowledges it on the one
 * resource it is about, in the forms both cdk-nag majors read, so that users' cdk-nag runs judge
 * only what is theirs.
 */
export interface NagAcknowledgement {
  /** The rule ids, one per pack that has the rule, e.g. `HIPAA.Security-IAMNoInlinePolicy`. */
  readonly ids: readonly string[];
  /** Why the finding is intended: shown in cdk-nag's reports. */
  readonly reason: string;
  /**
   * For `AwsSolutions-IAM5` on a policy, which reports one finding per wildcard action or resource
   * (`Action::<action>`, `Resource::<resource>`), and `AwsSolutions-IAM4` on a role, one per AWS
   * managed policy (`Policy::<ARN>`): the findings acknowledged, as the patterns
   * cdk-nag 2 matches them with (`applies_to`, `/^...$/`). cdk-nag 3 matches exact ids, so each
   * finding of the policy's final document that a pattern matches is acknowledged by its id, and
   * no other.
   *
   * @default - the rule's findings on the resource, whatever they are
   */
  readonly findings?: readonly string[];
}

/** The ids of `rule` in each of `packs`. */
export function ruleIds(rule: string, ...packs: string[]): string[] {
  return packs.map(pack => `${pack}-${rule}`);
}

/**
 * Acknowledges intended cdk-nag findings on `resource`, for both cdk-nag majors:
 * - cdk-nag 2 (aspects) reads `cdk_nag.rules_to_suppress` in the resource's metadata;
 * - cdk-nag 3 (validation plugins, aws-cdk-lib 2.257 and later) reads the acknowledgements of
 *   aws-cdk-lib's `Validations`, one per finding id, on the resource or an ancestor. They are made
 *   with `Validations.of(resource).acknowledge()` where aws-cdk-lib has it and takes the id (it
 *   refuses granular ids before 2.269); otherwise written as the metadata it would write. Granular
 *   ids are written once the app is complete (when CDK validates the tree, before any plugin runs).
 *
 * Neither needs cdk-nag: the library does not depend on it. A missing resource is skipped (none
 * when `iam.Role.customizeRoles()` keeps a role's policies out of the template).
 */
export function acknowledgeNagFindings(resource: CfnResource | undefined, acknowledgements: readonly NagAcknowledgement[]): void {
  if (!resource || acknowledgements.length === 0) {
    return;
  }
  // cdk-nag 2
  const existing = resource.getMetadata('cdk_nag')?.rules_to_suppress ?? [];
  const rules = acknowledgements.flatMap(({ ids, reason, findings }) => ids.map(id => ({
    id,
    reason,
    ...findings ? { applies_to: findings.map(regex => ({ regex })) } : {},
  })));
  resource.addMetadata('cdk_nag', { rules_to_suppress: [...existing, ...rules] });

  // cdk-nag 3
  acknowledge(resource, acknowledgements.filter(a => !a.findings).flatMap(({ ids, reason }) => ids.map(id => ({ id, reason }))));
  const granular = acknowledgements.filter(a => a.findings);
  if (granular.length > 0) {
    // Once the app is complete: a role's default policy grows until then.
    resource.node.addValidation({
      validate: () => {
        const document = Stack.of(resource).resolve((resource as iam.CfnPolicy).policyDocument);
        const found = [...wildcardFindings(document?.Statement ?? []), ...managedPolicyFindings(resource)];
        acknowledge(resource, granular.flatMap(({ ids, reason, findings }) => {
          const patterns = findings!.map(asRegExp);
          return found.filter(f => patterns.some(pattern => pattern.test(f))).flatMap(finding => ids.map(id => ({ id: `${id}[${finding}]`, reason })));
        }));
        return [];
      },
    });
  }
}

/** A pattern of cdk-nag 2's `applies_to` (`/<regex>/<flags>`) as a RegExp. */
function asRegExp(pattern: string): RegExp {
  const [, source, flags] = /^\/(.*)\/([a-z]*)$/s.exec(pattern) ?? [];
  if (source === undefined) {
    throw new Error(`Not a cdk-nag pattern (/<regex>/): ${pattern}`);
  }
  return new RegExp(source, flags);
}

/** The metadata type of aws-cdk-lib's `Validations` acknowledgements (`Validations.ACKNOWLEDGED_RULES_METADATA_KEY`). */
const ACKNOWLEDGED_RULES_METADATA = 'aws:cdk:acknowledged-rules';

/** The part of aws-cdk-lib's `Validations` (2.257 and later) the library uses; absent from older versions. */
interface ValidationsApi {
  of(scope: IConstruct): { acknowledge(...rules: Array<{ id: string; reason: string }>): void };
}

/**
 * Acknowledges `rules` on `scope` for cdk-nag 3, in one call (aws-cdk-lib 2.257 records every
 * acknowledgement made so far again on each call).
 */
export function acknowledge(scope: IConstruct, rules: Array<{ id: string; reason: string }>): void {
  if (rules.length === 0) {
    return;
  }
  const validations = (core as unknown as { Validations?: ValidationsApi }).Validations;
  if (validations) {
    try {
      validations.of(scope).acknowledge(...rules);
      return;
    } catch {
      // aws-cdk-lib 2.257 to 2.268 refuse ids with '::' (granular findings): write what later versions write.
    }
  }
  scope.node.addMetadata(ACKNOWLEDGED_RULES_METADATA, Object.fromEntries(rules.map(({ id, reason }) => [id, reason])));
}

/**
 * The `AwsSolutions-IAM5` findings of `statements` (resolved), named as cdk-nag names them: of each Allow statement, `Action::<action>` for each action with a wildcard, and
 * `Resource::<resource>` for each resource with a wildcard once rendered (`renderedAsNag`).
 */
function wildcardFindings(statements: ReadonlyArray<Record<string, unknown>>): string[] {
  const findings = new Set<string>();
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') {
      continue;
    }
    for (const action of [statement.Action].flat()) {
      if (typeof action === 'string' && action.includes('*')) {
        findings.add(`Action::${action}`);
      }
    }
    for (const resource of [statement.Resource].flat()) {
      const rendered = renderedAsNag(resource);
      if (rendered.includes('*')) {
        findings.add(`Resource::${rendered}`);
      }
    }
  }
  return [...findings];
}

/**
 * The `AwsSolutions-IAM4` findings of a role, named as cdk-nag names them: `Policy::<ARN>` for each
 * AWS managed policy (an ARN with `:iam::aws:`) once rendered (`renderedAsNag`).
 */
function managedPolicyFindings(resource: CfnResource): string[] {
  if (resource.cfnResourceType !== iam.CfnRole.CFN_RESOURCE_TYPE_NAME) {
    return [];
  }
  const arns: unknown[] = Stack.of(resource).resolve((resource as iam.CfnRole).managedPolicyArns) ?? [];
  return arns.map(renderedAsNag).filter(arn => arn.includes(':iam::aws:')).map(arn => `Policy::${arn}`);
}

/**
 * A template value as cdk-nag writes it in a finding id (its `flattenCfnReference`, in
 * cdklabs/cdk-nag `src/utils/flatten-cfn-reference.ts`, the same in cdk-nag 2 and 3): a string
 * with `${` as `<` and `}` as `>`; `Fn::Join` joined; `Fn::Sub` and `Fn::ImportValue` as their
 * argument; `Fn::GetAtt` as `<Name.Attribute>`; `Ref` as `<Name>`; anything else as its JSON.
 */
export function renderedAsNag(value: unknown): string {
  if (value === undefined) {
    return '';
  }
  if (typeof value === 'string') {
    return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  }
  const fn = value as Record<string, any>;
  if (fn['Fn::Join']) {
    const [delimiter, items] = fn['Fn::Join'];
    return (items as unknown[]).map(renderedAsNag).join(delimiter);
  }
  if (fn['Fn::Sub']) {
    return renderedAsNag(fn['Fn::Sub']);
  }
  if (fn['Fn::GetAtt']) {
    const [resource, attribute] = fn['Fn::GetAtt'];
    return `<${renderedAsNag(resource)}.${renderedAsNag(attribute)}>`;
  }
  if (fn['Fn::ImportValue']) {
    return renderedAsNag(fn['Fn::ImportValue']);
  }
  if (fn.Ref) {
    return `<${renderedAsNag(fn.Ref)}>`;
  }
  return JSON.stringify(value);
}
