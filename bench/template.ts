/**
 * Template size metrics: every size is the byte length of the compact JSON
 * (`JSON.stringify(template)`, no indentation) of the synthesized template.
 */
import { CfnResourceJson, CfnTemplate, STACK_NAME } from './stacks';

/** Bytes of the compact JSON of `value`. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** JSON with object keys sorted, to compare documents whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Bytes one `"key":value,` member of an object takes in compact JSON. */
export function memberBytes(key: string, value: unknown): number {
  return value === undefined ? 0 : jsonBytes(key) + 1 + jsonBytes(value) + 1;
}

/**
 * The template without what the CDK CLI adds by default (path and asset metadata, the
 * CDKMetadata resource), to show how much of a size is metadata.
 */
export function withoutCliMetadata(template: CfnTemplate): CfnTemplate {
  const resources: Record<string, CfnResourceJson> = {};
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type === 'AWS::CDK::Metadata') {
      continue;
    }
    const { Metadata: metadata, ...rest } = resource;
    const kept = Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => !key.startsWith('aws:cdk:path') && !key.startsWith('aws:asset:')));
    resources[logicalId] = Object.keys(kept).length > 0 ? { ...rest, Metadata: kept } : rest;
  }
  const copy: Record<string, unknown> = { ...template, Resources: resources };
  if (copy.Conditions && typeof copy.Conditions === 'object') {
    const conditions = Object.fromEntries(Object.entries(copy.Conditions as Record<string, unknown>).filter(([key]) => key !== 'CDKMetadataAvailable'));
    copy.Conditions = Object.keys(conditions).length > 0 ? conditions : undefined;
  }
  return copy as CfnTemplate;
}

/** The construct path CDK recorded for a resource (requires path metadata). */
export function resourcePath(resource: CfnResourceJson): string {
  const value = resource.Metadata?.['aws:cdk:path'];
  if (typeof value !== 'string') {
    throw new Error(`resource of type ${resource.Type} has no aws:cdk:path metadata; the benchmark synthesizes with path metadata on`);
  }
  return value;
}

const ASSOCIATION_PATH = new RegExp(`^${STACK_NAME}/(Assoc\\d{4})/`);

/** The association (`Assoc0042`) a resource belongs to, or undefined for shared resources. */
export function associationOf(resource: CfnResourceJson): string | undefined {
  return ASSOCIATION_PATH.exec(resourcePath(resource))?.[1];
}

/** Size and resource count of a template. */
export interface TemplateSize {
  readonly bytes: number;
  readonly bytesWithoutMetadata: number;
  readonly resources: number;
}

export function templateSize(template: CfnTemplate): TemplateSize {
  return {
    bytes: jsonBytes(template),
    bytesWithoutMetadata: jsonBytes(withoutCliMetadata(template)),
    resources: Object.keys(template.Resources).length,
  };
}

/** Per-association cost (slope between two N) and fixed per-stack overhead. */
export interface ScaleModel {
  readonly bytesPerAssociation: number;
  readonly bytesWithoutMetadataPerAssociation: number;
  readonly resourcesPerAssociation: number;
  /** size(N=1) less one association's share. */
  readonly fixedBytes: number;
  readonly fixedBytesWithoutMetadata: number;
  readonly fixedResources: number;
}

/**
 * Per association = (size(high) - size(low)) / (high - low); fixed overhead = size(1) less one
 * association's share.
 */
export function scaleModel(one: TemplateSize, low: { n: number; size: TemplateSize }, high: { n: number; size: TemplateSize }): ScaleModel {
  const span = high.n - low.n;
  const slope = (key: keyof TemplateSize) => (high.size[key] - low.size[key]) / span;
  const bytesPerAssociation = slope('bytes');
  const bytesWithoutMetadataPerAssociation = slope('bytesWithoutMetadata');
  const resourcesPerAssociation = slope('resources');
  return {
    bytesPerAssociation,
    bytesWithoutMetadataPerAssociation,
    resourcesPerAssociation,
    fixedBytes: one.bytes - bytesPerAssociation,
    fixedBytesWithoutMetadata: one.bytesWithoutMetadata - bytesWithoutMetadataPerAssociation,
    fixedResources: one.resources - resourcesPerAssociation,
  };
}

/** The resources of a template that belong to no association, with their entry sizes. */
export function sharedResources(template: CfnTemplate): { logicalId: string; type: string; path: string; bytes: number }[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => associationOf(resource) === undefined)
    .map(([logicalId, resource]) => ({ logicalId, type: resource.Type, path: resourcePath(resource), bytes: memberBytes(logicalId, resource) }));
}

/** One line of the per-association byte breakdown. */
export interface BreakdownLine {
  /** For example `AWS::IAM::Role .Properties.Description`. */
  readonly item: string;
  readonly constructBytes: number;
  readonly baselineBytes: number;
  /** A part of the line before it (not to be added to the sum). */
  readonly detail?: boolean;
}

/** The resources of one association, keyed by the kind of resource ('role' or 'association'). */
function associationResources(template: CfnTemplate, id: string): Map<'role' | 'association', { logicalId: string; resource: CfnResourceJson }> {
  const found = new Map<'role' | 'association', { logicalId: string; resource: CfnResourceJson }>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (associationOf(resource) !== id) {
      continue;
    }
    const kind = resource.Type === 'AWS::IAM::Role' ? 'role' : 'association';
    if (found.has(kind)) {
      throw new Error(`association ${id} has more than one ${kind} resource (${found.get(kind)!.logicalId}, ${logicalId}); update bench/template.ts`);
    }
    found.set(kind, { logicalId, resource });
  }
  return found;
}

/**
 * Where the bytes of one association go, construct against baseline: every member of the
 * association's resources (resource level and `Properties`) whose size differs, then the growth of
 * the shared resources per association (between the two N). Lines whose sizes are equal are
 * summed into one "identical members" line.
 */
export function perAssociationBreakdown(
  construct: { low: CfnTemplate; high: CfnTemplate },
  baseline: { low: CfnTemplate; high: CfnTemplate },
  span: number,
  sampleId: string,
): BreakdownLine[] {
  const lines: BreakdownLine[] = [];
  let identical = 0;
  const c = associationResources(construct.high, sampleId);
  const b = associationResources(baseline.high, sampleId);
  for (const kind of ['role', 'association'] as const) {
    const cr = c.get(kind);
    const br = b.get(kind);
    const label = kind === 'role' ? 'role' : 'association resource';
    if (!cr || !br) {
      lines.push({ item: `${label} (whole)`, constructBytes: cr ? memberBytes(cr.logicalId, cr.resource) : 0, baselineBytes: br ? memberBytes(br.logicalId, br.resource) : 0 });
      continue;
    }
    // An object member `"key":{m1,...,mk},` takes jsonBytes(key) + 3 bytes (colon, braces) plus
    // memberBytes() of each of its members (each counted with a comma, the last one standing in
    // for the comma after the closing brace).
    const frame = (logicalId: string) => jsonBytes(logicalId) + 3;
    const cf = frame(cr.logicalId);
    const bf = frame(br.logicalId);
    if (cf === bf) identical += cf; else lines.push({ item: `${label} logical id`, constructBytes: cf, baselineBytes: bf });
    const compare = (where: string, cObj: Record<string, unknown>, bObj: Record<string, unknown>) => {
      for (const key of new Set([...Object.keys(cObj), ...Object.keys(bObj)])) {
        if (key === 'Properties' && where === '') {
          const cp = (cObj.Properties ?? {}) as Record<string, unknown>;
          const bp = (bObj.Properties ?? {}) as Record<string, unknown>;
          identical += frame('Properties');
          compare('.Properties', cp, bp);
          continue;
        }
        const cb = memberBytes(key, cObj[key]);
        const bb = memberBytes(key, bObj[key]);
        if (cb === bb) identical += cb; else lines.push({ item: `${label} ${where ? `${where.slice(1)}.` : ''}${key}`, constructBytes: cb, baselineBytes: bb });
      }
    };
    compare('', cr.resource as Record<string, unknown>, br.resource as Record<string, unknown>);
  }
  lines.push({ item: 'identical members of the two resources (sum)', constructBytes: identical, baselineBytes: identical });

  const sharedBytes = (template: CfnTemplate) => sharedResources(template).reduce((sum, r) => sum + r.bytes, 0);
  const cs = (sharedBytes(construct.high) - sharedBytes(construct.low)) / span;
  const bs = (sharedBytes(baseline.high) - sharedBytes(baseline.low)) / span;
  lines.push({ item: 'shared resources, growth per association', constructBytes: cs, baselineBytes: bs });

  // Where that growth is, by shared resource (construct only; the baseline has none).
  const before = new Map(sharedResources(construct.low).map(r => [r.logicalId, r.bytes]));
  for (const r of sharedResources(construct.high)) {
    const growth = (r.bytes - (before.get(r.logicalId) ?? 0)) / span;
    if (Math.abs(growth) >= 0.5) {
      lines.push({ item: `of which ${r.type} ${r.path.replace(`${STACK_NAME}/`, '')}`, constructBytes: growth, baselineBytes: 0, detail: true });
    }
  }
  return lines;
}

/** IAM's limit on a managed policy document, in characters without whitespace. */
export const IAM_MANAGED_POLICY_LIMIT = 6_144;
/** IAM's limit on the inline policies of a role, together, in characters without whitespace. */
export const IAM_INLINE_ROLE_POLICIES_LIMIT = 10_240;

/**
 * Resolves a value as CloudFormation would for the benchmark's stack: `Fn::GetAtt [role, Arn]` to
 * the ARN of a role with a CloudFormation-generated name (`<stack>-<logical id>` cut to 51
 * characters, a dash and 12 random characters: at most 64), `Ref AWS::Partition` to `aws`,
 * `Fn::Join` joined. Other intrinsics stay as they are.
 */
export function resolveForDeploy(template: CfnTemplate, value: unknown, account: string): unknown {
  if (Array.isArray(value)) {
    return value.map(v => resolveForDeploy(template, v, account));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const object = value as Record<string, unknown>;
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && template.Resources[getAtt[0] as string]?.Type === 'AWS::IAM::Role') {
    return `arn:aws:iam::${account}:role/${`${STACK_NAME}-${getAtt[0] as string}`.slice(0, 51)}-ABCDEFGHIJKL`;
  }
  if (object.Ref === 'AWS::Partition') {
    return 'aws';
  }
  const join = object['Fn::Join'];
  if (Array.isArray(join)) {
    const [separator, parts] = join as [string, unknown[]];
    const resolved = parts.map(p => resolveForDeploy(template, p, account));
    if (resolved.every(p => typeof p === 'string')) {
      return resolved.join(separator);
    }
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolveForDeploy(template, v, account)]));
}

/** An IAM policy of the template, with the size IAM will count once deployed. */
export interface DeployedPolicySize {
  readonly logicalId: string;
  readonly type: string;
  readonly path: string;
  /** Compact JSON of the resolved policy document. */
  readonly chars: number;
  readonly holdsPassRole: boolean;
}

export function deployedPolicySizes(template: CfnTemplate, account: string): DeployedPolicySize[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
    .map(([logicalId, r]) => {
      const document = r.Properties?.PolicyDocument as { Statement?: { Action?: unknown }[] } | undefined;
      return {
        logicalId,
        type: r.Type,
        path: resourcePath(r).replace(`${STACK_NAME}/`, ''),
        chars: JSON.stringify(resolveForDeploy(template, document, account)).length,
        holdsPassRole: (document?.Statement ?? []).some(s => [s.Action].flat().includes('iam:PassRole')),
      };
    });
}

/** Characters of the resolved `iam:PassRole` statement(s), as IAM counts them. */
export function passRoleStatementChars(template: CfnTemplate, account: string): number {
  let chars = 0;
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') {
      continue;
    }
    const statements = (r.Properties?.PolicyDocument as { Statement?: { Action?: unknown }[] } | undefined)?.Statement ?? [];
    for (const statement of statements) {
      if ([statement.Action].flat().includes('iam:PassRole')) {
        chars += JSON.stringify(resolveForDeploy(template, statement, account)).length;
      }
    }
  }
  return chars;
}

/** The IAM size limit that applies to a policy resource. */
export function iamLimitOf(type: string): number {
  return type === 'AWS::IAM::ManagedPolicy' ? IAM_MANAGED_POLICY_LIMIT : IAM_INLINE_ROLE_POLICIES_LIMIT;
}
