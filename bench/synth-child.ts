/**
 * One timed synth in a fresh Node process, as `cdk synth` runs an app: started by synth.ts with
 * `node -r ts-node/register/transpile-only bench/synth-child.ts <variant> <count>`.
 *
 * The common modules (aws-cdk-lib core, aws-iam, aws-eks-v2, constructs, through ./stacks) are
 * loaded before any timer; then the variant's own modules (`importMs`), then one build (`buildMs`)
 * and one `app.synth()` (`synthMs`, which stages the handler asset). Prints one JSON line.
 */
import { VARIANTS, Variant, buildAndSynth, variantBuilder } from './stacks';

async function main(): Promise<void> {
  const [variantArg, countArg] = process.argv.slice(2);
  const variant = variantArg as Variant;
  const count = Number(countArg);
  if (!VARIANTS.includes(variant) || !Number.isInteger(count) || count < 1) {
    throw new Error(`usage: synth-child.ts <${VARIANTS.join('|')}> <count>, got: ${process.argv.slice(2).join(' ')}`);
  }
  const { buildMs, synthMs, template } = buildAndSynth(variantBuilder(variant), count);
  process.stdout.write(`${JSON.stringify({
    buildMs,
    synthMs,
    templateBytes: JSON.stringify(template).length,
    resources: Object.keys(template.Resources).length,
  })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
