import { App, Aspects, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { PROVIDER, importedCluster, newStack } from './support';
import { PodIdentityAgent, PodIdentityAssociation } from '../../src';
import { estimatedPolicyCharacters } from '../../src/private/policy-size';

const PACKS: Array<new () => IAspect> = [
  AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks,
];
const PACK_PREFIX = Match.stringLikeRegexp('^(AwsSolutions|HIPAA\\.Security|NIST\\.800\\.53\\.R4|NIST\\.800\\.53\\.R5|PCI\\.DSS\\.321|Serverless)-');

/** Removes the library's cdk-nag 2 acknowledgements, to see what they hide. */
class RemoveAcknowledgements implements IAspect {
  public visit(node: IConstruct): void {
    if (node instanceof CfnResource && node.getMetadata('cdk_nag')) {
      node.addMetadata('cdk_nag', { rules_to_suppress: [] });
    }
  }
}

/** A stack whose handler serves the agent of cluster blue, and its findings under every cdk-nag 2 pack, by finding id. */
function findingsOf(withoutAcknowledgements: boolean): { stack: Stack; agentPolicy: string; findings: Array<{ path: string; id: string }> } {
  const app = new App();
  const stack = newStack(app);
  new PodIdentityAssociation(stack, 'Api', { cluster: importedCluster(stack, 'blue'), namespace: 'payments', serviceAccount: 'api', ensureAgent: true });
  if (withoutAcknowledgements) {
    Aspects.of(app).add(new RemoveAcknowledgements());
  }
  for (const Pack of PACKS) {
    Aspects.of(app).add(new Pack());
  }
  app.synth();
  const provider = stack.node.findChild(PROVIDER);
  const agentPolicy = provider.node.children.find(c => c.node.id.startsWith('Agent'))!.node.defaultChild!.node.path;
  const findings = [...Annotations.fromStack(stack).findError('*', PACK_PREFIX), ...Annotations.fromStack(stack).findWarning('*', PACK_PREFIX)]
    .map(finding => ({ path: finding.id.slice(1), id: String(finding.entry.data).split(': ')[0] }));
  return { stack, agentPolicy, findings };
}

describe('cdk-nag', () => {
  test('no finding on the provider is left unacknowledged with an agent', () => {
    const { findings } = findingsOf(false);
    expect(findings.filter(f => f.path.startsWith(`Workloads/${PROVIDER}/`))).toEqual([]);
  });

  test('the agent policy\'s findings are exactly those acknowledged, for cdk-nag 2 and 3: the add-on ARN pattern, *, and the inline form', () => {
    const { stack, agentPolicy, findings } = findingsOf(true);
    const onPolicy = findings.filter(f => f.path === agentPolicy).map(f => f.id).sort();
    expect(onPolicy).toEqual([
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:eks:us-east-1:111122223333:addon/blue/eks-pod-identity-agent/*]',
      'HIPAA.Security-IAMNoInlinePolicy',
      'NIST.800.53.R4-IAMNoInlinePolicy',
      'NIST.800.53.R5-IAMNoInlinePolicy',
      'PCI.DSS.321-IAMNoInlinePolicy',
    ]);
    // cdk-nag 3: one acknowledgement per finding id, on the policy
    const resource = stack.node.findAll().find(c => c.node.path === agentPolicy)!;
    const acknowledged = resource.node.metadata.filter(entry => entry.type === 'aws:cdk:acknowledged-rules').flatMap(entry => Object.keys(entry.data as object));
    expect([...new Set(acknowledged)].sort()).toEqual(onPolicy);
  });

  test('the handler role\'s fixed policy acknowledges the agent records\' path, which it reports without acknowledgements', () => {
    const agents = /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:ssm:us-east-1:111122223333:parameter\/cdk-eks-pod-identity\/.*\/agents\/\*\]$/;
    const onDefaultPolicy = (withoutAcknowledgements: boolean) => findingsOf(withoutAcknowledgements).findings
      .filter(f => f.path === `Workloads/${PROVIDER}/HandlerRole/DefaultPolicy/Resource`)
      .map(f => f.id);
    expect(onDefaultPolicy(true).filter(id => agents.test(id))).toHaveLength(1);
    expect(onDefaultPolicy(false)).toEqual([]);
  });
});

test('the policy of an agent cluster is about the size the handler role\'s size check counts (1,700 characters for a name of 20)', () => {
  const stack = newStack();
  PodIdentityAgent.ensure(stack, importedCluster(stack, 'a-cluster-of-20-char'));
  Template.fromStack(stack);
  const policy = stack.node.findChild(PROVIDER).node.children.find(c => c.node.id.startsWith('Agent')) as iam.Policy;
  const size = estimatedPolicyCharacters(stack, [(policy.node.defaultChild as iam.CfnPolicy).policyDocument]);
  expect(size).toBeGreaterThan(1_500);
  expect(size).toBeLessThanOrEqual(1_700);
});
