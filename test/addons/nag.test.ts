import { App, Aspects, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { importedCluster, logicalIdOf, newStack } from './support';
import { AddonRole, AdotCollector, EbsCsiDriverPolicy, MountpointS3Access } from '../../src';

/*
 * cdk-nag 2, every pack: the add-on roles' findings are the library's (AWS's managed policies, the
 * wildcards of the documented customer policies) and acknowledged, each acknowledgement matches a
 * finding, and the user's grants to an add-on role stay reported.
 */

const PACKS: Array<new () => IAspect> = [
  AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks,
];
const PREFIX = /^(AwsSolutions|HIPAA\.Security|NIST\.800\.53\.R4|NIST\.800\.53\.R5|PCI\.DSS\.321|Serverless)-/;

interface Finding { readonly path: string; readonly id: string }

function nagFindings(app: App, stack: Stack): Finding[] {
  for (const Pack of PACKS) {
    Aspects.of(app).add(new Pack());
  }
  app.synth();
  const match = Match.stringLikeRegexp(PREFIX.source);
  return [...Annotations.fromStack(stack).findError('*', match), ...Annotations.fromStack(stack).findWarning('*', match)]
    .map(finding => ({ path: finding.id, id: String(finding.entry.data).split(': ')[0] }));
}

/** Every add-on role of the catalog, with each kind of customer policy; and the user's bucket, granted to one. */
function everyAddonRole(): { app: App; stack: Stack; roles: AddonRole[]; userBucket: s3.Bucket } {
  const app = new App();
  const stack = newStack(app);
  const cluster = importedCluster(stack);
  const buckets = [new s3.Bucket(stack, 'Models', { enforceSSL: true }), s3.Bucket.fromBucketName(stack, 'Reports', 'reports-bucket')];
  const roles = [
    AddonRole.vpcCni(stack, 'VpcCni', { cluster }),
    AddonRole.vpcCni(stack, 'VpcCniIpv6', { cluster: importedCluster(stack, 'ipv6'), ipv6: true }),
    AddonRole.ebsCsiDriver(stack, 'EbsCsiDriver', { cluster, managedPolicy: EbsCsiDriverPolicy.CLUSTER_TAGGED_VOLUMES, kmsKeys: [kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555')] }),
    AddonRole.efsCsiDriver(stack, 'EfsCsiDriver', { cluster }),
    AddonRole.cloudWatchObservability(stack, 'CloudWatch', { cluster }),
    AddonRole.cloudWatchObservability(stack, 'CloudWatchScoped', { cluster: importedCluster(stack, 'scoped'), logsScopedToCluster: true }),
    AddonRole.adot(stack, 'AdotMetrics', { cluster, collector: AdotCollector.PROMETHEUS_METRICS }),
    AddonRole.networkFlowMonitoringAgent(stack, 'NetworkFlowMonitor', { cluster }),
    AddonRole.mountpointS3CsiDriver(stack, 'Mountpoint', { cluster, buckets, access: MountpointS3Access.READ_WRITE_DELETE }),
  ];
  roles[0].attachToAddon(new eks.CfnAddon(stack, 'VpcCniAddon', { clusterName: 'prod', addonName: 'vpc-cni' }));
  const userBucket = new s3.Bucket(stack, 'UserBucket');
  userBucket.grantRead(roles[3]);
  return { app, stack, roles, userBucket };
}

/**
 * Whether the library answers for a finding: on an add-on role's role or customer policy, the form
 * (inline) of its role's grants policy, or the stack's provider (whose hand-over the add-on waits for).
 */
function isLibrarys(roles: AddonRole[], { path, id }: Finding): boolean {
  if (path.startsWith('/Workloads/PodIdentityAssociationProvider/')) {
    return true;
  }
  return roles.some(role => {
    const at = `/${role.node.path}/`;
    return path === `${at}Role/Resource` || path === `${at}Policy/Resource` || (path === `${at}Role/DefaultPolicy/Resource` && /-IAMNoInlinePolicy$/.test(id));
  });
}

class RemoveAcknowledgements implements IAspect {
  public visit(node: IConstruct): void {
    if (node instanceof CfnResource && node.getMetadata('cdk_nag')) {
      node.addMetadata('cdk_nag', { rules_to_suppress: [] });
    }
  }
}

test('no finding on an add-on role\'s role or customer policy is left unacknowledged; the user\'s grants stay reported', () => {
  // GIVEN
  const { app, stack, roles, userBucket } = everyAddonRole();
  // WHEN
  const findings = nagFindings(app, stack);
  // THEN
  expect(findings.filter(f => isLibrarys(roles, f))).toEqual([]);
  const ids = (path: string) => findings.filter(f => f.path === path).map(f => f.id);
  expect(ids('/Workloads/EfsCsiDriver/Role/DefaultPolicy/Resource')).toEqual(expect.arrayContaining([
    'AwsSolutions-IAM5[Action::s3:GetObject*]',
    `AwsSolutions-IAM5[Resource::<${logicalIdOf(userBucket)}.Arn>/*]`,
  ]));
  expect(ids('/Workloads/UserBucket/Resource').length).toBeGreaterThan(0);
});

test('each acknowledgement, for cdk-nag 2 and 3, matches a finding on its resource; every finding of the library has both', () => {
  const { app, stack, roles } = everyAddonRole();
  Aspects.of(app).add(new RemoveAcknowledgements());
  const findings = nagFindings(app, stack);
  const resources = app.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource);
  const v2 = resources.flatMap(resource => ((resource.getMetadata('cdk_nag')?.rules_to_suppress ?? []) as Array<{ id: string; applies_to?: Array<{ regex: string }> }>)
    .map(rule => ({ path: `/${resource.node.path}`, id: rule.id, patterns: (rule.applies_to ?? []).map(a => a.regex) })));
  const v3 = app.node.findAll().flatMap(c => c.node.metadata
    .filter(entry => entry.type === 'aws:cdk:acknowledged-rules')
    .flatMap(entry => Object.keys(entry.data as Record<string, string>).map(id => ({ path: `/${c.node.path}`, id }))));
  const on = (path: string) => findings.filter(f => f.path === path).map(f => f.id);

  // the acknowledgements are on the add-on roles' resources
  expect([...v2, ...v3].filter(a => !isLibrarys(roles, a))).toEqual([]);
  // the managed policies (IAM4) and the customer policies' wildcards (IAM5) are among them
  expect(v3.map(a => a.id)).toEqual(expect.arrayContaining([
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEBSCSIDriverEKSClusterScopedPolicy]',
    'AwsSolutions-IAM5[Resource::*]',
  ]));
  // cdk-nag 2: each pattern matches a finding of its resource
  const stale = v2.filter(({ path, id, patterns }) => patterns.length === 0
    ? !on(path).includes(id)
    : patterns.some(pattern => !on(path).some(found => found.startsWith(`${id}[`) && new RegExp(pattern.slice(1, -1)).test(found.slice(id.length + 1, -1)))));
  expect(stale).toEqual([]);
  // cdk-nag 3: each id is a finding's id
  expect(v3.filter(({ path, id }) => !on(path).includes(id))).toEqual([]);
  // every finding of the library is acknowledged for cdk-nag 3
  expect(findings.filter(f => isLibrarys(roles, f)).filter(f => !v3.some(a => a.path === f.path && a.id === f.id))).toEqual([]);
});

test('a managed policy the user attaches to an add-on role stays reported', () => {
  const { app, stack, roles } = everyAddonRole();
  roles[0].role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AdministratorAccess'));
  const findings = nagFindings(app, stack);
  expect(findings).toContainEqual({ path: '/Workloads/VpcCni/Role/Resource', id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AdministratorAccess]' });
});
