/**
 * What PodIdentityAssociation costs against what a user writes by hand (an `iam.Role` plus a
 * `CfnPodIdentityAssociation`): synth time, template size, the handler bundle, API calls per
 * lifecycle event and a rate-limited burst, in one run.
 *
 *   npx ts-node --project bench/tsconfig.json bench/run.ts [--markdown <file>] [--quick]
 *
 * Prints one table (and notes) to stdout, progress to stderr; `--markdown` also writes them as
 * Markdown. `--quick` takes fewer samples. Not part of the tests.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BundleInfo, ColdLoad, HANDLER_SDK_CLIENTS, bundleInfo, measureColdLoad } from './bundle';
import { BurstResult, measureBurst } from './burst';
import { LifecycleEvent, LifecycleResult, measureLifecycle } from './lifecycle';
import { SERVICES, Service } from './local-aws';
import { STACK_ID, Variant, VARIANTS, associationId, buildAndSynth, givenRolesBuilder, variantBuilder } from './stacks';
import { bytes, fmt, kb, ms, ratio } from './stats';
import { InProcessTimes, SynthTimes, measureSynthInChildren, measureSynthInProcess } from './synth';
import {
  BreakdownLine,
  DeployedPolicySize,
  IAM_INLINE_ROLE_POLICIES_LIMIT,
  IAM_MANAGED_POLICY_LIMIT,
  RolePolicies,
  ScaleModel,
  canonicalJson,
  deployedPolicySizes,
  passRoleStatementChars,
  rolePolicyTotals,
  TemplateSize,
  perAssociationBreakdown,
  scaleModel,
  sharedResources,
  templateSize,
} from './template';

const COUNTS = [1, 50, 200] as const;
const BURST_ASSOCIATIONS = 200;
const BURST_RATE_PER_SECOND = 10;

const TARGET = {
  bytesRatio: 1.25,
  synthRatio: 1.5,
  burstRatio: 1.5,
  bundleBytes: 600_000,
} as const;

interface Options {
  readonly markdown?: string;
  readonly quick: boolean;
}

interface Plan {
  /** Fresh-process synth samples per N and variant. */
  readonly synthRuns: number;
  readonly warmupRuns: number;
  readonly warmRuns: number;
  readonly coldLoadRuns: number;
  /** Bursts; the one with the median total time is reported (200 clients contending for a rate limit vary from run to run). */
  readonly burstRuns: number;
}

function parseArgs(argv: readonly string[]): Options {
  let markdown: string | undefined;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      // `npx projen bench -- --markdown <file>` passes the separator through: nothing to do.
      continue;
    }
    if (arg === '--quick') {
      quick = true;
    } else if (arg === '--markdown') {
      markdown = argv[++i];
      if (!markdown || markdown.startsWith('--')) {
        throw new Error('--markdown needs a file name, for example --markdown bench/RESULTS.md');
      }
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npx ts-node --project bench/tsconfig.json bench/run.ts [--markdown <file>] [--quick]\n');
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)}; usage: bench/run.ts [--markdown <file>] [--quick]`);
    }
  }
  return { markdown, quick };
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

interface TemplateResults {
  readonly sizes: Record<Variant, Map<number, TemplateSize>>;
  readonly models: Record<Variant, ScaleModel>;
  readonly breakdown: BreakdownLine[];
  readonly providerResources: { type: string; path: string; bytes: number }[];
  /** The construct's IAM policies at the largest N, resolved as deployed. */
  readonly policies: DeployedPolicySize[];
  /** The same, summed per role (IAM's limit on a role's inline policies is on their sum). */
  readonly rolePolicies: RolePolicies[];
  /** Resolved `iam:PassRole` statements: characters at the largest N, and growth per association. */
  readonly passRole: { chars: number; perAssociation: number };
  /** Roles given as `role`: what each adds to the handler role's policies. */
  readonly givenRoles: GivenRoles;
  /** Whether the created roles' trust policies are identical, and both if not. */
  readonly trust: { identical: boolean; construct: unknown; baseline: unknown };
}

/** What roles given as `role` (one `AWS::IAM::Policy` each, attached to the handler role) cost. */
interface GivenRoles {
  readonly low: GivenRolesSample;
  readonly high: GivenRolesSample;
  /** Growth per given role of the handler role's resolved inline policies, characters. */
  readonly charsPerRole: number;
  /** Growth per given role of the template, bytes (the role's policy resource and the rest). */
  readonly policyBytesPerRole: number;
  /** Handler role policies without any given role, characters (extrapolated to N=0). */
  readonly fixedChars: number;
  /** Most given roles whose resolved policies stay within IAM's per-role limit. */
  readonly iamLimitRoles: number;
  /** Most given roles the construct synthesizes (its own size check, which errs on the large side); undefined when all up to `searchedUpTo` do. */
  readonly constructLimitRoles?: number;
  readonly searchedUpTo: number;
}

interface GivenRolesSample {
  readonly n: number;
  readonly handlerRole: RolePolicies;
  readonly policyResources: number;
  readonly policyTemplateBytes: number;
}

const HANDLER_ROLE_PATH = 'PodIdentityAssociationProvider/HandlerRole/Resource';

function handlerRoleOf(totals: RolePolicies[]): RolePolicies {
  const found = totals.find(t => t.rolePath === HANDLER_ROLE_PATH);
  if (!found) {
    throw new Error(`no policies attached to ${HANDLER_ROLE_PATH}; update bench/run.ts`);
  }
  return found;
}

/** Synthesizes N associations with given roles; undefined when the construct refuses (its policy size check). */
function synthGivenRoles(n: number): ReturnType<typeof buildAndSynth>['template'] | undefined {
  try {
    return buildAndSynth(givenRolesBuilder(), n).template;
  } catch (error) {
    if (error instanceof Error && /over IAM's limit/.test(error.message)) {
      return undefined;
    }
    throw error;
  }
}

function measureGivenRoles(maxN: number): GivenRoles {
  // The construct's own limit: the largest N it synthesizes (binary search; N=1 must work).
  let constructLimitRoles: number | undefined;
  if (!synthGivenRoles(maxN)) {
    let ok = 1;
    let refused = maxN;
    while (refused - ok > 1) {
      const mid = Math.floor((ok + refused) / 2);
      if (synthGivenRoles(mid)) ok = mid; else refused = mid;
    }
    constructLimitRoles = ok;
  }
  const sample = (n: number): GivenRolesSample => {
    const template = synthGivenRoles(n);
    if (!template) {
      throw new Error(`the construct refused ${n} given roles, below the limit the search found`);
    }
    const policies = deployedPolicySizes(template);
    const handlerRole = handlerRoleOf(rolePolicyTotals(template, policies));
    const own = handlerRole.policies.filter(p => p.type === 'AWS::IAM::Policy' && !p.path.startsWith('PodIdentityAssociationProvider/HandlerRole/'));
    return { n, handlerRole, policyResources: own.length, policyTemplateBytes: own.reduce((sum, p) => sum + p.templateBytes, 0) };
  };
  const low = sample(1);
  const high = sample(Math.min(20, constructLimitRoles ?? maxN));
  const span = high.n - low.n;
  const charsPerRole = (high.handlerRole.chars - low.handlerRole.chars) / span;
  const fixedChars = low.handlerRole.chars - charsPerRole * low.n;
  return {
    low,
    high,
    charsPerRole,
    policyBytesPerRole: (high.policyTemplateBytes - low.policyTemplateBytes) / span,
    fixedChars,
    iamLimitRoles: Math.floor((IAM_INLINE_ROLE_POLICIES_LIMIT - fixedChars) / charsPerRole),
    constructLimitRoles,
    searchedUpTo: maxN,
  };
}

function measureTemplates(): TemplateResults {
  const templates = { construct: new Map(), baseline: new Map() } as Record<Variant, Map<number, ReturnType<typeof buildAndSynth>['template']>>;
  for (const variant of VARIANTS) {
    for (const n of COUNTS) {
      templates[variant].set(n, buildAndSynth(variantBuilder(variant), n).template);
    }
  }
  const [one, low, high] = COUNTS;
  const sizes = { construct: new Map(), baseline: new Map() } as Record<Variant, Map<number, TemplateSize>>;
  for (const variant of VARIANTS) {
    for (const n of COUNTS) {
      sizes[variant].set(n, templateSize(templates[variant].get(n)!));
    }
  }
  const model = (variant: Variant) => scaleModel(
    sizes[variant].get(one)!,
    { n: low, size: sizes[variant].get(low)! },
    { n: high, size: sizes[variant].get(high)! },
  );
  const breakdown = perAssociationBreakdown(
    { low: templates.construct.get(low)!, high: templates.construct.get(high)! },
    { low: templates.baseline.get(low)!, high: templates.baseline.get(high)! },
    high - low,
    associationId(100),
  );
  const baselineShared = new Set(sharedResources(templates.baseline.get(one)!).map(r => r.path));
  const providerResources = sharedResources(templates.construct.get(one)!).filter(r => !baselineShared.has(r.path));

  const policies = deployedPolicySizes(templates.construct.get(high)!);
  const rolePolicies = rolePolicyTotals(templates.construct.get(high)!, policies);
  const passRoleHigh = passRoleStatementChars(templates.construct.get(high)!);
  const passRoleLow = passRoleStatementChars(templates.construct.get(low)!);
  const passRole = { chars: passRoleHigh, perAssociation: (passRoleHigh - passRoleLow) / (high - low) };

  const trustOf = (variant: Variant) => {
    const role = Object.values(templates[variant].get(one)!.Resources)
      .find(r => r.Type === 'AWS::IAM::Role' && String(r.Metadata?.['aws:cdk:path']).startsWith(`Bench/${associationId(0)}/`));
    return role?.Properties?.AssumeRolePolicyDocument;
  };
  const trust = { construct: trustOf('construct'), baseline: trustOf('baseline') };
  return {
    sizes,
    models: { construct: model('construct'), baseline: model('baseline') },
    breakdown,
    providerResources,
    policies,
    rolePolicies,
    passRole,
    givenRoles: measureGivenRoles(high),
    trust: { ...trust, identical: canonicalJson(trust.construct) === canonicalJson(trust.baseline) },
  };
}

interface Results {
  readonly options: Options;
  readonly plan: Plan;
  readonly startedAt: Date;
  readonly synth: SynthTimes[];
  readonly inProcess: InProcessTimes[];
  readonly templates: TemplateResults;
  readonly bundle: BundleInfo;
  /** The bundle as it was at the end of the run (another build during the run shows as another sha256). */
  readonly bundleAfter: BundleInfo;
  /** 1-minute load averages of the machine at the start and at the end (other work on it skews timings). */
  readonly loadAverage: { start: number; end: number };
  readonly coldLoad: ColdLoad;
  readonly lifecycle: LifecycleResult;
  /** The burst with the median total time. */
  readonly burst: BurstResult;
  /** Every burst, in the order they ran. */
  readonly bursts: BurstResult[];
  readonly wallMs: number;
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

interface Row {
  readonly metric: string;
  readonly construct: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  readonly met: string;
}

type TableLine = Row | { readonly section: string };

const HEADER: Row = {
  metric: 'Metric',
  construct: 'PodIdentityAssociation',
  baseline: 'Hand-written baseline',
  ratio: 'Ratio',
  target: 'Target',
  met: 'Met',
};

const yesNo = (ok: boolean) => (ok ? 'yes' : 'NO');

function tableLines(r: Results): TableLine[] {
  const lines: TableLine[] = [];
  const { plan } = r;

  lines.push({ section: `Synth: build + app.synth() (incl. staging the handler asset), fresh Node process per run, median of ${plan.synthRuns}` });
  for (const t of r.synth) {
    const value = t.totalMs.construct / t.totalMs.baseline;
    const targeted = t.n === COUNTS[COUNTS.length - 1];
    lines.push({
      metric: `N = ${t.n}`,
      construct: ms(t.totalMs.construct),
      baseline: ms(t.totalMs.baseline),
      ratio: ratio(value),
      target: targeted ? `<= ${TARGET.synthRatio.toFixed(2)}x` : '',
      met: targeted ? yesNo(value <= TARGET.synthRatio) : '',
    });
  }
  lines.push({ section: `Synth, warm: same, in one process after ${plan.warmupRuns} warm-up run(s), median of ${plan.warmRuns}` });
  for (const t of [...r.inProcess].sort((a, b) => a.n - b.n)) {
    lines.push({
      metric: `N = ${t.n}`,
      construct: ms(t.warmMs.construct),
      baseline: ms(t.warmMs.baseline),
      ratio: ratio(t.warmMs.construct / t.warmMs.baseline),
      target: '',
      met: '',
    });
  }

  const { models } = r.templates;
  const c = models.construct;
  const b = models.baseline;
  lines.push({ section: 'Template: compact JSON as `cdk synth` writes it (path + asset metadata, CDKMetadata); per association = slope N=50..200' });
  lines.push({
    metric: 'Baseline role trust = construct\'s default role trust',
    construct: '',
    baseline: '',
    ratio: '',
    target: 'identical',
    met: r.templates.trust.identical ? 'yes' : 'NO (see notes)',
  });
  lines.push({
    metric: 'Resources per association',
    construct: fmt(c.resourcesPerAssociation, 2),
    baseline: fmt(b.resourcesPerAssociation, 2),
    ratio: ratio(c.resourcesPerAssociation / b.resourcesPerAssociation),
    target: '<= baseline',
    met: yesNo(c.resourcesPerAssociation <= b.resourcesPerAssociation),
  });
  const bytesRatio = c.bytesPerAssociation / b.bytesPerAssociation;
  lines.push({
    metric: 'Bytes per association',
    construct: bytes(c.bytesPerAssociation),
    baseline: bytes(b.bytesPerAssociation),
    ratio: ratio(bytesRatio),
    target: `<= ${TARGET.bytesRatio.toFixed(2)}x`,
    met: yesNo(bytesRatio <= TARGET.bytesRatio),
  });
  lines.push({
    metric: 'Bytes per association, without CLI metadata',
    construct: bytes(c.bytesWithoutMetadataPerAssociation),
    baseline: bytes(b.bytesWithoutMetadataPerAssociation),
    ratio: ratio(c.bytesWithoutMetadataPerAssociation / b.bytesWithoutMetadataPerAssociation),
    target: '',
    met: '',
  });
  const overLimit = policyLimitProblems(r.templates);
  const handlerRole = handlerRoleOf(r.templates.rolePolicies);
  lines.push({
    metric: `Handler role's inline policies at N=${COUNTS[COUNTS.length - 1]}, resolved, together (IAM counts a role's inline policies together)`,
    construct: `${fmt(handlerRole.chars)} chars in ${fmt(handlerRole.policies.length)} ${handlerRole.policies.length === 1 ? 'policy' : 'policies'}`,
    baseline: 'none',
    ratio: '',
    target: `<= ${fmt(IAM_INLINE_ROLE_POLICIES_LIMIT)} per role`,
    met: overLimit.length === 0 ? 'yes' : 'NO (see notes)',
  });
  const given = r.templates.givenRoles;
  lines.push({
    metric: 'Each role given as `role`: handler role policy growth, resolved (one AWS::IAM::Policy per role)',
    construct: `+${fmt(given.charsPerRole, 1)} chars, +${bytes(given.policyBytesPerRole)} template`,
    baseline: 'none',
    ratio: '',
    target: '',
    met: '',
  });
  lines.push({
    metric: 'Roles given as `role` per stack, at most (distinct roles)',
    construct: given.constructLimitRoles === undefined
      ? `>= ${fmt(given.searchedUpTo)} (IAM's limit at ${fmt(given.iamLimitRoles)})`
      : `${fmt(given.constructLimitRoles)} (the construct's check); IAM's limit at ${fmt(given.iamLimitRoles)}`,
    baseline: 'no limit',
    ratio: '',
    target: '',
    met: '',
  });
  lines.push({
    metric: 'Fixed per-stack resources (N=1 less one association)',
    construct: fmt(c.fixedResources, 0),
    baseline: fmt(b.fixedResources, 0),
    ratio: `+${fmt(c.fixedResources - b.fixedResources)} (provider)`,
    target: '',
    met: '',
  });
  lines.push({
    metric: 'Fixed per-stack bytes (N=1 less one association)',
    construct: bytes(c.fixedBytes),
    baseline: bytes(b.fixedBytes),
    ratio: `+${bytes(c.fixedBytes - b.fixedBytes)} (provider)`,
    target: '',
    met: '',
  });

  const load = r.coldLoad.medianMs;
  const netBundle = load.bundle - load.empty;
  const netSdk = load['client-eks'] - load.empty;
  lines.push({ section: `Handler bundle (assets/lambda/handler/index.js); baseline column: \`@aws-sdk/client-eks\` alone; cold load = median of ${plan.coldLoadRuns} fresh \`node -e "require(...)"\`` });
  lines.push({
    metric: 'Size, minified (raw)',
    construct: `${kb(r.bundle.rawBytes)} (${bytes(r.bundle.rawBytes)})`,
    baseline: '',
    ratio: '',
    target: `<= ${kb(TARGET.bundleBytes)}`,
    met: yesNo(r.bundle.rawBytes <= TARGET.bundleBytes),
  });
  lines.push({ metric: 'Size, gzip (level 6)', construct: `${kb(r.bundle.gzipBytes)} (${bytes(r.bundle.gzipBytes)})`, baseline: '', ratio: '', target: '', met: '' });
  lines.push({
    metric: 'Cold load, less an empty `node -e ""`',
    construct: ms(netBundle),
    baseline: ms(netSdk),
    ratio: ratio(netBundle / netSdk),
    target: '',
    met: '',
  });
  lines.push({
    metric: 'Cold load CPU time (user + sys), less an empty process',
    construct: ms(r.coldLoad.medianCpuMs.bundle - r.coldLoad.medianCpuMs.empty),
    baseline: ms(r.coldLoad.medianCpuMs['client-eks'] - r.coldLoad.medianCpuMs.empty),
    ratio: ratio((r.coldLoad.medianCpuMs.bundle - r.coldLoad.medianCpuMs.empty) / (r.coldLoad.medianCpuMs['client-eks'] - r.coldLoad.medianCpuMs.empty)),
    target: '',
    met: '',
  });
  lines.push({
    metric: 'Cold load, whole process (spawn to exit)',
    construct: ms(load.bundle),
    baseline: ms(load['client-eks']),
    ratio: ratio(load.bundle / load['client-eks']),
    target: '',
    met: '',
  });
  const netClients = load['sdk-clients'] - load.empty;
  lines.push({
    metric: 'Cold load less an empty process, against the three SDK clients the handler uses (EKS, SSM, CloudFormation) loaded from node_modules',
    construct: ms(netBundle),
    baseline: ms(netClients),
    ratio: ratio(netBundle / netClients),
    target: '',
    met: '',
  });
  lines.push({ metric: 'Empty `node -e ""` process', construct: ms(load.empty), baseline: ms(load.empty), ratio: '', target: '', met: '' });

  lines.push({
    section: 'API calls per lifecycle event, happy path, at the local EKS, SSM and CloudFormation stand-ins: all calls / write calls, then per service (operations in order); one stack\'s deployments, see notes',
  });
  const shown = r.lifecycle.events.filter(e => e.shown);
  for (const e of [...shown].sort((x, y) => x.group - y.group)) {
    const targeted = e.targetWrites !== undefined;
    lines.push({
      metric: e.name,
      construct: e.error ? `FAILED: ${e.error.slice(0, 120)}` : lifecycleCell(e),
      baseline: '',
      ratio: '',
      target: targeted ? `${e.targetWrites} write${e.targetWrites === 1 ? '' : 's'}` : '',
      met: targeted ? yesNo(!e.error && e.writes === e.targetWrites && e.nonOk === e.expectedNonOk) : (e.error ? 'NO (failed)' : ''),
    });
  }
  const all = r.lifecycle.events;
  const requests = all.reduce((sum, e) => sum + e.requests, 0);
  const recorded = all.reduce((sum, e) => sum + e.calls, 0);
  const outside = all.reduce((sum, e) => sum + e.requestsOutside, 0);
  lines.push({
    metric: `Handler HTTP requests, all ${fmt(all.length)} events: outside 127.0.0.1 / not recorded by a stand-in`,
    construct: `${fmt(outside)} / ${fmt(requests - recorded)} (of ${fmt(requests)})`,
    baseline: '',
    ratio: '',
    target: '0 / 0',
    met: yesNo(outside === 0 && requests === recorded),
  });

  const burst = r.burst;
  const burstRatio = burst.totalMs / burst.idealMs;
  const fromArrival = (burst.lastSuccessMs - burst.firstArrivalMs) / burst.idealMs;
  lines.push({
    section: `Burst: ${burst.associations} Creates at once, one fresh bundle copy each, endpoint limited to ${burst.rateLimitPerSecond} req/s; ideal = ${burst.associations} / ${burst.rateLimitPerSecond} s; ` +
      (r.bursts.length > 1 ? `the median of ${r.bursts.length} bursts by total time (all in the notes)` : 'one burst'),
  });
  lines.push({
    metric: 'Total time, first invocation to last settled',
    construct: `${fmt(burst.totalMs / 1000, 1)} s`,
    baseline: `ideal ${fmt(burst.idealMs / 1000, 1)} s`,
    ratio: ratio(burstRatio),
    target: `<= ${TARGET.burstRatio.toFixed(2)}x`,
    met: yesNo(burstRatio <= TARGET.burstRatio),
  });
  lines.push({
    metric: 'Time at the endpoint, first request to last create',
    construct: `${fmt((burst.lastSuccessMs - burst.firstArrivalMs) / 1000, 1)} s`,
    baseline: `ideal ${fmt(burst.idealMs / 1000, 1)} s`,
    ratio: ratio(fromArrival),
    target: '',
    met: '',
  });
  lines.push({ metric: 'Failed invocations', construct: fmt(burst.failures), baseline: '', ratio: '', target: '0', met: yesNo(burst.failures === 0) });
  lines.push({
    metric: 'Associations at the endpoint afterwards',
    construct: `${fmt(burst.endpointAssociations)} (${fmt(burst.distinctSubjects)} distinct)`,
    baseline: '',
    ratio: '',
    target: fmt(burst.associations),
    met: yesNo(burst.endpointAssociations === burst.associations && burst.distinctSubjects === burst.associations),
  });
  lines.push({
    metric: 'Calls at the stand-ins: EKS / SSM / CloudFormation',
    construct: SERVICES.map(service => fmt(burst.callsByService[service])).join(' / '),
    baseline: '',
    ratio: `${fmt(burst.callsByService.EKS / burst.associations, 1)} EKS per create`,
    target: '',
    met: '',
  });
  lines.push({
    metric: 'Handler HTTP requests: outside 127.0.0.1 / not recorded by a stand-in',
    construct: `${fmt(burst.requestsOutside)} / ${fmt(burst.requests - burst.calls)} (of ${fmt(burst.requests)})`,
    baseline: '',
    ratio: '',
    target: '0 / 0',
    met: yesNo(burst.requestsOutside === 0 && burst.requests === burst.calls),
  });
  lines.push({
    metric: '429 answers / all EKS calls',
    construct: `${fmt(burst.throttled)} / ${fmt(burst.callsByService.EKS)}`,
    baseline: '',
    ratio: `${fmt(burst.throttled / burst.associations, 1)} per create`,
    target: '',
    met: '',
  });
  lines.push({
    metric: 'Create attempts per association (median / max)',
    construct: `${fmt(burst.attemptsMedian, 1)} / ${fmt(burst.attemptsMax)}`,
    baseline: '',
    ratio: '',
    target: '',
    met: '',
  });
  return lines;
}

/** `3 / 1: EKS 2 / 1 (Describe, Delete); SSM 1 / 0 (GetParametersByPath); CloudFormation 0` */
function lifecycleCell(e: LifecycleEvent): string {
  const perService = SERVICES.map((service: Service) => {
    const c = e.byService[service];
    return c.calls === 0 ? `${service} 0` : `${service} ${c.calls} / ${c.writes} (${c.operations.join(', ')})`;
  });
  return `${e.calls} / ${e.writes}: ${perService.join('; ')}`;
}

/** Roles whose inline policies together, and managed policies, over IAM's limits. */
function policyLimitProblems(t: TemplateResults): string[] {
  return [
    ...t.rolePolicies.filter(role => role.chars > IAM_INLINE_ROLE_POLICIES_LIMIT).map(role => `${role.rolePath}: ${fmt(role.chars)} chars of inline policies`),
    ...t.policies.filter(p => p.type === 'AWS::IAM::ManagedPolicy' && p.chars > IAM_MANAGED_POLICY_LIMIT).map(p => `${p.path}: ${fmt(p.chars)} chars`),
  ];
}

const rounded = (values: readonly number[]) => values.map(v => Math.round(v)).join(', ');

const signed = (value: number) => `${value >= 0 ? '+' : ''}${fmt(value, 1)}`;

/** A note, with optional sub-items. */
type Note = string | { readonly text: string; readonly items: readonly string[] };

function notes(r: Results): Note[] {
  const out: Note[] = [];
  const t = r.templates;
  const c = t.models.construct;
  const b = t.models.baseline;

  // Synth method.
  const firstRun = r.inProcess[0];
  out.push(
    `Synth timing runs each sample in a fresh Node process (ts-node, transpile only), with aws-cdk-lib, the construct and both variants' modules loaded before the timer, because in one long-lived process the first synth is skewed: in this run the first in-process synth at N=${firstRun.n} took ` +
    `${ms(firstRun.firstMs.construct)} (construct, the process's very first) and ${ms(firstRun.firstMs.baseline)} (baseline) against warm medians of ${ms(firstRun.warmMs.construct)} and ${ms(firstRun.warmMs.baseline)}. ` +
    'Samples interleave the variants (construct, baseline, baseline, construct, ...). Every run uses a new App with a new temporary output directory, so `app.synth()` includes staging (copying) the construct\'s handler asset.',
  );
  const breakdownSynth = r.synth[r.synth.length - 1];
  out.push(
    `At N=${breakdownSynth.n} the fresh-process medians split into build ${ms(breakdownSynth.buildMs.construct)} / ${ms(breakdownSynth.buildMs.baseline)} and app.synth() ${ms(breakdownSynth.synthMs.construct)} / ${ms(breakdownSynth.synthMs.baseline)} (construct / baseline). ` +
    `All samples (ms): ${r.synth.map(s => `N=${s.n} construct [${rounded(s.samples.construct)}], baseline [${rounded(s.samples.baseline)}]`).join('; ')}.`,
  );

  // Templates.
  out.push(
    'Sizes are byte lengths of `JSON.stringify(template)` (compact JSON, no indentation) with the context `cdk synth` sets by default (aws:cdk:enable-path-metadata, aws:cdk:enable-asset-metadata, aws:cdk:version-reporting). Per association = (size(N=200) - size(N=50)) / 150; fixed = size(N=1) - per association. ' +
    `Both variants use the same construct ids (Assoc0000/Role, Assoc0000/Resource), so logical ids have equal lengths. Template bytes: ${COUNTS.map(n => `N=${n} ${fmt(t.sizes.construct.get(n)!.bytes)} / ${fmt(t.sizes.baseline.get(n)!.bytes)}`).join(', ')} (construct / baseline).`,
  );
  out.push(t.trust.identical
    ? `The baseline role's trust policy is identical to the construct's default role's: ${JSON.stringify(t.trust.construct)}.`
    : `WARNING: the baseline role's trust policy differs from the construct's default role's; update bench/stacks.ts. Construct: ${JSON.stringify(t.trust.construct)}; baseline: ${JSON.stringify(t.trust.baseline)}.`);
  const childMismatch = r.synth.filter(s => VARIANTS.some(v => s.templateBytes[v] !== t.sizes[v].get(s.n)!.bytes));
  if (childMismatch.length > 0) {
    out.push(`WARNING: the timed children synthesized templates of other sizes than the size measurement (N=${childMismatch.map(s => s.n).join(', ')}): src/ changed during the run.`);
  }
  const breakdownTotal = t.breakdown
    .filter(l => !l.detail)
    .reduce((sum, l) => ({ c: sum.c + l.constructBytes, b: sum.b + l.baselineBytes }), { c: 0, b: 0 });
  out.push({
    text: `Where one association's bytes go (${associationId(100)} at N=200; bytes, construct vs baseline; members of equal size summed in one line). ` +
      `Sum ${fmt(breakdownTotal.c, 1)} vs ${fmt(breakdownTotal.b, 1)}; slope ${fmt(c.bytesPerAssociation, 1)} vs ${fmt(b.bytesPerAssociation, 1)}:`,
    items: t.breakdown.map(l => `${l.detail ? '... ' : ''}${l.item}: ${fmt(l.constructBytes, 1)} vs ${fmt(l.baselineBytes, 1)} (${signed(l.constructBytes - l.baselineBytes)})`),
  });
  const largestN = COUNTS[COUNTS.length - 1];
  const problems = policyLimitProblems(t);
  out.push({
    text: `The construct's IAM policies at N=${largestN}, resolved as CloudFormation will deploy them (\`AWS::StackId\` = ${STACK_ID}; roles, functions, log groups and rules with CloudFormation-generated names at their longest, \`<stack>-<logical id>-<12 characters>\` cut to the service's name limit, role ARNs with their IAM path), ` +
      `against IAM's limits (${fmt(IAM_INLINE_ROLE_POLICIES_LIMIT)} characters for a role's inline policies together, AWS::IAM::Policy resources included; ${fmt(IAM_MANAGED_POLICY_LIMIT)} per managed policy; whitespace not counted). ` +
      `The iam:PassRole statements grow by ${fmt(t.passRole.perAssociation, 1)} characters per association (${fmt(t.passRole.chars)} at N=${largestN})` +
      (t.passRole.perAssociation > 0 ? '.' : ': created roles share one IAM path, which one statement names, so the handler policy does not depend on N.') +
      (problems.length > 0 ? ` OVER IAM's limits: ${problems.join('; ')}.` : ''),
    items: t.rolePolicies.map(role => `Role ${role.rolePath}: ${fmt(role.chars)} chars of ${fmt(IAM_INLINE_ROLE_POLICIES_LIMIT)}, in ${role.policies.map(p => `${p.path} (${fmt(p.chars)}${p.holdsPassRole ? ', holds iam:PassRole' : ''})`).join(', ')}`),
  });
  const given = t.givenRoles;
  out.push(
    'Roles given as `role` (measured on a stack whose N associations each get their own `iam.Role` of the same stack): each role adds one AWS::IAM::Policy (iam:PassRole on that role) attached to the handler role. ' +
    `Handler role's inline policies, resolved: ${fmt(given.low.handlerRole.chars)} chars at N=${given.low.n} (${given.low.policyResources} role policy), ${fmt(given.high.handlerRole.chars)} at N=${given.high.n} (${given.high.policyResources} role policies): ` +
    `${fmt(given.charsPerRole, 1)} chars and ${bytes(given.policyBytesPerRole)} of policy resources per role, ${fmt(given.fixedChars)} chars without any; IAM's ${fmt(IAM_INLINE_ROLE_POLICIES_LIMIT)} is reached after ${fmt(given.iamLimitRoles)} given roles. ` +
    (given.constructLimitRoles === undefined
      ? `The construct synthesized ${fmt(given.searchedUpTo)} given roles.`
      : `The construct's own check (which counts each reference at its longest possible value) refuses to synthesize more than ${fmt(given.constructLimitRoles)} given roles in one stack (found by bisection up to N=${fmt(given.searchedUpTo)}); associations that share a role share its policy.`) +
    ' The hand-written baseline passes roles itself (CloudFormation\'s own handler, with the deployer\'s permissions) and has no such limit.',
  );
  out.push(
    `The shared provider (once per stack): ${fmt(t.providerResources.length)} resources, ${bytes(t.providerResources.reduce((s, p) => s + p.bytes, 0))} at N=1: ` +
    t.providerResources.map(p => `${p.type} ${p.path.replace(/^Bench\//, '')} (${bytes(p.bytes)})`).join(', ') +
    `. The rest of the fixed-bytes difference (${bytes(c.fixedBytes - b.fixedBytes - t.providerResources.reduce((s, p) => s + p.bytes, 0))}) is in resources both stacks have (CDKMetadata lists more construct types).`,
  );

  // Bundle.
  const bundle = r.bundle;
  out.push(
    `Bundle sha256 ${bundle.sha256.slice(0, 16)}..., built ${bundle.modified.toISOString()}. KB = 1,000 bytes. Cold load medians: empty ${ms(r.coldLoad.medianMs.empty)}, ` +
    `@aws-sdk/client-eks ${ms(r.coldLoad.medianMs['client-eks'])}, ${HANDLER_SDK_CLIENTS.join(' + ')} ${ms(r.coldLoad.medianMs['sdk-clients'])}, bundle ${ms(r.coldLoad.medianMs.bundle)} (spawn to exit, rotating order, one untimed round first); "less an empty" subtracts the empty process's median. ` +
    `CPU medians: empty ${ms(r.coldLoad.medianCpuMs.empty)}, @aws-sdk/client-eks ${ms(r.coldLoad.medianCpuMs['client-eks'])}, the three clients ${ms(r.coldLoad.medianCpuMs['sdk-clients'])}, bundle ${ms(r.coldLoad.medianCpuMs.bundle)}. ` +
    'Loading only requires the modules; none creates a client. The bundle carries the three clients (and the SDK core they share) once, minified.',
  );
  if (bundle.staleAgainst.length > 0) {
    out.push(`WARNING: these sources are newer than the bundle, run \`npx projen bundle\` and measure again: ${bundle.staleAgainst.join(', ')}.`);
  }

  // Lifecycle.
  out.push(
    'Lifecycle events: one copy of the bundle, properties exactly as the construct writes them (tags from `tags:`), against the three stand-ins without rate limits or faults, through the deployments of one stack, in this order: ' +
    'its creation (the transfers resource\'s Create, then the association\'s; EventBridge reports CREATE_COMPLETE); four in-place updates (role, tag value, tag keys, nothing changed); a change of service account (a new association; in the cleanup, the Delete of the old one and of the transfers resource\'s previous physical id); ' +
    'a second association with adoptExisting over one made by hand with another role and a tag of its own (the takeover records the previous state in SSM; the cleanup\'s Delete of the transfers resource makes it final: it asks CloudFormation which resource holds the association and removes the record); the stack\'s deletion. ' +
    'The CloudFormation stand-in reports the stack status and the resources\' physical ids as CloudFormation would at each point. "write" = EKS Create/Update/Delete/TagResource/UntagResource and SSM PutParameter/DeleteParameters (the handler only reads CloudFormation). ' +
    '"Update: nothing changed" is an Update whose old and new properties are equal; an Update now reads the association first (its owner mark), so in-place updates cost one EKS read more than they write.',
  );
  const hidden = r.lifecycle.events.filter(e => !e.shown);
  if (hidden.length > 0) {
    out.push(`Also ran, not in the table: ${hidden.map(e => `${e.name}: ${e.error ? `FAILED (${e.error})` : `${e.calls} / ${e.writes}${e.calls > 0 ? ` (${SERVICES.filter(s => e.byService[s].calls > 0).map(s => `${s} ${e.byService[s].operations.join(', ')}`).join('; ')})` : ''}`}`).join('; ')}.`);
  }
  const failedEvents = r.lifecycle.events.filter(e => e.error || e.nonOk !== e.expectedNonOk);
  if (failedEvents.length > 0) {
    out.push(`WARNING: lifecycle events with errors: ${failedEvents.map(e => `${e.name}: ${e.error ?? `${e.nonOk} non-200 answers (expected ${e.expectedNonOk})`}`).join('; ')}.`);
  }
  if (r.lifecycle.problems.length > 0) {
    out.push(`WARNING: ${r.lifecycle.problems.join('; ')}.`);
  }

  // Burst.
  const burst = r.burst;
  out.push(
    `Burst: the EKS (rate-limited), SSM and CloudFormation stand-ins ran in their own process, the stack directory in CREATE_IN_PROGRESS; the ${fmt(burst.associations)} bundle copies were loaded before the timer (${ms(burst.loadMs)}); each creates its three SDK clients on its first invocation. ` +
    `A Create that meets no existing association calls EKS only (SSM ${fmt(burst.callsByService.SSM)} calls, CloudFormation ${fmt(burst.callsByService.CloudFormation)}; SSM parameters left: ${fmt(burst.parametersLeft)}). ` +
    `The first request reached the endpoint ${fmt(burst.firstArrivalMs / 1000, 1)} s after the invocations started (on one core, the ${fmt(burst.associations)} cold SDK clients compile their first call one after the other; ` +
    `on Lambda each container has its own CPU; this process's event loop stalled up to ${ms(burst.eventLoopDelayMaxMs)}), the last create was accepted at ${fmt(burst.lastSuccessMs / 1000, 1)} s, median invocation settled at ${fmt(burst.settleMedianMs / 1000, 1)} s. ` +
    `Handler log lines: ${Object.entries(burst.logEvents).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}. Non-429 error answers: ${fmt(burst.otherErrors)}.`,
  );
  if (r.bursts.length > 1) {
    out.push(
      `All ${r.bursts.length} bursts, in the order they ran (total time / time at the endpoint / 429 answers / create attempts median-max / failed invocations): ` +
      r.bursts.map(run => `${fmt(run.totalMs / 1000, 1)} s / ${fmt((run.lastSuccessMs - run.firstArrivalMs) / 1000, 1)} s / ${fmt(run.throttled)} / ${fmt(run.attemptsMedian, 1)}-${fmt(run.attemptsMax)} / ${fmt(run.failures)}`).join('; ') +
      `. Total time ratios: ${r.bursts.map(run => ratio(run.totalMs / run.idealMs)).join(', ')}; ${r.bursts.filter(run => run.totalMs / run.idealMs <= TARGET.burstRatio).length} of ${r.bursts.length} within the target. ` +
      `Handler HTTP requests outside 127.0.0.1, all bursts: ${fmt(r.bursts.reduce((sum, run) => sum + run.requestsOutside, 0))}.`,
    );
  }
  if (burst.failures > 0) {
    out.push(
      `Burst failures: ${burst.failureMessages.map(f => `${f.count} x "${f.message}"`).join('; ')}; create attempts of the failed ones: ${burst.failedAttempts.join(', ')}.`,
    );
  }
  if (r.bundleAfter.sha256 !== r.bundle.sha256) {
    out.push(`WARNING: the bundle was rebuilt during the run (sha256 ${r.bundle.sha256.slice(0, 16)}... at the start, ${r.bundleAfter.sha256.slice(0, 16)}... at the end): the bundle, lifecycle and burst figures may come from different handlers; measure again.`);
  }
  out.push(`Benchmark wall time: ${fmt(r.wallMs / 1000, 1)} s${r.options.quick ? ' (--quick)' : ''}; 1-minute load average ${r.loadAverage.start.toFixed(2)} at the start, ${r.loadAverage.end.toFixed(2)} at the end.`);
  return out;
}

function environmentLine(r: Results): string {
  const cpus = os.cpus();
  return `${r.startedAt.toISOString()}, Node.js ${process.version}, ${cpus.length} CPU(s) (${cpus[0]?.model.trim() ?? 'unknown'}), ${os.platform()} ${os.arch()}`;
}

function noteLines(notesList: readonly Note[]): string[] {
  return notesList.flatMap(n => (typeof n === 'string' ? [`- ${n}`] : [`- ${n.text}`, ...n.items.map(i => `  - ${i}`)]));
}

function renderText(lines: TableLine[], notesList: Note[], env: string): string {
  const rows = lines.filter((l): l is Row => !('section' in l));
  const keys: (keyof Row)[] = ['metric', 'construct', 'baseline', 'ratio', 'target', 'met'];
  const widths = keys.map(k => Math.max(HEADER[k].length, ...rows.map(r => r[k].length)));
  const format = (row: Row) => keys.map((k, i) => row[k].padEnd(widths[i])).join('  ').trimEnd();
  const rule = widths.map(w => '-'.repeat(w)).join('  ');
  const out = [format(HEADER), rule];
  for (const line of lines) {
    out.push('section' in line ? `\n${line.section}` : format(line));
  }
  return [
    `cdk-eks-pod-identity benchmark: ${env}`,
    '',
    ...out,
    '',
    'Notes:',
    ...noteLines(notesList),
    '',
  ].join('\n');
}

function renderMarkdown(lines: TableLine[], notesList: Note[], env: string, command: string): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const keys: (keyof Row)[] = ['metric', 'construct', 'baseline', 'ratio', 'target', 'met'];
  const out = [
    '# Benchmark results',
    '',
    `Measured ${env}, with:`,
    '',
    '```bash',
    command,
    '```',
    '',
    `| ${keys.map(k => HEADER[k]).join(' | ')} |`,
    `|${keys.map(k => (k === 'metric' ? '---' : '---:')).join('|')}|`,
  ];
  for (const line of lines) {
    out.push('section' in line
      ? `| **${cell(line.section)}** |${' |'.repeat(keys.length - 1)}`
      : `| ${keys.map(k => cell(line[k])).join(' | ')} |`);
  }
  out.push('', '## Notes', '', ...noteLines(notesList), '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const plan: Plan = options.quick
    ? { synthRuns: 3, warmupRuns: 1, warmRuns: 3, coldLoadRuns: 5, burstRuns: 1 }
    : { synthRuns: 7, warmupRuns: 2, warmRuns: 7, coldLoadRuns: 20, burstRuns: 3 };
  const startedAt = new Date();
  const loadStart = os.loadavg()[0];
  const t0 = performance.now();

  const bundle = bundleInfo();
  progress(`synth in fresh processes: N = ${COUNTS.join(', ')}, ${plan.synthRuns} runs per variant`);
  const synth = measureSynthInChildren(COUNTS, plan.synthRuns, progress);
  progress('synth in this process (largest N first, to record the cold first run)');
  const inProcess = measureSynthInProcess([...COUNTS].reverse(), plan.warmupRuns, plan.warmRuns);
  progress('template sizes');
  const templates = measureTemplates();
  progress(`bundle cold load: ${plan.coldLoadRuns} runs per target`);
  const coldLoad = measureColdLoad(plan.coldLoadRuns);
  progress('API calls per lifecycle event');
  const lifecycle = await measureLifecycle();
  const bursts: BurstResult[] = [];
  for (let run = 1; run <= plan.burstRuns; run++) {
    progress(`burst ${run}/${plan.burstRuns}: ${BURST_ASSOCIATIONS} concurrent creates at ${BURST_RATE_PER_SECOND} req/s`);
    bursts.push(await measureBurst(BURST_ASSOCIATIONS, BURST_RATE_PER_SECOND, progress));
  }
  const burst = [...bursts].sort((a, b) => a.totalMs - b.totalMs)[Math.floor((bursts.length - 1) / 2)];

  const results: Results = {
    options,
    plan,
    startedAt,
    synth,
    inProcess,
    templates,
    bundle,
    coldLoad,
    lifecycle,
    burst,
    bursts,
    bundleAfter: bundleInfo(),
    loadAverage: { start: loadStart, end: os.loadavg()[0] },
    wallMs: performance.now() - t0,
  };
  const lines = tableLines(results);
  const notesList = notes(results);
  const env = environmentLine(results);
  process.stdout.write(renderText(lines, notesList, env));
  if (options.markdown) {
    const command = `npx ts-node --project bench/tsconfig.json bench/run.ts${options.quick ? ' --quick' : ''} --markdown ${options.markdown}`;
    fs.writeFileSync(path.resolve(options.markdown), renderMarkdown(lines, notesList, env, command));
    progress(`wrote ${options.markdown}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
