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
import { BundleInfo, ColdLoad, bundleInfo, measureColdLoad } from './bundle';
import { BurstResult, measureBurst } from './burst';
import { LifecycleEvent, measureLifecycle } from './lifecycle';
import { ACCOUNT, STACK_NAME, Variant, VARIANTS, associationId, buildAndSynth, variantBuilder } from './stacks';
import { bytes, fmt, kb, ms, ratio } from './stats';
import { InProcessTimes, SynthTimes, measureSynthInChildren, measureSynthInProcess } from './synth';
import {
  BreakdownLine,
  DeployedPolicySize,
  IAM_MANAGED_POLICY_LIMIT,
  ScaleModel,
  canonicalJson,
  deployedPolicySizes,
  iamLimitOf,
  passRoleStatementChars,
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
}

function parseArgs(argv: readonly string[]): Options {
  let markdown: string | undefined;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
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
  /** Resolved `iam:PassRole` statement: characters at the largest N, and growth per association. */
  readonly passRole: { chars: number; perAssociation: number };
  /** Whether the created roles' trust policies are identical, and both if not. */
  readonly trust: { identical: boolean; construct: unknown; baseline: unknown };
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

  const policies = deployedPolicySizes(templates.construct.get(high)!, ACCOUNT);
  const passRoleHigh = passRoleStatementChars(templates.construct.get(high)!, ACCOUNT);
  const passRoleLow = passRoleStatementChars(templates.construct.get(low)!, ACCOUNT);
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
    passRole,
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
  readonly coldLoad: ColdLoad;
  readonly lifecycle: LifecycleEvent[];
  readonly burst: BurstResult;
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
  const over = r.templates.policies.filter(p => p.chars > iamLimitOf(p.type));
  const largest = [...r.templates.policies].sort((x, y) => y.chars / iamLimitOf(y.type) - x.chars / iamLimitOf(x.type))[0];
  lines.push({
    metric: `Provider IAM policies at N=${COUNTS[COUNTS.length - 1]}, resolved, within IAM size limits`,
    construct: largest ? `largest ${fmt(largest.chars)} chars (${largest.type.replace('AWS::IAM::', '')})` : 'none',
    baseline: 'none',
    ratio: '',
    target: `<= ${fmt(IAM_MANAGED_POLICY_LIMIT)} managed`,
    met: over.length === 0 ? 'yes' : 'NO (see notes)',
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
  lines.push({ metric: 'Empty `node -e ""` process', construct: ms(load.empty), baseline: ms(load.empty), ratio: '', target: '', met: '' });

  lines.push({ section: 'API calls per lifecycle event, happy path, at the local EKS endpoint: all calls / write calls (operations)' });
  for (const e of r.lifecycle) {
    const counted = e.error ? `FAILED: ${e.error.slice(0, 80)}` : `${e.calls} / ${e.writes}`;
    const ops = e.operations.length > 0 ? ` (${e.operations.map(o => o.replace('PodIdentityAssociation', '')).join(', ')})` : '';
    lines.push({
      metric: e.name,
      construct: `${counted}${ops}`,
      baseline: '',
      ratio: '',
      target: `${e.targetWrites} write${e.targetWrites === 1 ? '' : 's'}`,
      met: yesNo(!e.error && e.writes === e.targetWrites),
    });
  }

  const burst = r.burst;
  const burstRatio = burst.totalMs / burst.idealMs;
  const fromArrival = (burst.lastSuccessMs - burst.firstArrivalMs) / burst.idealMs;
  lines.push({
    section: `Burst: ${burst.associations} Creates at once, one fresh bundle copy each, endpoint limited to ${burst.rateLimitPerSecond} req/s; ideal = ${burst.associations} / ${burst.rateLimitPerSecond} s`,
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
    metric: '429 answers / all calls',
    construct: `${fmt(burst.throttled)} / ${fmt(burst.calls)}`,
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
  const passRoleOverhead = t.passRole.chars - t.passRole.perAssociation * COUNTS[COUNTS.length - 1];
  // A managed policy that holds only the PassRole statement: {"Statement":[...],"Version":"2012-10-17"}
  const managedDocumentOverhead = '{"Statement":[],"Version":"2012-10-17"}'.length;
  const deployLimitN = Math.floor((IAM_MANAGED_POLICY_LIMIT - managedDocumentOverhead - passRoleOverhead) / t.passRole.perAssociation);
  out.push({
    text: `The provider's IAM policies at N=${COUNTS[COUNTS.length - 1]}, resolved as CloudFormation will deploy them (role ARNs with CloudFormation-generated names, \`<stack>-<logical id>-<12 characters>\`), ` +
      `against IAM's limits (${fmt(IAM_MANAGED_POLICY_LIMIT)} characters per managed policy, 10,240 for a role's inline policies together, whitespace not counted). ` +
      `The iam:PassRole statement grows by ${fmt(t.passRole.perAssociation, 1)} characters per association (${fmt(t.passRole.chars)} at N=${COUNTS[COUNTS.length - 1]})` +
      (t.passRole.perAssociation > 0
        ? '; aws-cdk-lib moves it whole (it never splits a statement) into an overflow managed policy once its estimate passes the inline limit' +
          (Number.isFinite(deployLimitN) ? `, which IAM rejects from about N=${fmt(deployLimitN + 1)} created roles in a stack named "${STACK_NAME}" (fewer with longer stack names, up to 64-character role names).` : '.')
        : ': created roles share one IAM path, which it names once, so the policy size does not depend on N.'),
    items: t.policies.map(p => `${p.type.replace('AWS::IAM::', '')} ${p.path}: ${fmt(p.chars)} chars${p.holdsPassRole ? ' (holds iam:PassRole)' : ''}, limit ${fmt(iamLimitOf(p.type))}${p.chars > iamLimitOf(p.type) ? ': OVER' : ''}`),
  });
  out.push(
    `The shared provider (once per stack): ${fmt(t.providerResources.length)} resources, ${bytes(t.providerResources.reduce((s, p) => s + p.bytes, 0))} at N=1: ` +
    t.providerResources.map(p => `${p.type} ${p.path.replace(/^Bench\//, '')} (${bytes(p.bytes)})`).join(', ') +
    `. The rest of the fixed-bytes difference (${bytes(c.fixedBytes - b.fixedBytes - t.providerResources.reduce((s, p) => s + p.bytes, 0))}) is in resources both stacks have (CDKMetadata lists more construct types).`,
  );

  // Bundle.
  const bundle = r.bundle;
  out.push(
    `Bundle sha256 ${bundle.sha256.slice(0, 16)}..., built ${bundle.modified.toISOString()}. KB = 1,000 bytes. Cold load medians: empty ${ms(r.coldLoad.medianMs.empty)}, ` +
    `@aws-sdk/client-eks ${ms(r.coldLoad.medianMs['client-eks'])}, bundle ${ms(r.coldLoad.medianMs.bundle)} (spawn to exit, rotating order, one untimed round first); "less an empty" subtracts the empty process's median. ` +
    `CPU medians: empty ${ms(r.coldLoad.medianCpuMs.empty)}, @aws-sdk/client-eks ${ms(r.coldLoad.medianCpuMs['client-eks'])}, bundle ${ms(r.coldLoad.medianCpuMs.bundle)}. ` +
    'Loading only requires the module; neither creates a client.',
  );
  if (bundle.staleAgainst.length > 0) {
    out.push(`WARNING: these sources are newer than the bundle, run \`npx projen bundle\` and measure again: ${bundle.staleAgainst.join(', ')}.`);
  }

  // Lifecycle.
  out.push(
    'Lifecycle events: one copy of the bundle, the properties exactly as the construct writes them (tags from `tags:`), against the local endpoint without rate limit or faults; ' +
    '"write" = Create/Update/Delete/TagResource/UntagResource. "Update: nothing changed" is an Update whose old and new properties are equal.',
  );
  const failedEvents = r.lifecycle.filter(e => e.error || e.nonOk > 0);
  if (failedEvents.length > 0) {
    out.push(`WARNING: lifecycle events with errors: ${failedEvents.map(e => `${e.name}: ${e.error ?? `${e.nonOk} non-200 answers`}`).join('; ')}.`);
  }

  // Burst.
  const burst = r.burst;
  out.push(
    `Burst: the endpoint ran in its own process; the ${fmt(burst.associations)} bundle copies were loaded before the timer (${ms(burst.loadMs)}). ` +
    `The first request reached the endpoint ${fmt(burst.firstArrivalMs / 1000, 1)} s after the invocations started (on one core, the ${fmt(burst.associations)} cold SDK clients compile their first call one after the other; ` +
    `on Lambda each container has its own CPU; this process's event loop stalled up to ${ms(burst.eventLoopDelayMaxMs)}), the last create was accepted at ${fmt(burst.lastSuccessMs / 1000, 1)} s, median invocation settled at ${fmt(burst.settleMedianMs / 1000, 1)} s. ` +
    `Handler log lines: ${Object.entries(burst.logEvents).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}. Non-429 error answers: ${fmt(burst.otherErrors)}.`,
  );
  if (burst.failures > 0) {
    out.push(
      `Burst failures: ${burst.failureMessages.map(f => `${f.count} x "${f.message}"`).join('; ')}; create attempts of the failed ones: ${burst.failedAttempts.join(', ')}.`,
    );
  }
  out.push(`Benchmark wall time: ${fmt(r.wallMs / 1000, 1)} s${r.options.quick ? ' (--quick)' : ''}.`);
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
    ? { synthRuns: 3, warmupRuns: 1, warmRuns: 3, coldLoadRuns: 5 }
    : { synthRuns: 7, warmupRuns: 2, warmRuns: 7, coldLoadRuns: 20 };
  const startedAt = new Date();
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
  progress(`burst: ${BURST_ASSOCIATIONS} concurrent creates at ${BURST_RATE_PER_SECOND} req/s`);
  const burst = await measureBurst(BURST_ASSOCIATIONS, BURST_RATE_PER_SECOND, progress);

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
