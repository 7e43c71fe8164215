import * as fs from 'fs';
import * as path from 'path';
import * as fc from 'fast-check';
import { LocalAws } from '../fixtures/local-aws';
import { runScenario, scenarioArb } from '../fixtures/model';

/*
 * Generated sequences of template edits (add, remove, rename, move a construct; swap namespaces;
 * change cluster, role, target role, session tags, policy, tags, adoptExisting, removal policy),
 * with foreign and add-on associations seeded in EKS and a failure at a random point of random
 * deployments, each rolled back in one of the two forms AWS may use for a replaced custom resource.
 * Calls to EKS, SSM and CloudFormation are throttled, fail with 5xx, or lose their connection
 * before or after the service applied them; the stack status event of each completed deployment
 * arrives on time, late (during the next deployment or its rollback), twice, or never.
 * After every deployment, rollback and stack deletion the promise must hold (fixtures/model.ts).
 *
 * `npm test` explores MODEL_RUNS sequences (default below); `npx projen test:model` explores
 * thousands. MODEL_SEED reproduces a run; a failure prints the seed and the shrunk sequence.
 */

/** Sequences to explore: MODEL_RUNS, else 3,000 in the long run (`npx projen test:model`), else 150. */
const RUNS = positive(process.env.MODEL_RUNS) ?? (process.env.MODEL_LONG_RUN === 'true' ? 3_000 : 150);
const SEED = Number(process.env.MODEL_SEED ?? 20261129);
/** Where the count of explored sequences is written, for the report. */
const REPORT = path.join(__dirname, '..', '..', 'test-reports', 'model.json');

test(`${RUNS} generated sequences of deployments keep the promise (seed ${SEED})`, async () => {
  const world = await LocalAws.start({ timeScale: 25, maxPropagationDelayMs: 150, deleteLagMs: 150 });
  // The handler's decisions, counted from its log lines, show what the sequences exercised.
  const decisions: Record<string, number> = {};
  const logs = jest.spyOn(console, 'log').mockImplementation((line: unknown) => {
    const event = /^\{"event":"([a-z-]+)"/.exec(String(line))?.[1];
    if (event && [
      'take-over', 'given-back', 'transfer-final', 'left-alone', 'retry', 'failed', 'replace', 'recreate', 'already-deleted',
      'gone-behind-access-denied', 'applied-behind-access-denied', 'stack-operation-ended', 'unsettled-transfer',
    ].includes(event)) {
      decisions[event] = (decisions[event] ?? 0) + 1;
    }
  });
  const totals = { sequences: 0, deployments: 0, completed: 0, rolledBack: 0, injectedFailures: 0, faultyCalls: 0, stackEvents: { 'on-time': 0, 'late': 0, 'twice': 0, 'never': 0 } };
  const started = Date.now();
  try {
    await fc.assert(fc.asyncProperty(scenarioArb, async scenario => {
      const outcome = await runScenario(world, scenario);
      totals.sequences++;
      totals.deployments += outcome.deployments;
      totals.completed += outcome.completed;
      totals.rolledBack += outcome.rolledBack;
      totals.injectedFailures += outcome.injectedFailures;
      totals.faultyCalls += outcome.faultyCalls;
      for (const [delivery, count] of Object.entries(outcome.events)) {
        totals.stackEvents[delivery as keyof typeof totals.stackEvents] += count;
      }
    }), { numRuns: RUNS, seed: SEED });
  } finally {
    logs.mockRestore();
    await world.stop();
    fs.mkdirSync(path.dirname(REPORT), { recursive: true });
    const report = { seed: SEED, runs: RUNS, ...totals, handlerDecisions: decisions, seconds: Math.round((Date.now() - started) / 1000) };
    fs.writeFileSync(REPORT, JSON.stringify(report, null, 2));
    process.stdout.write(`model-based run: ${JSON.stringify(report)}\n`);
  }
  expect(totals.sequences).toBe(RUNS);
}, 60 * 60_000);

function positive(value: string | undefined): number | undefined {
  const number = Number(value);
  return Number.isInteger(number) && number > 0 ? number : undefined;
}
