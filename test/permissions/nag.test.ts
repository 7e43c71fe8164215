import { App, Aspects, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { SCENARIOS } from './calls';
import { awsLoadBalancerController } from './calls/aws-load-balancer-controller';
import { externalDns } from './calls/external-dns';
import { karpenter } from './calls/karpenter';
import { CLUSTER_ACCOUNT, MODES, REGION, setUp } from './support';
import { ExternalDnsPermissions } from '../../src';

/*
 * cdk-nag's six packs on each permission set, granted the three ways: every wildcard upstream
 * needs is acknowledged (AwsSolutions-IAM5), with the upstream it comes from; every wildcard the
 * user chose stays reported, and so does every finding of the user's own grants in the same policy.
 */

const PACKS: Array<new () => IAspect> = [
  AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks,
];

interface Finding {
  readonly path: string;
  readonly id: string;
}

/** Runs every pack (cdk-nag 2, as aspects) and returns the findings reported in the app's stacks. */
function nagFindings(app: App): Finding[] {
  for (const pack of PACKS) {
    Aspects.of(app).add(new pack());
  }
  app.synth();
  const prefix = Match.stringLikeRegexp('^(AwsSolutions|HIPAA\\.Security|NIST\\.800\\.53\\.R4|NIST\\.800\\.53\\.R5|PCI\\.DSS\\.321|Serverless)-');
  return app.node.children.filter(Stack.isStack).flatMap(stack => [
    ...Annotations.fromStack(stack).findError('*', prefix),
    ...Annotations.fromStack(stack).findWarning('*', prefix),
  ].map(f => ({ path: f.id, id: String(f.entry.data).split(': ')[0] })));
}

/** The policy resources of `role` (its default policy, and the overflow policies a split adds). */
function policiesOf(role: iam.IRole): CfnResource[] {
  return role.node.findAll().filter((c): c is CfnResource => c instanceof iam.CfnPolicy || c instanceof iam.CfnManagedPolicy);
}

/** What the library acknowledged on a resource: cdk-nag 2's suppressions (id, finding, reason) and cdk-nag 3's ids. */
function acknowledgementsOn(resource: CfnResource): { v2: Array<{ finding: string; reason: string }>; v3: string[] } {
  const v2 = ((resource.getMetadata('cdk_nag')?.rules_to_suppress ?? []) as Array<{ id: string; reason: string; applies_to?: string[] }>)
    .filter(rule => rule.id === 'AwsSolutions-IAM5')
    .flatMap(rule => (rule.applies_to ?? []).map(finding => ({ finding, reason: rule.reason })));
  const v3 = resource.node.metadata
    .filter(entry => entry.type === 'aws:cdk:acknowledged-rules')
    .flatMap(entry => Object.keys(entry.data as Record<string, string>));
  return { v2, v3: [...new Set(v3)] };
}

const under = (construct: IConstruct) => (f: Finding) => f.path.startsWith(`/${construct.node.path}/`);

describe.each(SCENARIOS.map(s => [s.name, s] as const))('%s', (_name, scenario) => {
  test.each(MODES)('through a %s: upstream\'s wildcards acknowledged with their source, the user\'s choices reported', mode => {
    // GIVEN
    const { world, build, role } = setUp(scenario, mode);
    // WHEN
    const findings = nagFindings(world.app).filter(under(role));
    // THEN the only IAM5 findings left are the wildcards the user chose
    const iam5 = findings.filter(f => f.id.startsWith('AwsSolutions-IAM5')).map(f => f.id).sort();
    expect(iam5).toEqual((build.reported ?? []).map(f => `AwsSolutions-IAM5[${f}]`).sort());
    // and nothing else but the inline policy of a role the user owns
    const others = findings.filter(f => !f.id.startsWith('AwsSolutions-IAM5'));
    expect(others.filter(f => !f.id.endsWith('-IAMNoInlinePolicy'))).toEqual([]);
    if (mode === 'created role') {
      expect(others).toEqual([]);
    }
    // cdk-nag 2 and 3 acknowledge the same findings, each with the upstream it comes from
    for (const policy of policiesOf(role)) {
      const { v2, v3 } = acknowledgementsOn(policy);
      expect(v3.filter(id => id.startsWith('AwsSolutions-IAM5')).sort()).toEqual(v2.map(a => `AwsSolutions-IAM5[${a.finding}]`).sort());
      for (const { reason } of v2) {
        expect(reason).toContain(`${build.permissions.upstream.source} at ${build.permissions.upstream.version}: `);
      }
    }
  });
});

describe('no acknowledgement hides a finding of the user', () => {
  test('the user\'s own wildcard in the same policy keeps the finding the catalog shares with it reported', () => {
    // GIVEN external-dns (route53:ListHostedZones on *) and a grant of the user's on *, to the same association
    const { world, association, role } = setUp(externalDns, 'created role');
    iam.Grant.addToPrincipal({ grantee: association, actions: ['cloudwatch:PutMetricData'], resourceArns: ['*'] });
    // WHEN
    const findings = nagFindings(world.app).filter(under(role));
    // THEN Resource::* stays reported, for cdk-nag 2 and 3
    expect(findings.map(f => f.id)).toContain('AwsSolutions-IAM5[Resource::*]');
    for (const policy of policiesOf(role)) {
      const { v2, v3 } = acknowledgementsOn(policy);
      expect({ v2, v3: v3.filter(id => id.startsWith('AwsSolutions-IAM5')) }).toEqual({ v2: [], v3: [] });
    }
  });

  test('a bucket grant in the same policy keeps all its findings', () => {
    const { world, association, role, build } = setUp(karpenter, 'created role');
    const bucket = new s3.Bucket(world.workloads, 'Reports');
    bucket.grantRead(association);

    const findings = nagFindings(world.app).filter(under(role)).map(f => f.id);

    expect(findings).toEqual(expect.arrayContaining([
      'AwsSolutions-IAM5[Action::s3:GetObject*]',
      'AwsSolutions-IAM5[Action::s3:List*]',
      `AwsSolutions-IAM5[Resource::<${world.workloads.getLogicalId(bucket.node.defaultChild as CfnResource)}.Arn>/*]`,
    ]));
    expect(findings.filter(id => id.startsWith('AwsSolutions-IAM5[Resource::arn:'))).toEqual((build.reported ?? []).map(f => `AwsSolutions-IAM5[${f}]`));
  });

  test('every hosted zone, chosen: reported; the zone list of upstream\'s ListHostedZones: acknowledged', () => {
    const app = new App();
    const stack = new Stack(app, 'Workloads', { env: { account: CLUSTER_ACCOUNT, region: REGION } });
    const association = new ExternalDnsPermissions({ allHostedZones: true }).associate(stack, 'ExternalDns', {
      cluster: eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' }),
    });

    const findings = nagFindings(app).filter(under(association.role)).map(f => f.id);

    expect(findings).toEqual(['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:route53:::hostedzone/*]']);
  });
});

test('two sets on one role, split by aws-cdk-lib into an overflow managed policy: each policy acknowledges its own upstream wildcards', () => {
  // GIVEN the Load Balancer Controller and Karpenter on one role shared by two associations
  const { world, role } = setUp(awsLoadBalancerController, 'given role');
  karpenter.build({ ...world, landing: new Stack(world.app, 'Imports', { env: { account: CLUSTER_ACCOUNT, region: REGION } }) }).permissions.associate(world.workloads, 'Karpenter', { cluster: world.cluster, role });
  // WHEN
  const findings = nagFindings(world.app).filter(under(role));
  // THEN the role's grants overflow its inline policy into managed policies, and no upstream wildcard is left reported
  const overflow = policiesOf(role).filter(p => p instanceof iam.CfnManagedPolicy);
  expect(overflow.length).toBeGreaterThan(0);
  expect(findings.filter(f => f.id.startsWith('AwsSolutions-IAM5'))).toEqual([]);
  for (const policy of overflow) {
    expect(acknowledgementsOn(policy).v3.length).toBeGreaterThan(0);
  }
});
