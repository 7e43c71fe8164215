/**
 * The handler bundle: size on disk (raw and gzip) and cold load time in a fresh Node process,
 * against loading `@aws-sdk/client-eks` alone, the three SDK clients the handler uses (EKS, SSM,
 * CloudFormation) together, and an empty process.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { median } from './stats';

/** The handler exactly as it ships in the package (built by `npx projen bundle`). */
export const HANDLER_BUNDLE = path.join(__dirname, '..', 'assets', 'lambda', 'handler', 'index.js');

/** Throws a clear error when the bundle is missing. */
export function requireBundle(): void {
  if (!fs.existsSync(HANDLER_BUNDLE)) {
    throw new Error(`${HANDLER_BUNDLE} is missing: run \`npx projen bundle\` first.`);
  }
}

export interface BundleInfo {
  readonly rawBytes: number;
  /** zlib's default level (6), as HTTP servers and most tools compress. */
  readonly gzipBytes: number;
  readonly sha256: string;
  readonly modified: Date;
  /** Handler sources (lambda/*.ts, src/private/contract.ts) changed after the bundle was built. */
  readonly staleAgainst: string[];
}

export function bundleInfo(): BundleInfo {
  requireBundle();
  const content = fs.readFileSync(HANDLER_BUNDLE);
  const modified = fs.statSync(HANDLER_BUNDLE).mtime;
  const root = path.join(__dirname, '..');
  const sources = [
    ...fs.readdirSync(path.join(root, 'lambda')).filter(f => f.endsWith('.ts')).map(f => path.join('lambda', f)),
    path.join('src', 'private', 'contract.ts'),
  ];
  return {
    rawBytes: content.length,
    gzipBytes: gzipSync(content).length,
    sha256: createHash('sha256').update(content).digest('hex'),
    modified,
    staleAgainst: sources.filter(f => fs.existsSync(path.join(root, f)) && fs.statSync(path.join(root, f)).mtime > modified),
  };
}

/** What a cold-load sample loads. */
export type LoadTarget = 'empty' | 'client-eks' | 'sdk-clients' | 'bundle';

/** The SDK clients the handler uses, as the repository installs them (the bundle carries its own copy). */
export const HANDLER_SDK_CLIENTS = ['@aws-sdk/client-eks', '@aws-sdk/client-ssm', '@aws-sdk/client-cloudformation'] as const;

export interface ColdLoad {
  /** Median wall time of `node -e <script>` per target, spawn to exit, in ms. */
  readonly medianMs: Record<LoadTarget, number>;
  /** Median CPU time (user + system) the process reports at the end of its script, in ms. */
  readonly medianCpuMs: Record<LoadTarget, number>;
  readonly samples: Record<LoadTarget, number[]>;
}

/** What every sample runs after its load: it reports the process's own CPU time. */
const REPORT = 'const u=process.cpuUsage();process.stdout.write(JSON.stringify({cpuMs:(u.user+u.system)/1000}))';

function scriptFor(target: LoadTarget): string {
  switch (target) {
    case 'empty':
      return REPORT;
    case 'client-eks':
      return `require(${JSON.stringify(require.resolve('@aws-sdk/client-eks'))});${REPORT}`;
    case 'sdk-clients':
      return `${HANDLER_SDK_CLIENTS.map(name => `require(${JSON.stringify(require.resolve(name))});`).join('')}${REPORT}`;
    case 'bundle':
      return `require(${JSON.stringify(HANDLER_BUNDLE)});${REPORT}`;
  }
}

const TARGETS: readonly LoadTarget[] = ['empty', 'client-eks', 'sdk-clients', 'bundle'];

/**
 * `runs` fresh `node -e` processes per target, interleaved in rotating order, each timed from spawn
 * to exit; each also reports its own CPU time, which other load on the machine disturbs less.
 */
export function measureColdLoad(runs: number): ColdLoad {
  requireBundle();
  const samples: Record<LoadTarget, number[]> = { 'empty': [], 'client-eks': [], 'sdk-clients': [], 'bundle': [] };
  const cpu: Record<LoadTarget, number[]> = { 'empty': [], 'client-eks': [], 'sdk-clients': [], 'bundle': [] };
  // One untimed round first, so the file system cache holds every file.
  for (const target of TARGETS) {
    spawnNode(scriptFor(target));
  }
  for (let run = 0; run < runs; run++) {
    const order = TARGETS.map((_, i) => TARGETS[(i + run) % TARGETS.length]);
    for (const target of order) {
      const sample = spawnNode(scriptFor(target));
      samples[target].push(sample.wallMs);
      cpu[target].push(sample.cpuMs);
    }
  }
  const medians = (values: Record<LoadTarget, number[]>) =>
    Object.fromEntries(TARGETS.map(t => [t, median(values[t])])) as Record<LoadTarget, number>;
  return { medianMs: medians(samples), medianCpuMs: medians(cpu), samples };
}

function spawnNode(script: string): { wallMs: number; cpuMs: number } {
  const t0 = performance.now();
  // A minimal environment: no NODE_OPTIONS or the like from the caller.
  const result = spawnSync(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { PATH: process.env.PATH } });
  const wallMs = performance.now() - t0;
  if (result.status !== 0) {
    throw new Error(`node -e ${JSON.stringify(script)} failed with status ${result.status ?? result.signal}: ${result.stderr}`);
  }
  return { wallMs, cpuMs: (JSON.parse(result.stdout) as { cpuMs: number }).cpuMs };
}
