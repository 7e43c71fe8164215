import { AspectPriority, Aspects, IAspect, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { NAG_PACK, acknowledge, renderedAsNag } from '../../private/nag';

/*
 * cdk-nag's AwsSolutions-IAM5 reports each wildcard of a policy once (`Resource::<resource>`,
 * `Action::<action>`), whoever wrote the statement. A permission set's statements land in the
 * policy of the role whose credentials the pods receive, next to the user's own grants. So a
 * finding is acknowledged only when every statement of the policy that produces it is a
 * permission set's upstream-required wildcard: each (action, resource, condition) that renders to
 * the finding must be one the catalog wrote with a reason. A user's grant that produces the same
 * finding leaves it reported, and so does a wildcard the user chose (every hosted zone, a prefix).
 *
 * cdk-nag 2 runs as aspects and reads a policy when it visits it: an aspect of the catalog visits
 * it just before (a lower priority) and writes the acknowledgements of the document as it is then.
 * cdk-nag 3 reads the final document after synthesis: a validation writes them from that document.
 */

/** Between aws-cdk-lib's mutating aspects (which land grants) and cdk-nag 2's packs (the default priority). */
const ACKNOWLEDGING_PRIORITY = (AspectPriority.MUTATING + AspectPriority.DEFAULT) / 2;

const IAM5 = `${NAG_PACK.AWS_SOLUTIONS}-IAM5`;

/** A statement a permission set granted, with why its wildcards are there. */
interface Wildcards {
  readonly statement: iam.PolicyStatement;
  readonly reason: string;
}

const catalogByRoot = new WeakMap<IConstruct, Wildcards[]>();

/** Records the upstream-required wildcards of a statement granted under `scope`'s app. */
export function recordWildcards(scope: IConstruct, statement: iam.PolicyStatement, reason: string): void {
  const root = scope.node.root;
  let recorded = catalogByRoot.get(root);
  if (!recorded) {
    recorded = [];
    catalogByRoot.set(root, recorded);
    Aspects.of(root).add(new AcknowledgeCatalogWildcards(recorded), { priority: ACKNOWLEDGING_PRIORITY });
  }
  recorded.push({ statement, reason });
}

class AcknowledgeCatalogWildcards implements IAspect {
  /** The cdk-nag 2 suppressions written on each policy, replaced when the app is synthesized again. */
  private readonly suppressions = new WeakMap<IConstruct, unknown[]>();
  /** The cdk-nag 3 ids acknowledged on each policy, each once. */
  private readonly acknowledged = new WeakMap<IConstruct, Set<string>>();

  constructor(private readonly recorded: Wildcards[]) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy || node instanceof iam.CfnManagedPolicy)) {
      return;
    }
    // cdk-nag 2: the document as its aspects are about to see it.
    const previous = this.suppressions.get(node) ?? [];
    const existing: unknown[] = (node.getMetadata('cdk_nag')?.rules_to_suppress ?? []).filter((rule: unknown) => !previous.includes(rule));
    const ours = byReason(coveredFindings(node, this.recorded)).map(([reason, findings]) => ({ id: IAM5, reason, applies_to: findings }));
    this.suppressions.set(node, ours);
    if (ours.length > 0 || previous.length > 0) {
      node.addMetadata('cdk_nag', { rules_to_suppress: [...existing, ...ours] });
    }
    // cdk-nag 3: the final document.
    if (!this.acknowledged.has(node)) {
      const done = new Set<string>();
      this.acknowledged.set(node, done);
      node.node.addValidation({
        validate: () => {
          const rules = [...coveredFindings(node, this.recorded)]
            .map(([finding, reason]) => ({ id: `${IAM5}[${finding}]`, reason }))
            .filter(rule => !done.has(rule.id));
          rules.forEach(rule => done.add(rule.id));
          acknowledge(node, rules);
          return [];
        },
      });
    }
  }
}

/** Findings that share a reason, in one suppression each. */
function byReason(findings: Map<string, string>): Array<[string, string[]]> {
  const grouped = new Map<string, string[]>();
  for (const [finding, reason] of findings) {
    grouped.set(reason, [...grouped.get(reason) ?? [], finding]);
  }
  return [...grouped];
}

/** A resolved statement of a policy document, as arrays. */
interface Resolved {
  readonly effect: unknown;
  readonly actions: unknown[];
  readonly resources: unknown[];
  readonly condition: string;
  /** NotAction, NotResource or Principal: a statement the catalog never writes. */
  readonly other: boolean;
}

function resolvedStatements(stack: Stack, document: unknown): Resolved[] {
  const resolved = stack.resolve(document) as { Statement?: Array<Record<string, unknown>> } | undefined;
  return (resolved?.Statement ?? []).map(s => ({
    effect: s.Effect,
    actions: [s.Action].flat().filter(a => a !== undefined),
    resources: [s.Resource].flat().filter(r => r !== undefined),
    condition: canonical(s.Condition ?? {}),
    other: s.NotAction !== undefined || s.NotResource !== undefined || s.Principal !== undefined || s.NotPrincipal !== undefined,
  }));
}

/**
 * The IAM5 findings of `policy` that only the catalog's upstream-required wildcards produce, with
 * their reasons: for each finding, every (action, resource, condition) of the policy's Allow
 * statements that renders to it is one the catalog wrote with a reason.
 */
function coveredFindings(policy: iam.CfnPolicy | iam.CfnManagedPolicy, recorded: Wildcards[]): Map<string, string> {
  const stack = Stack.of(policy);
  const catalog = new Map<string, string>();
  for (const { statement, reason } of recorded) {
    for (const s of resolvedStatements(stack, { Statement: [statement.toStatementJson()] })) {
      for (const action of s.actions) {
        for (const resource of s.resources) {
          catalog.set(pair(action, resource, s.condition), reason);
        }
      }
    }
  }
  if (catalog.size === 0) {
    return new Map();
  }

  // For each finding: the reasons of its producers, or undefined once a producer is not the catalog's.
  const producers = new Map<string, Set<string> | undefined>();
  const produce = (finding: string, reason: string | undefined) => {
    const reasons = producers.has(finding) ? producers.get(finding) : new Set<string>();
    producers.set(finding, reason !== undefined && reasons ? reasons.add(reason) : undefined);
  };
  for (const s of resolvedStatements(stack, policy.policyDocument)) {
    if (s.effect !== 'Allow') {
      continue;
    }
    for (const action of s.actions) {
      if (typeof action === 'string' && action.includes('*')) {
        for (const resource of s.resources.length > 0 ? s.resources : [undefined]) {
          produce(`Action::${action}`, s.other ? undefined : catalog.get(pair(action, resource, s.condition)));
        }
      }
    }
    for (const resource of s.resources) {
      const rendered = renderedAsNag(resource);
      if (rendered.includes('*')) {
        for (const action of s.actions.length > 0 ? s.actions : [undefined]) {
          produce(`Resource::${rendered}`, s.other ? undefined : catalog.get(pair(action, resource, s.condition)));
        }
      }
    }
  }
  const covered = new Map<string, string>();
  for (const [finding, reasons] of producers) {
    if (reasons && reasons.size > 0) {
      covered.set(finding, [...reasons].sort().join(' '));
    }
  }
  return covered;
}

function pair(action: unknown, resource: unknown, condition: string): string {
  return JSON.stringify([action, canonical(resource), condition]);
}

/** JSON with sorted keys, and one-element arrays as their element (the forms a document may take). */
function canonical(value: unknown): string {
  const normal = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      return v.length === 1 ? normal(v[0]) : v.map(normal);
    }
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map(k => [k, normal((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify(normal(value));
}

