/**
 * cdk-nag on the packed library, as users get it: `npx projen test:nag [env ...]`.
 *
 * Packs the library (lib/ and the handler bundle in assets/ must be built), and for each
 * environment of envs.json (an aws-cdk-lib, constructs and cdk-nag; all of them by default)
 * installs the tarball with them in a fresh project (cached in node_modules/.cache/nag-envs/<env>,
 * by versions; the tarball is reinstalled each run), runs app.js there with every cdk-nag pack, and
 * judges what it saw. It fails on:
 * - a finding on a resource of the library that no acknowledgement of the library hides: everything
 *   under a stack's PodIdentityAssociationProvider, an association's Resource and created role's
 *   Resource, an add-on role's role and customer managed policy, and either role's DefaultPolicy for
 *   the rule IAMNoInlinePolicy only (its other findings are the user's grants, as the statements in
 *   it are);
 * - an add-on whose synthesized PodIdentityAssociations are not the entries of its add-on roles;
 * - a cluster with more than one AWS::EKS::Addon for eks-pod-identity-agent in the app, or a cluster
 *   of the app's PodIdentityAgents without what it must have: the add-on the user declares and no
 *   Custom::EksPodIdentityAgent (the agent uses it), or the custom resource and no add-on;
 * - in a policy a permission set of the catalog landed in, an AwsSolutions-IAM5 finding left
 *   reported that is not the user's (a wildcard the user chose, a grant of the user's), or one of
 *   the user's hidden;
 * - a finding on a resource of the user that an acknowledgement hides (the app acknowledges nothing
 *   itself), or one of the findings the app's own resources must give that is missing (the
 *   AwsSolutions-IAM5 findings of bucket.grantRead(association), the buckets', the VPC's);
 * - an acknowledgement of the library that matches no finding (stale): cdk-nag 3, each id of
 *   aws-cdk-lib's `aws:cdk:acknowledged-rules` metadata on the library's constructs must be the id
 *   of a finding on that construct or below; cdk-nag 2, each `cdk_nag.rules_to_suppress` entry (each
 *   pattern of its `applies_to`, for a granular one) must match a finding of its resource.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The repository: where the cache lives, and the package packed unless NAG_PACKAGE_DIR names another checkout. */
const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE_DIR = path.resolve(process.env.NAG_PACKAGE_DIR ?? ROOT);
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'nag-envs');
const PACKAGE_NAME = 'cdk-eks-pod-identity';

interface Environment {
  readonly note: string;
  /** cdk-nag 3: whether its packs must run as aws-cdk-lib validation plugins here (false: aws-cdk-lib is too old for that, and only validateScope() runs). */
  readonly plugins?: boolean;
  readonly dependencies: { readonly 'aws-cdk-lib': string; readonly 'constructs': string; readonly 'cdk-nag': string };
}

/** What app.js writes. */
interface Finding {
  readonly pack: string;
  readonly path: string;
  /** `<pack>-<rule>`, or `<pack>-<rule>[<finding>]` for a rule with several findings per resource. */
  readonly id: string;
  readonly level: string;
  readonly message: string;
  /** The path of the construct whose acknowledgement hid it; absent when it is reported. */
  readonly acknowledgedBy?: string;
}
interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  /** cdk-nag 2: the one `applies_to` entry (a string, or a `/regex/`) this check is about. */
  readonly appliesTo?: string[];
  /** How many findings, acknowledged or not, it matches. */
  readonly matches: number;
}
interface AppResult {
  readonly versions: Record<string, string>;
  readonly packs: string[];
  readonly providers: string[];
  readonly associations: string[];
  readonly targetRoles: string[];
  /** The add-on roles (`AddonRole`); absent from results of an older app.js. */
  readonly addonRoles?: string[];
  /** Each add-on's PodIdentityAssociations as synthesized, and whether they are the add-on roles' entries. */
  readonly addonChecks?: Array<{ path: string; ok: boolean; expected: unknown; actual: unknown }>;
  /**
   * The policies the catalog's permission sets land in (src/permissions/), with the AwsSolutions-IAM5
   * findings that are the user's there (wildcards the user chose, the user's own grants); absent from
   * results of an older app.js.
   */
  readonly catalogPolicies?: Array<{ path: string; reported: string[] }>;
  /** The PodIdentityAgents; absent from results of an older app.js. */
  readonly agents?: string[];
  /**
   * Per cluster (its name as its stack's template holds it), the AWS::EKS::Addon resources for
   * eks-pod-identity-agent and the Custom::EksPodIdentityAgent resources, as synthesized; and what
   * the app expects of the clusters it names. Absent from results of an older app.js.
   */
  readonly agentAddons?: {
    readonly clusters: Array<{ key: string; addons: string[]; agentResources: string[] }>;
    readonly expected: Array<{ what: string; key: string; addons: number; agentResources: number }>;
  };
  readonly userResources: { readonly grantPolicies: string[]; readonly buckets: string[]; readonly vpc: string };
  readonly findings: Finding[];
  readonly acknowledgements: Acknowledgement[];
  /** cdk-nag 3: the findings of the validation report when the packs run as aws-cdk-lib validation plugins. */
  readonly plugins?: { readonly ran: boolean; readonly note: string; readonly reported: Array<{ path: string; id: string }> };
}

interface EnvironmentReport {
  readonly name: string;
  readonly seconds: { install: number; app: number };
  readonly result?: AppResult;
  /** Failures, as lines, by heading. */
  readonly failures: Map<string, string[]>;
  readonly notes: string[];
}

const environments: Record<string, Environment> = Object.fromEntries(
  Object.entries(JSON.parse(fs.readFileSync(path.join(__dirname, 'envs.json'), 'utf8')) as Record<string, Environment | string>)
    .filter((entry): entry is [string, Environment] => typeof entry[1] === 'object'),
);

function main(): number {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter(name => !environments[name]);
  if (unknown.length > 0) {
    console.error(`Unknown environment(s): ${unknown.join(', ')}. Known: ${Object.keys(environments).join(', ')} (test/nag/envs.json).`);
    return 2;
  }
  const names = chosen.length > 0 ? chosen : Object.keys(environments);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-'));
  try {
    const tarball = pack(work);
    const reports = names.map(name => runEnvironment(name, environments[name], tarball, work));
    return summarize(reports);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** npm pack of the package into `dir`; checks that it holds the compiled library and the handler bundle. */
function pack(dir: string): string {
  const jsii = path.join(PACKAGE_DIR, '.jsii');
  const bundle = path.join(PACKAGE_DIR, 'assets', 'lambda', 'handler', 'index.js');
  for (const [file, build] of [[jsii, 'npx projen compile'], [path.join(PACKAGE_DIR, 'lib', 'index.js'), 'npx projen compile'], [bundle, 'npx projen bundle']]) {
    if (!fs.existsSync(file)) {
      throw new Error(`${path.relative(PACKAGE_DIR, file)} is missing: run \`${build}\` first.`);
    }
  }
  const newestSource = newestMtime(path.join(PACKAGE_DIR, 'src'));
  if (newestSource > fs.statSync(jsii).mtimeMs) {
    throw new Error('src/ changed after the last compile (.jsii is older): run `npx projen compile` first.');
  }
  const packed = run('npm', ['pack', '--json', '--pack-destination', dir], PACKAGE_DIR);
  if (packed.status !== 0) {
    throw new Error(`npm pack failed:\n${packed.stderr}`);
  }
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }>; size: number }>;
  const files = new Set(info.files.map(f => f.path));
  const missing = ['.jsii', 'lib/index.js', 'lib/index.d.ts', 'assets/lambda/handler/index.js'].filter(f => !files.has(f));
  if (missing.length > 0) {
    throw new Error(`The tarball lacks ${missing.join(', ')}: check .npmignore.`);
  }
  const tarball = path.join(dir, info.filename);
  const digest = createHash('sha256').update(fs.readFileSync(tarball)).digest('hex');
  console.log(`Packed ${path.relative(ROOT, PACKAGE_DIR) || '.'} into ${info.filename}: ${info.files.length} files, ${Math.round(info.size / 1024)} KiB, sha256 ${digest.slice(0, 12)}`);
  return tarball;
}

function runEnvironment(name: string, env: Environment, tarball: string, work: string): EnvironmentReport {
  const report: EnvironmentReport = { name, seconds: { install: 0, app: 0 }, failures: new Map(), notes: [] };
  const versions = Object.entries(env.dependencies).map(([id, version]) => `${id}@${version}`).join(' ');
  console.log(`\n=== ${name}: ${versions} (${env.note})`);
  checkEnvironment(report, env, tarball, work);
  print(report);
  return report;
}

function checkEnvironment(report: EnvironmentReport, env: Environment, tarball: string, work: string): void {
  const name = report.name;

  let started = Date.now();
  const dir = path.join(CACHE, name);
  const installed = install(dir, env, tarball, report);
  report.seconds.install = (Date.now() - started) / 1000;
  if (!installed) {
    return;
  }

  started = Date.now();
  fs.copyFileSync(path.join(__dirname, 'app.js'), path.join(dir, 'app.js'));
  const resultFile = path.join(work, `${name}.json`);
  const major = env.dependencies['cdk-nag'].split('.')[0];
  const app = run(process.execPath, ['app.js', major, resultFile], dir, { CDK_DISABLE_VERSION_CHECK: '1' });
  report.seconds.app = (Date.now() - started) / 1000;
  if (app.status !== 0) {
    fail(report, 'The app failed', `${app.stderr}${app.stdout}`.trim().split('\n'));
    return;
  }
  const result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as AppResult;
  Object.assign(report, { result });
  judge(report, result, env);
}

/** Installs the environment's versions (once per versions) and the tarball (every time) in `dir`. */
function install(dir: string, env: Environment, tarball: string, report: EnvironmentReport): boolean {
  const key = JSON.stringify(env.dependencies);
  const stamp = path.join(dir, '.versions');
  if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== key) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `nag-env-${report.name}`, private: true, dependencies: env.dependencies }, null, 2));
    const npm = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], dir);
    if (npm.status !== 0) {
      fail(report, 'npm install failed', npm.stderr.trim().split('\n'));
      return false;
    }
    fs.writeFileSync(stamp, key);
  } else {
    report.notes.push(`cached install in ${path.relative(ROOT, dir)}`);
  }
  // A new name for each tarball, so npm never takes the previous one for it.
  for (const file of fs.readdirSync(dir).filter(f => f.endsWith('.tgz'))) {
    fs.rmSync(path.join(dir, file));
  }
  fs.rmSync(path.join(dir, 'node_modules', PACKAGE_NAME), { recursive: true, force: true });
  const digest = createHash('sha256').update(fs.readFileSync(tarball)).digest('hex').slice(0, 12);
  const local = `${PACKAGE_NAME}-${digest}.tgz`;
  fs.copyFileSync(tarball, path.join(dir, local));
  const npm = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-save', `./${local}`], dir);
  if (npm.status !== 0) {
    fail(report, 'npm install of the packed library failed', npm.stderr.trim().split('\n'));
    return false;
  }
  return true;
}

/** The failures of one environment's result. */
function judge(report: EnvironmentReport, result: AppResult, env: Environment): void {
  for (const [id, version] of Object.entries(env.dependencies)) {
    if (result.versions[id] !== version) {
      fail(report, 'Wrong versions installed', [`${id}: ${result.versions[id]}, not ${version}`]);
    }
  }
  const expectedPacks = ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R4', 'NIST.800.53.R5', 'PCI.DSS.321', 'Serverless'];
  if (expectedPacks.some(p => !result.packs.includes(p))) {
    fail(report, 'Packs missing', [`ran ${result.packs.join(', ')}; expected ${expectedPacks.join(', ')}`]);
  }
  const under = (scope: string, p: string) => p === scope || p.startsWith(`${scope}/`);
  const ruleOf = (f: Finding) => f.id.slice(f.pack.length + 1).replace(/\[.*$/s, '');
  const library = (f: Finding) =>
    result.providers.some(provider => under(provider, f.path)) ||
    result.associations.some(a =>
      f.path === `${a}/Resource` || f.path === `${a}/Role/Resource` ||
      (f.path === `${a}/Role/DefaultPolicy/Resource` && ruleOf(f) === 'IAMNoInlinePolicy')) ||
    // An add-on role: its role, the customer managed policy it writes, and the form (inline) of its grants policy.
    (result.addonRoles ?? []).some(a =>
      f.path === `${a}/Role/Resource` || f.path === `${a}/Policy/Resource` ||
      (f.path === `${a}/Role/DefaultPolicy/Resource` && ruleOf(f) === 'IAMNoInlinePolicy')) ||
    // A permission set's upstream wildcards, in the policy it landed in: every IAM5 finding there but the user's.
    (result.catalogPolicies ?? []).some(c => f.path === c.path && ruleOf(f) === 'IAM5' && !c.reported.includes(f.id)) ||
    // An agent's custom resource (its policy is the provider's).
    (result.agents ?? []).some(a => f.path === `${a}/Resource`);

  // 1. The library's resources: nothing left to the user.
  const left = result.findings.filter(f => library(f) && !f.acknowledgedBy);
  for (const packName of result.packs) {
    const ofPack = left.filter(f => f.pack === packName);
    if (ofPack.length > 0) {
      fail(report, `Findings on the library's resources, not acknowledged: ${packName} (${ofPack.length})`,
        ofPack.map(f => `${f.path}  ${f.id}  [${f.level}] ${f.message.replace(/ - \(Control IDs?: .*\)\.?$/s, '')}`));
    }
  }

  // 2. The user's resources: everything reported.
  const hidden = result.findings.filter(f => !library(f) && f.acknowledgedBy);
  if (hidden.length > 0) {
    fail(report, 'Findings on the user\'s resources hidden by an acknowledgement', hidden.map(f => `${f.path}  ${f.id}  (acknowledged: ${f.acknowledgedBy})`));
  }
  const reported = result.findings.filter(f => !f.acknowledgedBy);
  const confirmed: string[] = [];
  const expect = (what: string, found: Finding[]) => {
    if (found.length === 0) {
      fail(report, 'Findings on the user\'s resources missing', [what]);
    } else {
      confirmed.push(`${what}: ${[...new Set(found.map(f => f.id))].slice(0, 3).join(', ')}${found.length > 3 ? `, ... (${found.length})` : ''}`);
    }
  };
  for (const policy of result.userResources.grantPolicies) {
    const iam5 = reported.filter(f => f.path === policy && f.pack === 'AwsSolutions');
    expect(`${policy} (the grant's actions)`, iam5.filter(f => f.id === 'AwsSolutions-IAM5[Action::s3:GetObject*]'));
    expect(`${policy} (the grant's objects)`, iam5.filter(f => /^AwsSolutions-IAM5\[Resource::<\w*Bucket\w*\.Arn>\/\*\]$/.test(f.id)));
  }
  for (const bucket of result.userResources.buckets) {
    expect(`${bucket}`, reported.filter(f => f.path === bucket));
  }
  expect(`${result.userResources.vpc}/**`, reported.filter(f => under(result.userResources.vpc, f.path)));
  for (const catalog of result.catalogPolicies ?? []) {
    for (const id of catalog.reported) {
      expect(`${catalog.path} (the user's, next to a permission set)`, reported.filter(f => f.path === catalog.path && f.id === id));
    }
  }
  report.notes.push(...confirmed.map(c => `user finding reported: ${c}`));

  // 3. The library's acknowledgements: none stale, none on what it does not own.
  const ofNag = result.acknowledgements.filter(a => expectedPacks.some(p => a.id.startsWith(`${p}-`)) || a.id.startsWith('CdkNagValidationFailure'));
  const libraryScopes = [...result.providers, ...result.associations, ...result.targetRoles, ...result.addonRoles ?? [], ...result.agents ?? []];
  const owned = (a: Acknowledgement) => libraryScopes.some(scope => under(scope, a.path)) ||
    // The IAM5 acknowledgements of a permission set, on the policy (possibly the user's role's) it landed in.
    ((result.catalogPolicies ?? []).some(c => a.path === c.path) && a.id.startsWith('AwsSolutions-IAM5'));
  const describe = (a: Acknowledgement) => `${a.path}  ${a.id}${a.appliesTo ? ` applies_to ${a.appliesTo.join(', ')}` : ''}`;
  const stale = ofNag.filter(a => owned(a) && a.matches === 0);
  if (stale.length > 0) {
    fail(report, `Stale acknowledgements of the library (no finding matches them) (${stale.length})`, stale.map(describe));
  }
  const foreign = ofNag.filter(a => !owned(a));
  if (foreign.length > 0) {
    fail(report, 'Acknowledgements outside the library\'s constructs', foreign.map(describe));
  }
  // 4. The add-on roles' entries, in the add-ons this aws-cdk-lib synthesizes.
  const wrongEntries = (result.addonChecks ?? []).filter(check => !check.ok);
  if (wrongEntries.length > 0) {
    fail(report, 'Add-ons without the add-on roles\' entries', wrongEntries.map(c => `${c.path}: expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(c.actual)}`));
  } else if (result.addonChecks) {
    report.notes.push(`add-on roles' entries as synthesized: ${result.addonChecks.map(c => c.path).join(', ')}`);
  }

  // 5. The agent: never two AWS::EKS::Addon for eks-pod-identity-agent on one cluster; the add-on the user declares used.
  if (result.agentAddons) {
    const { clusters, expected } = result.agentAddons;
    const twice = clusters.filter(c => c.addons.length > 1);
    if (twice.length > 0) {
      fail(report, 'Clusters with more than one AWS::EKS::Addon for eks-pod-identity-agent', twice.map(c => `${c.key}: ${c.addons.join(', ')}`));
    }
    const wrong = expected.flatMap(e => {
      const found = clusters.find(c => c.key === e.key) ?? { addons: [], agentResources: [] };
      return found.addons.length === e.addons && found.agentResources.length === e.agentResources ? [] : [
        `${e.what}: expected ${e.addons} AWS::EKS::Addon and ${e.agentResources} Custom::EksPodIdentityAgent, ` +
        `got ${found.addons.length} (${found.addons.join(', ') || 'none'}) and ${found.agentResources.length} (${found.agentResources.join(', ') || 'none'})`,
      ];
    });
    if (wrong.length > 0) {
      fail(report, 'The agents\' clusters do not have what they must', wrong);
    } else {
      report.notes.push(`agent add-ons as synthesized: one AWS::EKS::Addon per cluster at most; ${expected.map(e => `${e.what} ${e.addons}/${e.agentResources}`).join('; ')}`);
    }
  } else {
    fail(report, 'No agent add-on check in the result', ['app.js wrote no agentAddons']);
  }

  // 6. cdk-nag 3 run by aws-cdk-lib, as users run it: the same findings reported.
  if (result.plugins) {
    const key = (f: { path: string; id: string }) => `${f.path}  ${f.id}`;
    const asPlugins = new Set(result.plugins.reported.filter(f => expectedPacks.some(p => f.id.startsWith(`${p}-`))).map(key));
    const direct = new Set(reported.map(key));
    if (!result.plugins.ran && env.plugins) {
      fail(report, 'The packs do not run as validation plugins', [result.plugins.note]);
    } else if (!result.plugins.ran) {
      report.notes.push(`as validation plugins: not checked, ${result.plugins.note}`);
    } else {
      const onlyPlugins = [...asPlugins].filter(k => !direct.has(k));
      const onlyDirect = [...direct].filter(k => !asPlugins.has(k));
      if (onlyPlugins.length + onlyDirect.length > 0) {
        fail(report, 'The packs as validation plugins report other findings than validateScope()', [
          ...onlyPlugins.map(k => `only as plugins: ${k}`), ...onlyDirect.map(k => `only from validateScope(): ${k}`),
        ]);
      } else {
        report.notes.push(`as validation plugins (Validations.of(app).addPlugins): the same ${asPlugins.size} findings reported (${result.plugins.note})`);
      }
    }
  }

  report.notes.push(`${ofNag.filter(owned).length} acknowledgements of the library checked, ${result.findings.filter(f => f.acknowledgedBy).length} findings acknowledged, ` +
    `${reported.length} reported (${reported.filter(f => !library(f)).length} on the user's resources)`);
}

function print(report: EnvironmentReport): void {
  for (const note of report.notes) {
    console.log(`  ${note}`);
  }
  for (const [heading, lines] of report.failures) {
    console.log(`  FAIL ${heading}`);
    for (const line of lines) {
      console.log(`    ${line}`);
    }
  }
  console.log(`  ${report.failures.size === 0 ? 'OK' : 'FAILED'} in ${(report.seconds.install + report.seconds.app).toFixed(1)} s ` +
    `(install ${report.seconds.install.toFixed(1)} s, app ${report.seconds.app.toFixed(1)} s)`);
}

function summarize(reports: EnvironmentReport[]): number {
  console.log('\n=== Summary: findings on the library\'s resources left unacknowledged, by pack; stale acknowledgements');
  const packs = ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R4', 'NIST.800.53.R5', 'PCI.DSS.321', 'Serverless'];
  const header = ['env', ...packs, 'stale', 'user', 'seconds', 'result'];
  const rows = reports.map(r => {
    const count = (prefix: string) => [...r.failures].filter(([h]) => h.startsWith(prefix)).reduce((n, [, lines]) => n + lines.length, 0);
    return [
      r.name,
      ...packs.map(p => (r.result ? String(count(`Findings on the library's resources, not acknowledged: ${p} `)) : '-')),
      r.result ? String(count('Stale')) : '-',
      r.result ? (count('Findings on the user') + count('Acknowledgements outside') === 0 ? 'ok' : 'FAIL') : '-',
      (r.seconds.install + r.seconds.app).toFixed(1),
      r.failures.size === 0 ? 'OK' : 'FAILED',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)));
  for (const row of [header, ...rows]) {
    console.log(`  ${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`);
  }
  const failed = reports.filter(r => r.failures.size > 0);
  if (failed.length > 0) {
    console.log(`\ncdk-nag: FAILED in ${failed.map(r => r.name).join(', ')} (details above)`);
    return 1;
  }
  console.log('\ncdk-nag: OK');
  return 0;
}

function fail(report: EnvironmentReport, heading: string, lines: string[]): void {
  report.failures.set(heading, [...report.failures.get(heading) ?? [], ...lines]);
}

function newestMtime(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const file = path.join(dir, entry.name);
    return Math.max(newest, entry.isDirectory() ? newestMtime(file) : fs.statSync(file).mtimeMs);
  }, 0);
}

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 });
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`test:nag: ${(e as Error).message}`);
  process.exitCode = 1;
}
