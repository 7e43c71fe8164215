import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { platformApp } from '../examples/platform';
import { roleChainApp } from '../examples/role-chain';
import { sameAccountApp } from '../examples/same-account';
import { sessionPolicyApp } from '../examples/session-policy';

const RESOURCE_TYPE = 'Custom::EksPodIdentityAssociation';
const CLUSTER_ACCOUNT = '111122223333';
const TARGET_ACCOUNT = '444455556666';

/** `arn:<partition><rest>`, as CDK renders an ARN in the stack's partition. */
function arn(rest: string) {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] };
}

function stackOf(app: App, id: string): Stack {
  return app.node.findChild(id) as Stack;
}

/** The associations of a stack's template, by logical id. */
function associations(template: Template): Record<string, any> {
  return template.findResources(RESOURCE_TYPE);
}

/** Asserts one shared provider: every association has the same service token, and the stack one handler and one provider framework function. */
function expectOneProvider(template: Template): void {
  const tokens = new Set(Object.values(associations(template)).map(r => JSON.stringify(r.Properties.ServiceToken)));
  expect(tokens.size).toBe(1);
  template.resourceCountIs('AWS::Lambda::Function', 2);
}

/** Synthesizes an example app (into a temporary directory) and checks it has no errors or warnings. */
function synthesized(app: App): App {
  app.synth();
  for (const stack of app.node.children.filter(Stack.isStack)) {
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  }
  return app;
}

describe('examples/same-account.ts', () => {
  test('one provider and an association for each of the two service accounts, each with a role of its own', () => {
    // GIVEN / WHEN
    const app = synthesized(sameAccountApp());
    // THEN
    const template = Template.fromStack(stackOf(app, 'SameAccount'));
    expectOneProvider(template);
    const properties = Object.values(associations(template)).map(r => r.Properties);
    expect(properties.map(p => `${p.ClusterName} ${p.Namespace}/${p.ServiceAccount}`)).toEqual(['prod reports/generator', 'prod reports/viewer']);
    expect(new Set(properties.map(p => JSON.stringify(p.RoleArn))).size).toBe(2);
  });

  test('the generator\'s role may write to the bucket', () => {
    const template = Template.fromStack(stackOf(synthesized(sameAccountApp()), 'SameAccount'));

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['s3:PutObject']) })]) },
      Roles: [{ Ref: Match.stringLikeRegexp('^GeneratorRole') }],
    });
  });
});

describe('examples/role-chain.ts', () => {
  test('the association in the cluster account names the target role of the data account', () => {
    const app = synthesized(roleChainApp());

    const template = Template.fromStack(stackOf(app, 'RoleChainWorkloads'));
    expectOneProvider(template);
    const [association] = Object.values(associations(template));
    expect(Object.keys(associations(template))).toHaveLength(1);
    expect(association.Properties).toMatchObject({
      ClusterName: 'prod',
      Namespace: 'reports',
      ServiceAccount: 'generator',
      TargetRoleArn: arn(`:iam::${TARGET_ACCOUNT}:role/rolechaindataatareportsreader11a3d1fa48b524160d3c`),
    });
  });

  test('the target role trusts only the association role, for this cluster, namespace and service account', () => {
    const app = synthesized(roleChainApp());

    const data = Template.fromStack(stackOf(app, 'RoleChainData'));
    // no association, so no provider, in the data account
    data.resourceCountIs(RESOURCE_TYPE, 0);
    data.resourceCountIs('AWS::Lambda::Function', 0);
    data.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'rolechaindataatareportsreader11a3d1fa48b524160d3c',
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Effect: 'Allow',
          Principal: { AWS: arn(`:iam::${CLUSTER_ACCOUNT}:root`) },
          Condition: {
            ArnEquals: { 'aws:PrincipalARN': arn(`:iam::${CLUSTER_ACCOUNT}:role/cdk-eks-pod-identity/RoleChainWorkloads/rolechainworkloadsadsgeneratorrole612af5e628685ed27a78`) },
            StringEquals: {
              'aws:RequestTag/eks-cluster-arn': arn(`:eks:us-east-1:${CLUSTER_ACCOUNT}:cluster/prod`),
              'aws:RequestTag/kubernetes-namespace': 'reports',
              'aws:RequestTag/kubernetes-service-account': 'generator',
            },
          },
        }],
        Version: '2012-10-17',
      },
    });
  });

  test('neither stack imports from the other, so they deploy in either order', () => {
    const app = synthesized(roleChainApp());

    for (const id of ['RoleChainWorkloads', 'RoleChainData']) {
      expect(JSON.stringify(Template.fromStack(stackOf(app, id)).toJSON())).not.toContain('Fn::ImportValue');
      expect(stackOf(app, id).dependencies).toEqual([]);
    }
  });
});

describe('examples/session-policy.ts', () => {
  test('two associations share one role, each narrowed by its own session policy without session tags', () => {
    const app = synthesized(sessionPolicyApp());

    const template = Template.fromStack(stackOf(app, 'SessionPolicy'));
    expectOneProvider(template);
    const properties = Object.values(associations(template)).map(r => r.Properties);
    expect(properties).toHaveLength(2);
    const [uploader, publisher] = properties;
    expect(uploader.RoleArn).toEqual(publisher.RoleArn);
    for (const [association, action, prefix] of [[uploader, 's3:PutObject', 'incoming'], [publisher, 's3:GetObject', 'outgoing']]) {
      expect(association.DisableSessionTags).toBe(true);
      expect(association.Policy).toEqual({
        'Fn::Join': ['', [
          `{"Statement":[{"Action":"${action}","Effect":"Allow","Resource":"`,
          { 'Fn::GetAtt': [expect.stringMatching(/^Exchange/), 'Arn'] },
          `/${prefix}/*"}],"Version":"2012-10-17"}`,
        ]],
      });
    }
  });
});

describe('examples/platform.ts', () => {
  /** The statements of the policy of the role the association `id` created. */
  function statementsOf(template: Template, id: string): any[] {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${id}Role`) }] } });
    return Object.values(policies).flatMap(p => p.Properties.PolicyDocument.Statement);
  }

  test('five controllers, each associated with the service account of its Helm chart, through one provider', () => {
    // GIVEN / WHEN
    const template = Template.fromStack(stackOf(synthesized(platformApp()), 'Platform'));
    // THEN
    expectOneProvider(template);
    expect(Object.values(associations(template)).map(r => `${r.Properties.ClusterName} ${r.Properties.Namespace}/${r.Properties.ServiceAccount}`)).toEqual([
      'prod kube-system/aws-load-balancer-controller',
      'prod external-dns/external-dns',
      'prod cert-manager/cert-manager',
      'prod external-secrets/external-secrets',
      'prod kube-system/karpenter',
    ]);
  });

  test('the stack ensures the agent of the cluster, and every association waits for it', () => {
    const template = Template.fromStack(stackOf(synthesized(platformApp()), 'Platform'));

    const agents = template.findResources('Custom::EksPodIdentityAgent');
    expect(Object.values(agents).map(r => r.Properties.ClusterName)).toEqual(['prod']);
    const [agentId] = Object.keys(agents);
    for (const [id, association] of Object.entries(associations(template))) {
      expect([id, association.DependsOn]).toEqual([id, expect.arrayContaining([agentId])]);
    }
  });

  test('external-dns and cert-manager change the records of the one zone; External Secrets reads the secrets under platform/', () => {
    const template = Template.fromStack(stackOf(synthesized(platformApp()), 'Platform'));
    const zone = arn(':route53:::hostedzone/Z0123456789EXAMPLE');

    expect(statementsOf(template, 'ExternalDns')).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['route53:ChangeResourceRecordSets']), Resource: zone }));
    expect(statementsOf(template, 'CertManager')).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['route53:ChangeResourceRecordSets']), Resource: zone }));
    expect(statementsOf(template, 'ExternalSecrets')).toContainEqual(expect.objectContaining({
      Action: expect.arrayContaining(['secretsmanager:GetSecretValue']),
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:*:', { Ref: 'AWS::AccountId' }, ':secret:platform/*']] },
    }));
  });

  test('Karpenter passes only its node role, to EC2, and reads only its interruption queue', () => {
    const template = Template.fromStack(stackOf(synthesized(platformApp()), 'Platform'));
    const statements = statementsOf(template, 'Karpenter');

    expect(statements.filter(s => [s.Action].flat().includes('iam:PassRole'))).toEqual([{
      Action: 'iam:PassRole',
      Condition: { StringEquals: { 'iam:PassedToService': ['ec2.amazonaws.com', 'ec2.amazonaws.com.cn'] } },
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^KarpenterNodeRole/), 'Arn'] },
    }]);
    expect(statements).toContainEqual(expect.objectContaining({
      Action: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^KarpenterInterruptionQueue/), 'Arn'] },
    }));
  });
});
