/**
 * Template size metrics: every size is the byte length of the compact JSON
 * (`JSON.stringify(template)`, no indentation) of the synthesized template.
 */
import { ACCOUNT, CfnResourceJson, CfnTemplate, REGION, STACK_ID, STACK_NAME } from './stacks';

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

/** The longest physical name CloudFormation generates per resource type (the service's name limit). */
const GENERATED_NAME_LIMIT: Record<string, number> = {
  'AWS::IAM::Role': 64,
  'AWS::Lambda::Function': 64,
  'AWS::Events::Rule': 64,
  'AWS::Logs::LogGroup': 512,
};

/**
 * The name CloudFormation generates for a resource of `type` without an explicit name:
 * `<stack>-<logical id>` cut so that, with a dash and 12 random characters, it fits the type's limit.
 */
function generatedName(logicalId: string, type: string): string {
  const limit = GENERATED_NAME_LIMIT[type];
  if (limit === undefined) {
    throw new Error(`bench/template.ts does not know how CloudFormation names a ${type} (${logicalId}); add it to GENERATED_NAME_LIMIT`);
  }
  return `${`${STACK_NAME}-${logicalId}`.slice(0, limit - 13)}-ABCDEFGHIJKL`;
}

/** Pseudo parameters as CloudFormation resolves them for the benchmark's stack. */
const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': STACK_NAME,
  'AWS::StackId': STACK_ID,
};

/**
 * Resolves a value as CloudFormation would for the benchmark's stack (its id is `STACK_ID`):
 * pseudo parameters, `Ref` and `Fn::GetAtt [.., Arn]` of the resources the provider's policies name
 * (roles with their path, functions, log groups, rules, with CloudFormation-generated names at
 * their longest), `Fn::Join`, `Fn::Split` and `Fn::Select`. Any other intrinsic is an error, so a
 * size is never measured on an unresolved document.
 */
export function resolveForDeploy(template: CfnTemplate, value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(v => resolveForDeploy(template, v));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  const intrinsic = keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::')) ? keys[0] : undefined;
  if (!intrinsic) {
    return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolveForDeploy(template, v)]));
  }
  const argument = object[intrinsic];
  const fail = (why: string): never => {
    throw new Error(`bench/template.ts cannot resolve ${JSON.stringify(object)}: ${why}`);
  };
  const asString = (v: unknown): string => (typeof v === 'string' ? v : fail(`${JSON.stringify(v)} is not a string`));
  switch (intrinsic) {
    case 'Ref': {
      const name = asString(argument);
      if (name in PSEUDO_PARAMETERS) return PSEUDO_PARAMETERS[name];
      const resource = template.Resources[name] ?? fail('no such resource');
      return physicalName(template, name, resource);
    }
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = argument as [string, string];
      const resource = template.Resources[logicalId] ?? fail('no such resource');
      return attribute === 'Arn' ? arnOf(template, logicalId, resource) : fail(`attribute ${attribute}`);
    }
    case 'Fn::Join': {
      const [separator, parts] = argument as [string, unknown[]];
      return (resolveForDeploy(template, parts) as unknown[]).map(asString).join(separator);
    }
    case 'Fn::Split': {
      const [separator, source] = argument as [string, unknown];
      return asString(resolveForDeploy(template, source)).split(separator);
    }
    case 'Fn::Select': {
      const [index, list] = argument as [number | string, unknown];
      const items = resolveForDeploy(template, list);
      return Array.isArray(items) && items[Number(index)] !== undefined ? items[Number(index)] : fail('index out of range');
    }
    default:
      return fail('unknown intrinsic');
  }
}

/** The physical name (what `Ref` returns) of a role, function, log group or rule. */
function physicalName(template: CfnTemplate, logicalId: string, resource: CfnResourceJson): string {
  const explicit = { 'AWS::IAM::Role': 'RoleName', 'AWS::Lambda::Function': 'FunctionName', 'AWS::Logs::LogGroup': 'LogGroupName', 'AWS::Events::Rule': 'Name' }[resource.Type];
  const given = explicit ? resource.Properties?.[explicit] : undefined;
  return given !== undefined ? String(resolveForDeploy(template, given)) : generatedName(logicalId, resource.Type);
}

/** What `Fn::GetAtt [logicalId, Arn]` returns once deployed. */
function arnOf(template: CfnTemplate, logicalId: string, resource: CfnResourceJson): string {
  const name = physicalName(template, logicalId, resource);
  switch (resource.Type) {
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${ACCOUNT}:role${String(resolveForDeploy(template, resource.Properties?.Path ?? '/'))}${name}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`;
    case 'AWS::Events::Rule':
      return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`;
    default:
      throw new Error(`bench/template.ts does not know the ARN of a ${resource.Type} (${logicalId})`);
  }
}

/** Characters IAM counts for a policy document: its JSON without whitespace (outside strings), resolved. */
function deployedChars(template: CfnTemplate, document: unknown): number {
  return JSON.stringify(resolveForDeploy(template, document)).length;
}

type PolicyStatementJson = { Action?: unknown };

function statementsOf(document: unknown): PolicyStatementJson[] {
  const statements = (document as { Statement?: unknown } | undefined)?.Statement ?? [];
  return (Array.isArray(statements) ? statements : [statements]) as PolicyStatementJson[];
}

function holdsPassRole(statement: PolicyStatementJson): boolean {
  return [statement.Action].flat().includes('iam:PassRole');
}

/** An IAM policy of the template, with the size IAM will count once deployed. */
export interface DeployedPolicySize {
  readonly logicalId: string;
  readonly type: string;
  readonly path: string;
  /** Compact JSON of the resolved policy document. */
  readonly chars: number;
  readonly holdsPassRole: boolean;
  /** Logical ids of the roles an `AWS::IAM::Policy` is attached to (`Roles`), or a role's own inline policy. */
  readonly roles: string[];
  /** Bytes of the policy's resource entry in the template. */
  readonly templateBytes: number;
}

/** The policies of the template: `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` and roles' inline `Policies`. */
export function deployedPolicySizes(template: CfnTemplate): DeployedPolicySize[] {
  const sizes: DeployedPolicySize[] = [];
  for (const [logicalId, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      const document = r.Properties?.PolicyDocument;
      const roles = ((r.Properties?.Roles ?? []) as unknown[]).map(role => {
        const ref = (role as { Ref?: unknown }).Ref;
        if (typeof ref !== 'string' || template.Resources[ref]?.Type !== 'AWS::IAM::Role') {
          throw new Error(`${logicalId} names a role the benchmark cannot tell (${JSON.stringify(role)}); update bench/template.ts`);
        }
        return ref;
      });
      sizes.push({
        logicalId,
        type: r.Type,
        path: resourcePath(r).replace(`${STACK_NAME}/`, ''),
        chars: deployedChars(template, document),
        holdsPassRole: statementsOf(document).some(holdsPassRole),
        roles,
        templateBytes: memberBytes(logicalId, r),
      });
    } else if (r.Type === 'AWS::IAM::Role') {
      for (const [i, inline] of ((r.Properties?.Policies ?? []) as { PolicyName?: string; PolicyDocument?: unknown }[]).entries()) {
        sizes.push({
          logicalId: `${logicalId}.Policies[${i}]`,
          type: 'inline',
          path: `${resourcePath(r).replace(`${STACK_NAME}/`, '')} ${inline.PolicyName ?? i}`,
          chars: deployedChars(template, inline.PolicyDocument),
          holdsPassRole: statementsOf(inline.PolicyDocument).some(holdsPassRole),
          roles: [logicalId],
          templateBytes: 0,
        });
      }
    }
  }
  return sizes;
}

/** The inline policies of one role, together, against IAM's per-role limit. */
export interface RolePolicies {
  readonly roleLogicalId: string;
  readonly rolePath: string;
  readonly policies: DeployedPolicySize[];
  readonly chars: number;
}

/** Per role: every `AWS::IAM::Policy` attached to it and its own inline policies, summed as IAM sums them. */
export function rolePolicyTotals(template: CfnTemplate, policies: DeployedPolicySize[] = deployedPolicySizes(template)): RolePolicies[] {
  const byRole = new Map<string, DeployedPolicySize[]>();
  for (const policy of policies.filter(p => p.type !== 'AWS::IAM::ManagedPolicy')) {
    for (const role of policy.roles) {
      byRole.set(role, [...(byRole.get(role) ?? []), policy]);
    }
  }
  return [...byRole.entries()].map(([roleLogicalId, attached]) => ({
    roleLogicalId,
    rolePath: resourcePath(template.Resources[roleLogicalId]).replace(`${STACK_NAME}/`, ''),
    policies: attached,
    chars: attached.reduce((sum, p) => sum + p.chars, 0),
  }));
}

/** Characters of the resolved `iam:PassRole` statement(s), as IAM counts them. */
export function passRoleStatementChars(template: CfnTemplate): number {
  let chars = 0;
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') {
      continue;
    }
    for (const statement of statementsOf(r.Properties?.PolicyDocument)) {
      if (holdsPassRole(statement)) {
        chars += JSON.stringify(resolveForDeploy(template, statement)).length;
      }
    }
  }
  return chars;
}
