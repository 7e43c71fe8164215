// The cdk-nag test app. test/nag/run.ts copies it into a throwaway project that installed the
// packed library with one aws-cdk-lib and one cdk-nag (see envs.json), and runs it there with node:
// plain JavaScript, so that nothing is type-checked against the repository's own aws-cdk-lib.
//
//   node app.js <cdk-nag major: 2 | 3> <result.json>
//
// It synthesizes the app below, runs every cdk-nag pack on it, and writes what it saw to
// result.json; run.ts judges it (which resources are the library's, what must be reported):
// - findings: every finding, acknowledged or not, with the acknowledgement that hid it, if any;
// - acknowledgements: the acknowledgements in the app (cdk-nag 2: `cdk_nag.rules_to_suppress`
//   metadata; cdk-nag 3: aws-cdk-lib's `aws:cdk:acknowledged-rules`), each with the findings it matches;
// - providers, associations, targetRoles, addonRoles: the paths of the library's constructs;
// - addonChecks: each add-on's PodIdentityAssociations as this aws-cdk-lib synthesizes them;
// - catalogPolicies: the policies the catalog's permission sets land in, and the findings the user chose there;
// - agents, agentAddons: the paths of the PodIdentityAgents, and per cluster the AWS::EKS::Addon resources for
//   eks-pod-identity-agent and the Custom::EksPodIdentityAgent resources this aws-cdk-lib synthesizes, with what each
//   cluster must have.
'use strict';
const fs = require('fs');
const path = require('path');

const [major, resultFile] = process.argv.slice(2);
if (!['2', '3'].includes(major) || !resultFile) {
  throw new Error('usage: node app.js <2|3> <result.json>');
}

// Everything must come from this project: the parent directories hold the repository's own copies.
const here = fs.realpathSync(__dirname);
const fromHere = id => fs.realpathSync(require.resolve(id, { paths: [here] }));
const libraryMain = fromHere('cdk-eks-pod-identity');
for (const [id, from] of [['aws-cdk-lib', here], ['constructs', here], ['cdk-nag', here], ['aws-cdk-lib', path.dirname(libraryMain)], ['constructs', path.dirname(libraryMain)]]) {
  const resolved = fs.realpathSync(require.resolve(id, { paths: [from] }));
  if (!resolved.startsWith(path.join(here, 'node_modules') + path.sep)) {
    throw new Error(`${id}, required from ${from}, resolves outside the test project: ${resolved}`);
  }
}
const versionOf = id => JSON.parse(fs.readFileSync(path.join(here, 'node_modules', id, 'package.json'), 'utf8')).version;

const cdk = require('aws-cdk-lib');
const { App, Aspects, CfnResource, RemovalPolicy, Stack } = cdk;
const ec2 = require('aws-cdk-lib/aws-ec2');
const eksv1 = require('aws-cdk-lib/aws-eks');
const eks = require('aws-cdk-lib/aws-eks-v2');
const iam = require('aws-cdk-lib/aws-iam');
const kms = require('aws-cdk-lib/aws-kms');
const s3 = require('aws-cdk-lib/aws-s3');
const nag = require('cdk-nag');
const { AddonRole, AdotCollector, EbsCsiDriverPolicy, PodIdentityAssociation, PodIdentityAssociationProvider, PodIdentityTargetRole } = require('cdk-eks-pod-identity');
const { PodIdentityAgent } = require('cdk-eks-pod-identity');
const lambda = require('aws-cdk-lib/aws-lambda');
const { CertManagerPermissions, ExternalDnsPermissions, ExternalSecretsPermissions, KarpenterPermissions } = require('cdk-eks-pod-identity');
const route53 = require('aws-cdk-lib/aws-route53');
const sqs = require('aws-cdk-lib/aws-sqs');

const PACKS = [
  nag.AwsSolutionsChecks,
  nag.HIPAASecurityChecks,
  nag.NIST80053R4Checks,
  nag.NIST80053R5Checks,
  nag.PCIDSS321Checks,
  nag.ServerlessChecks,
];

// ---------------------------------------------------------------------------------------------
// The app: what a user writes.

/**
 * The policies the catalog's permission sets land in, with the AwsSolutions-IAM5 findings that are
 * the user's there (wildcards the user chose, the user's own grants), which must stay reported; set
 * by buildApp().
 */
let catalogPolicies = [];

/** The app, synthesized into `outdir`, and the user's constructs run.ts checks the findings of. */
function buildApp(outdir) {
  const app = new App({ outdir });
  const workloads = new Stack(app, 'Workloads', { env: { account: '111122223333', region: 'us-east-1' } });
  const data = new Stack(app, 'Data', { env: { account: '444455556666', region: 'us-east-1' } });
  const regulated = new Stack(app, 'Regulated', { env: { account: '111122223333', region: 'us-east-1' } });

  // The default provider, and associations with each kind of role.
  const blue = eks.Cluster.fromClusterAttributes(workloads, 'BlueCluster', { clusterName: 'blue' });
  const green = eks.Cluster.fromClusterAttributes(workloads, 'GreenCluster', { clusterName: 'green' });

  const api = new PodIdentityAssociation(workloads, 'Api', { cluster: blue, namespace: 'payments', serviceAccount: 'api' });
  api.grantTargetRole(new PodIdentityTargetRole(data, 'Reader'));

  new PodIdentityAssociation(workloads, 'Reports', {
    cluster: blue,
    namespace: 'reports',
    serviceAccount: 'reports',
    targetRole: new iam.Role(workloads, 'ReportsTarget', { assumedBy: new iam.AccountPrincipal('111122223333') }),
    disableSessionTags: true,
    policy: new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::reports/*'] })],
    }),
    removalPolicy: RemovalPolicy.RETAIN,
  });

  const shared = new iam.Role(workloads, 'Shared', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
  new PodIdentityAssociation(workloads, 'Blue', { cluster: blue, namespace: 'web', serviceAccount: 'web', role: shared, adoptExisting: true });
  new PodIdentityAssociation(workloads, 'Green', { cluster: green, namespace: 'web', serviceAccount: 'web', role: shared });

  new PodIdentityAssociation(workloads, 'Legacy', {
    cluster: green,
    namespace: 'legacy',
    serviceAccount: 'legacy',
    targetRole: iam.Role.fromRoleArn(workloads, 'LegacyTarget', 'arn:aws:iam::444455556666:role/legacy'),
  });

  const files = new PodIdentityAssociation(workloads, 'Files', { cluster: green, namespace: 'files', serviceAccount: 'files' });
  const filesBucket = new s3.Bucket(workloads, 'FilesBucket');
  filesBucket.grantRead(files);

  // Every option of the provider. The VPC and the key are the user's.
  PodIdentityAssociationProvider.getOrCreate(regulated, {
    vpc: new ec2.Vpc(regulated, 'Vpc', { maxAzs: 2 }),
    reservedConcurrentExecutions: 5,
    activeTracing: true,
    frameworkMemorySize: 256,
    logEncryptionKey: new kms.Key(regulated, 'LogKey', { enableKeyRotation: true }),
  });
  const regulatedCluster = eks.Cluster.fromClusterAttributes(regulated, 'BlueCluster', { clusterName: 'blue' });
  const workers = new PodIdentityAssociation(regulated, 'Workers', { cluster: regulatedCluster, namespace: 'workers', serviceAccount: 'workers' });
  const archive = new s3.Bucket(regulated, 'ArchiveBucket');
  archive.grantRead(workers);

  // Add-on roles: on aws-eks-v2 and aws-eks clusters, attached to the L2 Addon of each module and
  // to CfnAddons, with each kind of customer policy; the buckets and the grant are the user's.
  const addons = new Stack(app, 'Addons', { env: { account: '111122223333', region: 'us-east-1' } });
  const blueV2 = eks.Cluster.fromClusterAttributes(addons, 'BlueCluster', { clusterName: 'blue' });
  const greenV1 = eksv1.Cluster.fromClusterAttributes(addons, 'GreenCluster', { clusterName: 'green' });
  const volumeKey = kms.Key.fromKeyArn(addons, 'VolumeKey', 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555');
  AddonRole.ebsCsiDriver(addons, 'EbsCsiDriverRole', { cluster: blueV2, managedPolicy: EbsCsiDriverPolicy.CLUSTER_TAGGED_VOLUMES, kmsKeys: [volumeKey] })
    .attachToAddon(new eks.Addon(addons, 'EbsCsiDriver', { cluster: blueV2, addonName: 'aws-ebs-csi-driver' }));
  AddonRole.vpcCni(addons, 'VpcCniRole', { cluster: greenV1, ipv6: true })
    .attachToAddon(new eksv1.Addon(addons, 'VpcCni', { cluster: greenV1, addonName: 'vpc-cni' }));
  AddonRole.cloudWatchObservability(addons, 'CloudWatchRole', { cluster: blueV2, logsScopedToCluster: true })
    .attachToAddon(new eksv1.CfnAddon(addons, 'CloudWatch', { clusterName: 'blue', addonName: 'amazon-cloudwatch-observability' }));
  const adot = new eks.Addon(addons, 'Adot', { cluster: blueV2, addonName: 'adot' });
  AddonRole.adot(addons, 'AdotMetricsRole', { cluster: blueV2, collector: AdotCollector.PROMETHEUS_METRICS }).attachToAddon(adot);
  AddonRole.adot(addons, 'AdotTracesRole', { cluster: blueV2, collector: AdotCollector.OTLP_INGEST }).attachToAddon(adot);
  const modelsBucket = new s3.Bucket(addons, 'ModelsBucket');
  const mountpoint = AddonRole.mountpointS3CsiDriver(addons, 'MountpointRole', { cluster: blueV2, buckets: [modelsBucket] });
  new eksv1.CfnAddon(addons, 'Mountpoint', { clusterName: 'blue', addonName: 'aws-mountpoint-s3-csi-driver', podIdentityAssociations: [mountpoint.podIdentityAssociation()] });
  const datasets = new s3.Bucket(addons, 'DatasetsBucket');
  datasets.grantRead(mountpoint);
  const addonEntries = {
    'Addons/EbsCsiDriver': ['ebs-csi-controller-sa'],
    'Addons/VpcCni': ['aws-node'],
    'Addons/CloudWatch': ['cloudwatch-agent'],
    'Addons/Adot': ['adot-col-prom-metrics', 'adot-col-otlp-ingest'],
    'Addons/Mountpoint': ['s3-csi-driver-sa'],
  };

  // Permission sets of the catalog (src/permissions/), granted each way: to a created role (next to
  // the user's bucket grant of Files), to a role of the user, and to a target role of another account.
  // Upstream's wildcards are acknowledged on the policy they land in; those the user chose stay reported.
  const zone = route53.HostedZone.fromHostedZoneId(workloads, 'Zone', 'Z0123456789EXAMPLE');
  const externalDns = new ExternalDnsPermissions({ hostedZones: [zone] }).associate(workloads, 'ExternalDns', { cluster: blue });
  new KarpenterPermissions({
    cluster: green,
    nodeRoles: [iam.Role.fromRoleName(workloads, 'KarpenterNodeRole', 'KarpenterNodeRole-green')],
    interruptionQueue: sqs.Queue.fromQueueArn(workloads, 'KarpenterQueue', 'arn:aws:sqs:us-east-1:111122223333:green'),
  }).grant(files);
  const dnsRole = new iam.Role(workloads, 'DnsRole', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
  new CertManagerPermissions({ allHostedZones: true }).associate(workloads, 'CertManager', { cluster: blue, role: dnsRole });
  const secretsReader = new PodIdentityTargetRole(data, 'SecretsReader');
  new ExternalSecretsPermissions({ secretNamePrefixes: ['platform/'] }).associate(workloads, 'ExternalSecrets', { cluster: blue, targetRole: secretsReader });
  catalogPolicies = [
    { path: `${externalDns.node.path}/Role/DefaultPolicy/Resource`, reported: [] },
    // Next to the user's bucket.grantRead(files), whose findings are the user's.
    {
      path: `${files.node.path}/Role/DefaultPolicy/Resource`,
      reported: [...['s3:GetObject*', 's3:GetBucket*', 's3:List*'].map(action => `Action::${action}`), `Resource::<${workloads.getLogicalId(filesBucket.node.defaultChild)}.Arn>/*`]
        .map(finding => `AwsSolutions-IAM5[${finding}]`),
    },
    { path: `${dnsRole.node.path}/DefaultPolicy/Resource`, reported: ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::hostedzone/*]'] },
    { path: `${secretsReader.node.path}/DefaultPolicy/Resource`, reported: ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:platform/*]'] },
  ];

  // The Pod Identity agent. On an imported aws-eks-v2 cluster, ensured by an association: a custom
  // resource, and the handler's policy for the cluster. On clusters whose agent add-on the user
  // declares (an Addon of aws-eks-v2 of their own, a CfnAddon, and cluster.eksPodIdentityAgent of an
  // aws-eks-v2 and of an aws-eks Cluster): the agent uses it, and creates nothing. The clusters are
  // the user's, with their findings.
  new PodIdentityAssociation(workloads, 'Agented', { cluster: blue, namespace: 'agented', serviceAccount: 'agented', ensureAgent: true });
  new eks.Addon(workloads, 'GreenPodIdentityAgent', { cluster: green, addonName: 'eks-pod-identity-agent' });
  PodIdentityAgent.ensure(workloads, green);
  const agentsStack = new Stack(app, 'Agents', { env: { account: '111122223333', region: 'us-east-1' } });
  const autoMode = new eks.Cluster(agentsStack, 'AutoMode', { version: eks.KubernetesVersion.V1_34 });
  autoMode.eksPodIdentityAgent;
  new PodIdentityAssociation(agentsStack, 'AutoModeApp', { cluster: autoMode, namespace: 'app', serviceAccount: 'app', ensureAgent: true });
  const classic = new eksv1.Cluster(agentsStack, 'Classic', {
    version: eksv1.KubernetesVersion.V1_32,
    kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(agentsStack, 'KubectlLayer', 'arn:aws:lambda:us-east-1:111122223333:layer:kubectl:1'),
  });
  new PodIdentityAssociation(agentsStack, 'ClassicApp', { cluster: classic, namespace: 'app', serviceAccount: 'app', ensureAgent: true });
  classic.eksPodIdentityAgent;
  // aws-eks-v2 has its own CfnAddon in newer aws-cdk-lib versions; aws-eks's otherwise.
  const CfnAddon = eks.CfnAddon ?? eksv1.CfnAddon;
  const imported = eks.Cluster.fromClusterAttributes(agentsStack, 'Imported', { clusterName: 'imported' });
  PodIdentityAgent.ensure(agentsStack, imported);
  new CfnAddon(agentsStack, 'ImportedPodIdentityAgent', { clusterName: 'imported', addonName: 'eks-pod-identity-agent' });
  const clusterKey = (stack, clusterName) => JSON.stringify([stack.stackName, stack.resolve(clusterName)]);
  const agentExpectations = [
    { what: 'blue (imported aws-eks-v2, ensureAgent)', key: clusterKey(workloads, 'blue'), addons: 0, agentResources: 1 },
    { what: 'green (imported aws-eks-v2, the user\'s aws-eks-v2 Addon)', key: clusterKey(workloads, 'green'), addons: 1, agentResources: 0 },
    { what: 'AutoMode (aws-eks-v2 Cluster, cluster.eksPodIdentityAgent)', key: clusterKey(agentsStack, autoMode.clusterName), addons: 1, agentResources: 0 },
    { what: 'Classic (aws-eks Cluster, cluster.eksPodIdentityAgent)', key: clusterKey(agentsStack, classic.clusterName), addons: 1, agentResources: 0 },
    { what: `imported (the user's ${eks.CfnAddon ? 'aws-eks-v2' : 'aws-eks'} CfnAddon)`, key: clusterKey(agentsStack, 'imported'), addons: 1, agentResources: 0 },
  ];

  return { app, regulated, files, filesBucket, workers, archive, addons, mountpoint, modelsBucket, datasets, addonEntries, agentExpectations };
}

const { app, regulated, files, filesBucket, workers, archive, addons, mountpoint, modelsBucket, datasets, addonEntries, agentExpectations } = buildApp(path.join(here, 'cdk.out'));

// ---------------------------------------------------------------------------------------------
// cdk-nag.

/** @type {Array<{pack: string, path: string, id: string, level: string, message: string, acknowledgedBy?: string}>} */
const findings = [];
/** @type {Array<{path: string, id: string, appliesTo?: string[], matches: number}>} */
let acknowledgements = [];
const packNames = [];
/** cdk-nag 3: what the packs report when aws-cdk-lib runs them as validation plugins, as users do. */
let plugins;

if (major === '2') {
  runCdkNag2();
} else {
  runCdkNag3();
}

function runCdkNag2() {
  // One logger sees every finding: those a suppression matches (onSuppressed), and the others.
  const logger = {
    onCompliance() {},
    onNotApplicable() {},
    onNonCompliance: d => record(d, d.findingId),
    onSuppressed: d => record(d, d.findingId, d.suppressionReason),
    onError: d => record(d, '', undefined, d.errorMessage),
    onSuppressedError: d => record(d, '', d.errorSuppressionReason, d.errorMessage),
  };
  function record(d, findingId, acknowledgedBy, errorMessage) {
    findings.push({
      pack: d.nagPackName,
      path: d.resource.node.path,
      id: findingId ? `${d.ruleId}[${findingId}]` : d.ruleId,
      level: errorMessage ? 'error (rule failed)' : String(d.ruleLevel),
      message: errorMessage ? `the rule threw: ${errorMessage}` : d.ruleInfo,
      ...errorMessage ? { ruleFailed: true } : {},
      ...acknowledgedBy !== undefined ? { acknowledgedBy } : {},
    });
  }
  for (const Pack of PACKS) {
    const pack = new Pack({ reports: false, additionalLoggers: [logger] });
    packNames.push(pack.readPackName);
    Aspects.of(app).add(pack);
  }
  app.synth();

  // The suppressions in the app, as cdk-nag 2 reads them: each resource's, and each stack's.
  for (const construct of app.node.findAll()) {
    const entries = CfnResource.isCfnResource(construct)
      ? construct.getMetadata('cdk_nag')?.rules_to_suppress
      : Stack.isStack(construct) ? construct.templateOptions.metadata?.cdk_nag?.rules_to_suppress : undefined;
    for (const rule of entries ?? []) {
      const appliesTo = rule.applies_to?.map(a => (typeof a === 'string' ? a : a.regex));
      acknowledgements.push({ path: construct.node.path, id: rule.id, ...appliesTo ? { appliesTo } : {} });
    }
  }
  // Which findings each suppression matches, as cdk-nag 2's NagSuppressionHelper.doesApply decides
  // (a stack's suppressions apply to all its resources). Granular ones: each pattern on its own.
  const under = (scope, p) => p === scope || p.startsWith(`${scope}/`);
  acknowledgements = acknowledgements.flatMap(ack => {
    const candidates = findings.filter(f => under(ack.path, f.path));
    const ruleOf = f => f.id.replace(/\[.*$/, '');
    const findingOf = f => (f.id.includes('[') ? f.id.slice(f.id.indexOf('[') + 1, -1) : '');
    if (ack.id === 'CdkNagValidationFailure') {
      return [{ ...ack, matches: candidates.filter(f => f.ruleFailed && (!ack.appliesTo || ack.appliesTo.some(a => matches(a, ruleOf(f))))).length }];
    }
    const ofRule = candidates.filter(f => ruleOf(f) === ack.id);
    if (!ack.appliesTo) {
      return [{ ...ack, matches: ofRule.length }];
    }
    return ack.appliesTo.map(a => ({ path: ack.path, id: ack.id, appliesTo: [a], matches: ofRule.filter(f => !f.ruleFailed && matches(a, findingOf(f))).length }));
  });
  function matches(appliesTo, findingId) {
    if (!appliesTo.startsWith('/')) {
      return appliesTo === findingId;
    }
    const m = appliesTo.match(/\/(.*)\/(.*)?/);
    return new RegExp(m[1], m[2] || '').test(findingId);
  }
}

function runCdkNag3() {
  // cdk-nag 3 packs are aws-cdk-lib validation plugins. Synthesis runs the constructs' own
  // validations first, which write the library's granular acknowledgements; then each pack checks
  // the tree with validateScope(), cdk-nag 3's entry point for direct invocation.
  app.synth();
  const ACK = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
  if (ACK !== 'aws:cdk:acknowledged-rules') {
    throw new Error(`aws-cdk-lib's Validations.ACKNOWLEDGED_RULES_METADATA_KEY is now ${ACK}`);
  }
  const byId = id => id.replace(/^annotation::/i, '');
  for (const construct of app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type === ACK && entry.data) {
        for (const id of Object.keys(entry.data)) {
          acknowledgements.push({ path: construct.node.path, id: byId(id) });
        }
      }
    }
  }

  for (const Pack of PACKS) {
    const pack = new Pack(app);
    packNames.push(pack.readPackName);
    // Every finding passes through the pack's (private) isAcknowledged(resource, id), which walks
    // from the resource up its ancestors for an acknowledgement of exactly that id: record each,
    // and which ancestor acknowledged it.
    if (typeof pack.isAcknowledged !== 'function') {
      throw new Error(`cdk-nag ${versionOf('cdk-nag')} no longer has NagPack.isAcknowledged(resource, ruleId): update test/nag/app.js`);
    }
    const seen = [];
    const isAcknowledged = pack.isAcknowledged.bind(pack);
    pack.isAcknowledged = (resource, ruleId) => {
      const acknowledged = isAcknowledged(resource, ruleId);
      let acknowledgedBy;
      for (let c = resource; acknowledged && c && acknowledgedBy === undefined; c = c.node.scope) {
        if (c.node.metadata.some(e => e.type === ACK && e.data && Object.keys(e.data).map(byId).includes(ruleId))) {
          acknowledgedBy = c.node.path;
        }
      }
      seen.push({ path: resource.node.path, id: ruleId, acknowledgedBy: acknowledged ? acknowledgedBy ?? '?' : undefined });
      return acknowledged;
    };
    const report = pack.validateScope(app);
    // The report: the findings left, with their messages and severities.
    const reported = new Map();
    for (const v of report.violations) {
      for (const r of v.violatingResources) {
        reported.set(`${r.constructPath} ${v.ruleName}`, v);
      }
    }
    for (const s of seen) {
      const v = reported.get(`${s.path} ${s.id}`);
      if (!s.acknowledgedBy && !v) {
        throw new Error(`cdk-nag did not report ${s.id} on ${s.path}, which it did not find acknowledged: update test/nag/app.js`);
      }
      findings.push({
        pack: pack.readPackName,
        path: s.path,
        id: s.id,
        level: v ? v.severity : '',
        message: v ? v.description : '',
        ...s.acknowledgedBy ? { acknowledgedBy: s.acknowledgedBy } : {},
      });
    }
    if (reported.size !== seen.filter(s => !s.acknowledgedBy).length) {
      throw new Error(`cdk-nag reported ${reported.size} findings of ${pack.readPackName}, but ${seen.filter(s => !s.acknowledgedBy).length} passed through isAcknowledged unacknowledged: update test/nag/app.js`);
    }
  }
  // An acknowledgement matches the findings of exactly its id on its construct or below.
  const under = (scope, p) => p === scope || p.startsWith(`${scope}/`);
  acknowledgements = acknowledgements.map(ack => ({ ...ack, matches: findings.filter(f => f.id === ack.id && under(ack.path, f.path)).length }));

  plugins = runAsPlugins();
}

/**
 * The same app, with the packs added as users add them (`Validations.of(app).addPlugins(pack)`) and
 * synthesized: the violations of the validation report it writes (the user's findings make it fail).
 */
function runAsPlugins() {
  const outdir = path.join(here, 'cdk.out.plugins');
  fs.rmSync(outdir, { recursive: true, force: true });
  const built = buildApp(outdir);
  for (const Pack of PACKS) {
    cdk.Validations.of(built.app).addPlugins(new Pack(built.app));
  }
  const exitCode = process.exitCode;
  let thrown;
  try {
    built.app.synth();
  } catch (e) {
    thrown = e.message;
  }
  // Some versions fail the process instead of throwing.
  process.exitCode = exitCode;
  const file = ['validation-report.json', 'policy-validation-report.json'].map(f => path.join(outdir, f)).find(f => fs.existsSync(f));
  if (!file) {
    return { ran: false, note: `no validation report in ${outdir}${thrown ? `; synth threw: ${thrown}` : ''}`, reported: [] };
  }
  // The report's shape differs between aws-cdk-lib versions: every violation has a ruleName and a
  // list of resources with a constructPath; a plugin that failed has an error message.
  const reported = [];
  const errors = [];
  (function walk(x) {
    if (Array.isArray(x)) {
      x.forEach(walk);
    } else if (x && typeof x === 'object') {
      if (typeof x.ruleName === 'string') {
        for (const list of Object.values(x).filter(Array.isArray)) {
          list.filter(r => r && typeof r.constructPath === 'string').forEach(r => reported.push({ path: r.constructPath, id: x.ruleName }));
        }
      }
      if (typeof x.error === 'string') {
        errors.push(x.error);
      }
      Object.values(x).forEach(walk);
    }
  })(JSON.parse(fs.readFileSync(file, 'utf8')));
  return errors.length > 0
    ? { ran: false, note: `the packs fail as validation plugins: ${[...new Set(errors.map(e => e.replace(/^Validation plugin '[^']*' failed: /, '')))].join('; ')}`, reported }
    : { ran: true, note: `${path.basename(file)}: ${reported.length} findings`, reported };
}

// Once each: some aws-cdk-lib versions (2.257, not 2.276) record each acknowledgement of a construct as a new metadata
// entry holding all of the construct's acknowledgements so far.
const unique = new Map(acknowledgements.map(a => [JSON.stringify([a.path, a.id, a.appliesTo]), a]));
acknowledgements = [...unique.values()];

// ---------------------------------------------------------------------------------------------

const pathsOf = type => app.node.findAll().filter(c => c instanceof type).map(c => c.node.path);

/**
 * The add-on roles' entries as synthesized with this aws-cdk-lib: each add-on's
 * PodIdentityAssociations, by service account, with the role of the add-on role that holds it.
 */
function addonChecks() {
  const template = app.synth().getStackByName(addons.stackName).template;
  return Object.entries(addonEntries).map(([addonPath, serviceAccounts]) => {
    const addon = app.node.findAll().find(c => c.node.path === addonPath);
    const resource = CfnResource.isCfnResource(addon) ? addon : addon.node.defaultChild;
    const entries = template.Resources[addons.getLogicalId(resource)].Properties.PodIdentityAssociations ?? [];
    const roleOf = serviceAccount => app.node.findAll().find(c => c instanceof AddonRole && c.serviceAccount === serviceAccount);
    const expected = serviceAccounts.map(serviceAccount => ({ RoleArn: { 'Fn::GetAtt': [addons.getLogicalId(roleOf(serviceAccount).role.node.defaultChild), 'Arn'] }, ServiceAccount: serviceAccount }));
    return { path: addonPath, ok: JSON.stringify(entries) === JSON.stringify(expected), expected, actual: entries };
  });
}
/**
 * Per cluster (its name as each stack's template holds it: a literal, or a reference within the
 * stack), the AWS::EKS::Addon resources for eks-pod-identity-agent and the Custom::EksPodIdentityAgent
 * resources of the synthesized templates, with what the app expects of the clusters it names.
 */
function agentAddons() {
  const clusters = new Map();
  for (const stack of app.synth().stacks) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      const isAddon = resource.Type === 'AWS::EKS::Addon' && resource.Properties.AddonName === 'eks-pod-identity-agent';
      const isAgent = resource.Type === 'Custom::EksPodIdentityAgent';
      if (!isAddon && !isAgent) {
        continue;
      }
      const key = JSON.stringify([stack.stackName, resource.Properties.ClusterName]);
      const cluster = clusters.get(key) ?? { key, addons: [], agentResources: [] };
      (isAddon ? cluster.addons : cluster.agentResources).push(`${stack.stackName}/${logicalId}`);
      clusters.set(key, cluster);
    }
  }
  return {
    clusters: [...clusters.values()],
    expected: agentExpectations,
  };
}

fs.writeFileSync(resultFile, JSON.stringify({
  versions: { 'aws-cdk-lib': versionOf('aws-cdk-lib'), 'constructs': versionOf('constructs'), 'cdk-nag': versionOf('cdk-nag'), 'cdk-eks-pod-identity': versionOf('cdk-eks-pod-identity') },
  packs: packNames,
  providers: pathsOf(PodIdentityAssociationProvider),
  associations: pathsOf(PodIdentityAssociation),
  targetRoles: pathsOf(PodIdentityTargetRole),
  addonRoles: pathsOf(AddonRole),
  addonChecks: addonChecks(),
  agents: pathsOf(PodIdentityAgent),
  agentAddons: agentAddons(),
  catalogPolicies,
  userResources: {
    grantPolicies: [files, workers, mountpoint].map(a => `${a.node.path}/Role/DefaultPolicy/Resource`),
    buckets: [filesBucket, archive, modelsBucket, datasets].map(b => b.node.defaultChild.node.path),
    vpc: regulated.node.findChild('Vpc').node.path,
  },
  findings,
  acknowledgements,
  ...plugins ? { plugins } : {},
}, null, 1));
