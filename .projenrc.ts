import { JsonFile, awscdk, javascript } from 'projen';

/**
 * aws-cdk-lib 2.240.0 is the first release in which both `aws-eks` and the (then newly stable)
 * `aws-eks-v2` clusters implement `IClusterRef`, and `IPodIdentityAssociationRef` exists.
 * 2.236.0-2.239.0 have `IClusterRef` only on `aws-eks`; `aws-eks-v2` is not in aws-cdk-lib before
 * 2.240.0. Checked by unpacking each release's aws-eks and aws-eks-v2 `lib/cluster.d.ts`.
 */
const MIN_AWS_CDK_LIB = '2.240.0';

/** Pinned so the handler bundle always carries the same, recent, EKS API model. */
const AWS_SDK_CLIENT_EKS = '3.1175.0';
/**
 * The handler also keeps ownership-transfer records in SSM Parameter Store and asks CloudFormation
 * which phase a request belongs to. 3.1169.0 is the newest release of these two clients; npm
 * dedupes the SDK core they share with the EKS client into the bundle once.
 */
const AWS_SDK_CLIENT_SSM = '3.1169.0';
const AWS_SDK_CLIENT_CLOUDFORMATION = '3.1169.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-eks-pod-identity',
  description:
    'AWS CDK L2 construct for Amazon EKS Pod Identity associations: created roles, role chaining with target roles, session policies and tags, through a shared custom resource.',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'eks', 'pod-identity', 'iam', 'kubernetes', 'eks-pod-identity', 'role-chaining'],
  author: 'cdk-eks-pod-identity maintainers',
  authorAddress: 'maintainers@users.noreply.r-seed-98dc5d1f.example',
  authorOrganization: true,
  repositoryUrl: 'https://github.com/cdk-eks-pod-identity/cdk-eks-pod-identity.git',
  license: 'Apache-2.0',
  stability: 'experimental',

  // The jsii targets; each one also adds its publish job to the release workflow.
  publishToPypi: {
    distName: 'cdk-eks-pod-identity',
    module: 'cdk_eks_pod_identity',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkekspodidentity',
    mavenGroupId: 'io.github.cdk-eks-pod-identity',
    mavenArtifactId: 'cdk-eks-pod-identity',
  },
  publishToNuget: {
    dotNetNamespace: 'CdkEksPodIdentity',
    packageId: 'CdkEksPodIdentity',
  },
  publishToGo: {
    // The bindings are pushed to this repository; the Go module is <moduleName>/<packageName>.
    moduleName: 'github.com/cdk-eks-pod-identity/cdk-eks-pod-identity-go',
    packageName: 'cdkekspodidentity',
  },
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  cdkVersion: MIN_AWS_CDK_LIB,
  constructsVersion: '10.5.0',
  jsiiVersion: '~6.0.0',

  devDeps: [
    `@aws-sdk/client-eks@${AWS_SDK_CLIENT_EKS}`,
    `@aws-sdk/client-ssm@${AWS_SDK_CLIENT_SSM}`,
    `@aws-sdk/client-cloudformation@${AWS_SDK_CLIENT_CLOUDFORMATION}`,
    // Model-based tests: generated CloudFormation sequences, shrunk to the smallest failing one.
    'fast-check@4.11.0',
    // The IAM policy evaluator that judges every call the handler makes in the tests (AGPL-3.0: a
    // test-only tool, never bundled or shipped).
    '@cloud-copilot/iam-simulate@0.1.173',
    // Integration tests in aws-cdk's convention (test/integ.*.ts): the newest alpha whose peer range
    // admits aws-cdk-lib 2.240.0, and the integ-runner that verifies their snapshots.
    '@aws-cdk/integ-tests-alpha@2.239.0-alpha.0',
    '@aws-cdk/integ-runner@2.197.10',
    // cdk-nag 3 requires aws-cdk-lib 2.257+ and 2.38 constructs 10.5.1; the tests run against the minimum we support.
    'cdk-nag@2.37.55',
  ],

  bundlerOptions: {
    esbuildVersion: '^0.28.2',
  },

  // test/tsconfig.json is the dev tsconfig of a jsii project: its paths are relative to test/.
  tsconfigDev: {
    include: ['../lambda/**/*.ts', '../examples/**/*.ts'],
    compilerOptions: {},
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'lambda', 'examples', 'projenrc', 'bench'],
  },

  jestOptions: {
    jestConfig: {
      testTimeout: 60_000,
      // The bundle and the fixtures are not the code under measure.
      coveragePathIgnorePatterns: ['/node_modules/', '/assets/', '/test/'],
    },
  },

  // .jsii.tabl.json: the sample translations rosetta:check writes; generated, and shipped in the npm package.
  gitignore: ['/assets/', '/examples/cdk.out/', '/.jsii.tabl.json'],
});

// The custom-resource handler, bundled with its pinned SDK into assets/lambda/handler/index.js.
project.bundler.addBundle('lambda/handler.ts', {
  platform: 'node',
  // The Lambda runtime is newer; node20 keeps the bundle loadable by the Node.js that runs the tests.
  target: 'node20',
  outfile: 'index.js',
  minify: true,
  sourcemap: false,
  externals: [],
  esbuildArgs: {
    // The SDK's ES modules let esbuild drop the EKS commands the handler never sends.
    '--main-fields': 'module,main',
    // require() for Node built-ins instead of import(), so the bundle also loads in jest's VM.
    '--supported:dynamic-import': 'false',
  },
});
for (const path of ['/lambda/', '/examples/', '/.ci/', '/bench/']) {
  project.npmignore?.exclude(path);
}
project.testTask.prependSpawn(project.bundler.bundleTask);

// Type-checking (and eslint's project service) for the handler, the examples and the benchmark, which jsii does not compile.
for (const dir of ['lambda', 'examples', 'bench']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { rootDir: '..', noEmit: true, types: ['node'] },
      include: ['**/*.ts'],
    },
  });
}

project.addTask('synth:example', {
  description: 'Bundle the handler and synthesize the example apps of examples/ to CloudFormation, in one process (no AWS account needed)',
  steps: [
    { spawn: project.bundler.bundleTask.name },
    { exec: 'ts-node --project examples/tsconfig.json examples/synth.ts' },
  ],
});

// Every TypeScript sample of README.md and of the docstrings must compile (with the fixtures in
// rosetta/) and translate to each jsii language. The translations (.jsii.tabl.json) ship in the
// npm package, so the Python, Java, .NET and Go packages and Construct Hub show translated samples.
const rosettaCheck = project.addTask('rosetta:check', {
  description: 'Compile and translate every code sample of README.md and the docstrings (jsii-rosetta --strict); needs a compiled assembly',
  steps: [{ exec: 'jsii-rosetta extract --strict' }],
});
project.postCompileTask.spawn(rosettaCheck);

// The full Python, Java, .NET and Go packages are built only in the release workflow, which reaches
// their registries; generating the source of each needs no toolchain and no network.
const JSII_TARGETS = ['python', 'java', 'dotnet', 'go'];
project.addTask('pacmak:code-only', {
  description: `Generate the ${JSII_TARGETS.join(', ')} bindings as source code only, into a throwaway directory; fails if any target fails. Needs a compiled assembly`,
  env: { PACMAK_OUTDIR: '$(mktemp -d)' },
  steps: [
    ...JSII_TARGETS.map(target => ({
      name: `pacmak ${target}`,
      exec: `jsii-pacmak --code-only --targets ${target} --outdir "$PACMAK_OUTDIR"`,
    })),
    { exec: 'rm -rf "$PACMAK_OUTDIR"' },
  ],
});

// npm test explores a few hundred generated sequences (test/lambda/model.test.ts); this explores thousands.
project.addTask('test:model', {
  description: 'Model-based runs against the bundled handler and the local AWS stand-ins: 3000 (or MODEL_RUNS) generated sequences of one stack\'s associations (seed MODEL_SEED), and 2000 (or AGENT_MODEL_RUNS) of several stacks that ensure the agent and hand service accounts to add-ons (seed AGENT_MODEL_SEED); writes test-reports/model.json and agent-model.json',
  env: { MODEL_LONG_RUN: 'true' },
  steps: [
    { spawn: project.bundler.bundleTask.name },
    { exec: 'jest test/lambda/model.test.ts test/lambda/agent-model.test.ts --coverage=false --runInBand', receiveArgs: true },
  ],
});

project.addTask('bench', {
  description: 'Benchmark PodIdentityAssociation against a hand-written iam.Role + CfnPodIdentityAssociation (not part of the tests). Args: [--markdown <file>] [--quick]',
  steps: [
    { spawn: project.bundler.bundleTask.name },
    { exec: 'ts-node --project bench/tsconfig.json bench/run.ts', receiveArgs: true },
  ],
});

// Integration tests in aws-cdk's convention: each test/integ.*.ts is a CDK app with
// @aws-cdk/integ-tests-alpha assertions, and test/integ.*.ts.snapshot/ holds what it synthesizes.
// The handler bundle is built first: the snapshots pin its asset hash (diffAssets).
const INTEG_RUNNER = 'integ-runner --language typescript';
// integ-runner keeps the assertion stacks' assets (integ-tests-alpha's 2.2 MB handler, once per
// test) in the snapshots; only the templates are compared, and no snapshot is ever deployed (the
// update workflow is off), so they are removed (with find: projen's built-in shell expands no globs).
const DROP_SNAPSHOT_ASSETS = "find test -maxdepth 2 -type d -path 'test/integ.*.ts.snapshot/asset.*' -prune -exec rm -rf {} +";

project.addTask('integ', {
  description: 'Verify the integration test snapshots offline (what CI runs): synthesize each test/integ.*.ts and compare its stacks\' templates with test/integ.*.ts.snapshot/; no AWS account or network. Args: [integ.<name>.ts ...]',
  steps: [
    { spawn: project.bundler.bundleTask.name },
    { exec: INTEG_RUNNER, receiveArgs: true },
  ],
});

project.addTask('integ:update', {
  description: 'Regenerate the snapshots of the integration tests whose synthesized templates changed (a test, the construct or the handler bundle), offline: synthesized into test/integ.*.ts.snapshot/, nothing deployed (integ-runner --dry-run). Args: [integ.<name>.ts ...]',
  steps: [
    { spawn: project.bundler.bundleTask.name },
    { exec: `${INTEG_RUNNER} --update-on-failed --dry-run`, receiveArgs: true },
    { exec: DROP_SNAPSHOT_ASSETS },
  ],
});

project.addTask('integ:deploy', {
  description: 'Run the integration tests in a real AWS account: deploy each test (an EKS cluster each, about 25 minutes), run its assertions, destroy it, and rewrite its snapshot. Needs credentials of an account bootstrapped in AWS_REGION (required); CDK_INTEG_TARGET_ACCOUNT: a second bootstrapped account that trusts it, for the role-chain test (default: the same account). --dry-run deploys nothing (synthesizes, rewrites the snapshots). Args: [--dry-run] [-vv] [integ.<name>.ts ...]',
  requiredEnv: ['AWS_REGION'],
  steps: [
    { spawn: project.bundler.bundleTask.name },
    // --force: every test, not only those whose snapshot changed. No update workflow: it would first
    // deploy the committed snapshot, which holds placeholder accounts and no handler bundle.
    { exec: `${INTEG_RUNNER} --force --no-update-workflow --parallel-regions $AWS_REGION`, receiveArgs: true },
    { exec: DROP_SNAPSHOT_ASSETS },
  ],
});

// cdk-nag, as users meet it: the packed library installed in a fresh app (test/nag/app.js) with
// cdk-nag 2 and the oldest aws-cdk-lib the library supports, and with cdk-nag 3 and the oldest and a
// recent aws-cdk-lib (versions in test/nag/envs.json; installs cached in node_modules/.cache/nag-envs).
// Every pack runs; it fails on a finding on the library's resources left unacknowledged, a finding on
// the user's resources hidden, or an acknowledgement of the library that matches no finding. Needs a
// compiled library (npx projen compile). Args: [env ...] (default: all), e.g. `npx projen test:nag v3`.
project.addTask('test:nag', {
  description: 'cdk-nag on the packed library in a fresh app: every pack, under cdk-nag 2 (oldest aws-cdk-lib) and cdk-nag 3 (oldest and recent aws-cdk-lib); fails on unacknowledged findings on the library\'s resources, hidden user findings or stale acknowledgements. Needs a compiled library. Args: [v2|v3-oldest|v3 ...]',
  steps: [
    { spawn: project.bundler.bundleTask.name },
    { exec: 'ts-node --project test/tsconfig.json test/nag/run.ts', receiveArgs: true },
  ],
});

project.synth();
