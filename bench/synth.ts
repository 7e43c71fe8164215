/**
 * Synth timing. Each timed sample is one fresh Node process (bench/synth-child.ts) that builds the
 * stack in a new App and calls `app.synth()`, as `cdk synth` does: in one long-lived process the
 * first synth pays aws-cdk-lib's lazy module loading and JIT warm-up and later ones reuse them
 * (and aws-cdk-lib's asset hash cache), so in-process samples are not independent; the in-process
 * numbers are measured too and reported next to them.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Variant, VARIANTS, buildAndSynth, variantBuilder } from './stacks';
import { median } from './stats';

const CHILD = path.join(__dirname, 'synth-child.ts');
const TSCONFIG = path.join(__dirname, 'tsconfig.json');

/** One fresh-process sample. */
export interface ChildSample {
  readonly buildMs: number;
  readonly synthMs: number;
  readonly templateBytes: number;
  readonly resources: number;
}

/** Runs one build + synth in a fresh Node process (ts-node, transpile only; modules loaded before the timer). */
export function synthInChild(variant: Variant, count: number): ChildSample {
  const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', CHILD, variant, String(count)], {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, TS_NODE_PROJECT: TSCONFIG },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0) {
    throw new Error(`synth child (${variant}, N=${count}) failed with status ${result.status ?? result.signal}: ${result.stderr || result.error?.message}`);
  }
  const line = result.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildSample;
}

/** Medians of fresh-process samples for one N. */
export interface SynthTimes {
  readonly n: number;
  /** Median of build + synth per variant, in ms. */
  readonly totalMs: Record<Variant, number>;
  readonly buildMs: Record<Variant, number>;
  readonly synthMs: Record<Variant, number>;
  readonly samples: Record<Variant, number[]>;
  readonly templateBytes: Record<Variant, number>;
}

/**
 * `runs` fresh-process samples per variant for each N, interleaved (construct, baseline,
 * baseline, construct, ...) so that both variants share the machine's noise.
 */
export function measureSynthInChildren(counts: readonly number[], runs: number, progress: (message: string) => void): SynthTimes[] {
  const results: SynthTimes[] = [];
  for (const n of counts) {
    const samples: Record<Variant, ChildSample[]> = { construct: [], baseline: [] };
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        samples[variant].push(synthInChild(variant, n));
      }
      progress(`synth N=${n}: run ${run + 1}/${runs}`);
    }
    const pick = (f: (s: ChildSample) => number) => ({
      construct: median(samples.construct.map(f)),
      baseline: median(samples.baseline.map(f)),
    });
    results.push({
      n,
      totalMs: pick(s => s.buildMs + s.synthMs),
      buildMs: pick(s => s.buildMs),
      synthMs: pick(s => s.synthMs),
      samples: {
        construct: samples.construct.map(s => s.buildMs + s.synthMs),
        baseline: samples.baseline.map(s => s.buildMs + s.synthMs),
      },
      templateBytes: { construct: samples.construct[0].templateBytes, baseline: samples.baseline[0].templateBytes },
    });
  }
  return results;
}

/** In-process timings for one N: the first runs, then the median of the warm runs. */
export interface InProcessTimes {
  readonly n: number;
  /** Build + synth of the first in-process run of each variant at this N (after earlier N ran). */
  readonly firstMs: Record<Variant, number>;
  readonly warmMs: Record<Variant, number>;
}

/**
 * Build + synth in this process: `warmup` runs per variant (the first one recorded), then `runs`
 * interleaved runs whose median is the warm time. `counts` are measured in the given order; the
 * very first run of the process shows the cost of cold module loading.
 */
export function measureSynthInProcess(counts: readonly number[], warmup: number, runs: number): InProcessTimes[] {
  const results: InProcessTimes[] = [];
  for (const n of counts) {
    const first: Partial<Record<Variant, number>> = {};
    const warm: Record<Variant, number[]> = { construct: [], baseline: [] };
    for (let run = 0; run < warmup + runs; run++) {
      const order = run % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const { buildMs, synthMs } = buildAndSynth(variantBuilder(variant), n);
        if (run === 0) {
          first[variant] = buildMs + synthMs;
        } else if (run >= warmup) {
          warm[variant].push(buildMs + synthMs);
        }
      }
    }
    results.push({
      n,
      firstMs: first as Record<Variant, number>,
      warmMs: { construct: median(warm.construct), baseline: median(warm.baseline) },
    });
  }
  return results;
}
