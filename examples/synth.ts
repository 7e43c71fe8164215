/**
 * Synthesizes the example apps, each into its own directory of examples/cdk.out/, and prints
 * where each template is. Run it with `npm run synth:example`; no AWS account is needed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { platformApp } from './platform';
import { roleChainApp } from './role-chain';
import { sameAccountApp } from './same-account';
import { sessionPolicyApp } from './session-policy';

const examples: Array<[string, (outdir: string) => App]> = [
  ['same-account', sameAccountApp],
  ['role-chain', roleChainApp],
  ['session-policy', sessionPolicyApp],
  ['platform', platformApp],
];

const root = path.join(__dirname, 'cdk.out');
fs.rmSync(root, { recursive: true, force: true });
for (const [name, build] of examples) {
  const outdir = path.join(root, name);
  const assembly = build(outdir).synth();
  for (const stack of assembly.stacks) {
    console.log(`examples/${name}.ts: stack ${stack.stackName} -> ${path.relative(process.cwd(), path.join(outdir, stack.templateFile))}`);
  }
}
