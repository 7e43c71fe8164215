import { App, CfnResource, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PodIdentityAssociation } from '../src';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const RESOURCE_TYPE = 'Custom::EksPodIdentityAssociation';

function newStack(id = 'Stack', app = new App()): Stack {
  return new Stack(app, id, { env: { account: ACCOUNT, region: REGION } });
}

function importedCluster(stack: Stack, clusterName = 'my-cluster'): eksv2.ICluster {
  const id = `Cluster-${clusterName}`;
  return stack.node.tryFindChild(id) as eksv2.ICluster ?? eksv2.Cluster.fromClusterAttributes(stack, id, { clusterName });
}

function associationProperties(stack: Stack): Record<string, any> {
  const resources = Template.fromStack(stack).findResources(RESOURCE_TYPE);
  const [only] = Object.values(resources);
  return only.Properties;
}

describe('PodIdentityAssociation defaults', () => {
  test('creates a role trusted by EKS Pod Identity for sts:AssumeRole and sts:TagSession, only for its cluster, namespace and service account, with no permissions', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const association = new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api' });
    // THEN
    const template = Template.fromStack(stack);
    const roleLogicalId = stack.getLogicalId((association.role as iam.Role).node.defaultChild as iam.CfnRole);
    expect(template.toJSON().Resources[roleLogicalId].Properties.AssumeRolePolicyDocument).toEqual({
      Statement: [{
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: {
            'aws:RequestTag/eks-cluster-arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:eks:${REGION}:${ACCOUNT}:cluster/my-cluster`]] },
            'aws:RequestTag/kubernetes-namespace': 'payments',
            'aws:RequestTag/kubernetes-service-account': 'api',
          },
        },
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
      }],
      Version: '2012-10-17',
    });
    // on the stack's IAM path for created roles, which the handler may pass; no description
    expect(template.toJSON().Resources[roleLogicalId].Properties.Path).toBe('/cdk-eks-pod-identity/Stack/');
    expect(template.toJSON().Resources[roleLogicalId].Properties.Description).toBeUndefined();
    // no policy of its own: the stack's only policies are the provider's
    const policies = template.findResources('AWS::IAM::Policy');
    expect(Object.keys(policies)).toEqual([expect.stringMatching(/^PodIdentityAssociationProviderHandlerRole/), expect.stringMatching(/^PodIdentityAssociationProviderFrameworkRole/)]);
    expect(template.toJSON().Resources[roleLogicalId].Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('writes cluster, namespace, service account and role, and nothing optional', () => {
    const stack = newStack();
    const association = new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api' });

    const properties = associationProperties(stack);
    expect(properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^PodIdentityAssociationProviderframeworkonEvent/), 'Arn'] },
      ClusterName: 'my-cluster',
      Namespace: 'payments',
      ServiceAccount: 'api',
      RoleArn: stack.resolve(association.role.roleArn),
      // CloudFormation waits for each request as long as the provider framework may run, not the default hour
      ServiceTimeout: '900',
    });
  });

  test('deletes the association and its created role with the stack', () => {
    const stack = newStack();
    new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api' });

    const template = Template.fromStack(stack);
    // Delete is CloudFormation's default, so nothing is written
    template.hasResource(RESOURCE_TYPE, { DeletionPolicy: Match.absent(), UpdateReplacePolicy: Match.absent() });
    template.hasResource('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'pods.eks.amazonaws.com' } })] } },
      DeletionPolicy: Match.absent(),
    });
  });

  test('exposes its attributes as the custom resource attributes', () => {
    const stack = newStack();
    const association = new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api' });
    const logicalId = Object.keys(Template.fromStack(stack).findResources(RESOURCE_TYPE))[0];

    expect(stack.resolve(association.associationArn)).toEqual({ 'Fn::GetAtt': [logicalId, 'AssociationArn'] });
    expect(stack.resolve(association.associationId)).toEqual({ 'Fn::GetAtt': [logicalId, 'AssociationId'] });
    expect(stack.resolve(association.externalId)).toEqual({ 'Fn::GetAtt': [logicalId, 'ExternalId'] });
    expect(stack.resolve(association.podIdentityAssociationRef)).toEqual({ associationArn: { 'Fn::GetAtt': [logicalId, 'AssociationArn'] } });
    expect(association.clusterName).toBe('my-cluster');
    expect(association.namespace).toBe('payments');
    expect(association.serviceAccount).toBe('api');
    expect(association.targetRole).toBeUndefined();
  });
});

describe('PodIdentityAssociation props', () => {
  test('uses a given role and creates none', () => {
    const stack = newStack();
    const role = iam.Role.fromRoleArn(stack, 'Given', `arn:aws:iam::${ACCOUNT}:role/payments-api`);
    const association = new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api', role });

    expect(associationProperties(stack).RoleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/payments-api`);
    expect(association.role).toBe(role);
    // the provider's two function roles only
    Template.fromStack(stack).resourceCountIs('AWS::IAM::Role', 2);
  });

  test('passes the target role ARN', () => {
    const stack = newStack();
    const targetRole = iam.Role.fromRoleArn(stack, 'Target', 'arn:aws:iam::444455556666:role/data-reader');
    const association = new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api', targetRole });

    expect(associationProperties(stack).TargetRoleArn).toBe('arn:aws:iam::444455556666:role/data-reader');
    expect(association.targetRole).toBe(targetRole);
  });

  test.each([
    [true, true],
    [false, undefined],
  ])('disableSessionTags %s writes DisableSessionTags %s', (disableSessionTags, expected) => {
    const stack = newStack();
    new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api', disableSessionTags });

    expect(associationProperties(stack).DisableSessionTags).toBe(expected);
  });

  test('renders the session policy to JSON, resolving tokens in it', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Bucket');
    const policy = new iam.PolicyDocument({
      statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects('reports/*')] })],
    });
    new PodIdentityAssociation(stack, 'Association', {
      cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api', disableSessionTags: true, policy,
    });

    const rendered = associationProperties(stack).Policy;
    // a JSON string joined around the bucket's ARN
    expect(rendered['Fn::Join'][0]).toBe('');
    const [head, bucketArn, tail] = rendered['Fn::Join'][1];
    expect(bucketArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Bucket/), 'Arn'] });
    expect(JSON.parse(`${head}BUCKET${tail}`)).toEqual({
      Statement: [{ Action: 's3:GetObject', Effect: 'Allow', Resource: 'BUCKET/reports/*' }],
      Version: '2012-10-17',
    });
  });

  test('merges props tags with Tags.of() tags', () => {
    const stack = newStack();
    new PodIdentityAssociation(stack, 'Association', {
      cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api', tags: { team: 'payments', env: 'dev' },
    });
    Tags.of(stack).add('env', 'prod');
    Tags.of(stack).add('cost-center', '42');

    expect(associationProperties(stack).Tags).toEqual({ 'team': 'payments', 'env': 'prod', 'cost-center': '42' });
  });

  test.each([
    [true, true],
    [false, undefined],
  ])('adoptExisting %s writes AdoptExisting %s', (adoptExisting, expected) => {
    const stack = newStack();
    new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api', adoptExisting });

    expect(associationProperties(stack).AdoptExisting).toBe(expected);
  });

  test.each([RemovalPolicy.RETAIN, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE])('%s keeps the association and the role it created, except when the deployment that created them rolls back', removalPolicy => {
    const stack = newStack();
    new PodIdentityAssociation(stack, 'Association', {
      cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api', removalPolicy,
    });

    const template = Template.fromStack(stack);
    template.hasResource(RESOURCE_TYPE, { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    template.hasResource('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'pods.eks.amazonaws.com' } })] } },
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('is grantable: without a target role, grants go to the association role', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Bucket');
    const association = new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api' });

    bucket.grantRead(association);

    const principalOf = (grantable: iam.IGrantable) => stack.resolve(grantable.grantPrincipal.policyFragment.principalJson);
    expect(principalOf(association)).toEqual(principalOf(association.role));
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['s3:GetObject*']) })]) },
      Roles: [stack.resolve((association.role as iam.Role).roleName)],
    });
  });

  test('the association waits for the grants to its role, made before or after it', () => {
    // GIVEN a created role granted after the association, and a role of the app granted before
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Bucket');
    const created = new PodIdentityAssociation(stack, 'Created', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api' });
    bucket.grantRead(created);
    const role = new iam.Role(stack, 'Given', { assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com') });
    bucket.grantRead(role);
    new PodIdentityAssociation(stack, 'WithGiven', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'worker', role });
    // a created role without grants adds no dependency of its own
    new PodIdentityAssociation(stack, 'Ungranted', { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'idle' });

    // THEN (besides the provider's resources every association depends on: the transfers resource, and the policy that may pass a given role)
    const resources = Template.fromStack(stack).toJSON().Resources;
    const logicalId = (path: string) => stack.getLogicalId(stack.node.findAll().find(c => c.node.path === `Stack/${path}`) as CfnResource);
    const provider = (id: string) => id.startsWith('PodIdentityAssociationProvider');
    const dependsOn = (id: string) => (resources[stack.getLogicalId(stack.node.findChild(id).node.findChild('Resource') as CfnResource)].DependsOn as string[]).filter(d => !provider(d));
    expect(dependsOn('Created')).toEqual([logicalId('Created/Role/DefaultPolicy/Resource')]);
    expect(dependsOn('WithGiven')).toEqual([logicalId('Given/DefaultPolicy/Resource'), logicalId('Given/Resource')]);
    expect(dependsOn('Ungranted')).toEqual([]);
  });
});

describe('clusters', () => {
  /** The resource a `{ Ref }` names in the stack's template. */
  function referencedResource(stack: Stack, ref: { Ref: string }): any {
    return Template.fromStack(stack).toJSON().Resources[ref.Ref];
  }

  /** The cluster ARN the created role's trust requires of EKS Pod Identity's session tags. */
  function trustedClusterArn(stack: Stack, association: PodIdentityAssociation): unknown {
    const role = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId((association.role as iam.Role).node.defaultChild as iam.CfnRole)];
    return role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals['aws:RequestTag/eks-cluster-arn'];
  }

  const clusterArn = (name: unknown) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:eks:${REGION}:${ACCOUNT}:cluster/`, name]] });

  test('aws-eks Cluster: its name is a reference to the cluster custom resource', () => {
    // GIVEN
    const stack = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_32,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:kubectl:1`),
    });
    // WHEN
    const association = new PodIdentityAssociation(stack, 'Association', { cluster, namespace: 'payments', serviceAccount: 'api' });
    // THEN
    const clusterName = associationProperties(stack).ClusterName;
    expect(referencedResource(stack, clusterName).Type).toBe('Custom::AWSCDK-EKS-Cluster');
    expect(trustedClusterArn(stack, association)).toEqual(clusterArn(clusterName));
  });

  test('aws-eks-v2 Cluster: its name is a reference to its AWS::EKS::Cluster', () => {
    const stack = newStack();
    const cluster = new eksv2.Cluster(stack, 'Cluster', { version: eksv2.KubernetesVersion.V1_34 });
    const association = new PodIdentityAssociation(stack, 'Association', { cluster, namespace: 'payments', serviceAccount: 'api' });

    const clusterName = associationProperties(stack).ClusterName;
    expect(clusterName).toEqual({ Ref: stack.getLogicalId(cluster.node.defaultChild as eks.CfnCluster) });
    expect(referencedResource(stack, clusterName).Type).toBe('AWS::EKS::Cluster');
    expect(trustedClusterArn(stack, association)).toEqual(clusterArn(clusterName));
  });

  test('CfnCluster: its name is a reference to it', () => {
    const stack = newStack();
    const cluster = new eks.CfnCluster(stack, 'Cluster', {
      roleArn: `arn:aws:iam::${ACCOUNT}:role/eks`,
      resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] },
    });
    const association = new PodIdentityAssociation(stack, 'Association', { cluster, namespace: 'payments', serviceAccount: 'api' });

    expect(associationProperties(stack).ClusterName).toEqual({ Ref: 'Cluster' });
    expect(referencedResource(stack, { Ref: 'Cluster' }).Type).toBe('AWS::EKS::Cluster');
    expect(trustedClusterArn(stack, association)).toEqual(clusterArn({ Ref: 'Cluster' }));
  });

  test.each([
    ['aws-eks-v2', (stack: Stack) => eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' })],
    ['aws-eks', (stack: Stack) => eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' })],
  ])('a cluster imported by name (%s): the literal name, and no cluster resource in the stack', (_module, importCluster) => {
    const stack = newStack();
    const association = new PodIdentityAssociation(stack, 'Association', { cluster: importCluster(stack), namespace: 'payments', serviceAccount: 'api' });

    expect(associationProperties(stack).ClusterName).toBe('prod');
    expect(trustedClusterArn(stack, association)).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:eks:${REGION}:${ACCOUNT}:cluster/prod`]] });
    Template.fromStack(stack).resourceCountIs('AWS::EKS::Cluster', 0);
  });

  test('a cluster in another stack of the same environment', () => {
    const app = new App();
    const clusterStack = newStack('Clusters', app);
    const vpc = new ec2.Vpc(clusterStack, 'Vpc');
    const cluster = new eksv2.Cluster(clusterStack, 'Cluster', { version: eksv2.KubernetesVersion.V1_34, vpc });
    const stack = newStack('Workloads', app);
    new PodIdentityAssociation(stack, 'Association', { cluster, namespace: 'payments', serviceAccount: 'api' });

    expect(associationProperties(stack).ClusterName).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Clusters:ExportsOutputRefCluster/) });
  });
});

describe('the shared provider', () => {
  test('one provider per stack, however many associations', () => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    for (const serviceAccount of ['a', 'b', 'c']) {
      new PodIdentityAssociation(stack, `Association-${serviceAccount}`, { cluster, namespace: 'payments', serviceAccount });
    }

    const template = Template.fromStack(stack);
    template.resourceCountIs(RESOURCE_TYPE, 3);
    // the handler and the provider framework's onEvent function
    template.resourceCountIs('AWS::Lambda::Function', 2);
    const tokens = new Set(Object.values(template.findResources(RESOURCE_TYPE)).map(r => JSON.stringify(r.Properties.ServiceToken)));
    expect(tokens.size).toBe(1);
  });

  test('each stack has its own provider', () => {
    const app = new App();
    const stacks = ['One', 'Two'].map(id => {
      const stack = newStack(id, app);
      new PodIdentityAssociation(stack, 'Association', { cluster: importedCluster(stack), namespace: id.toLowerCase(), serviceAccount: 'api' });
      return stack;
    });
    for (const stack of stacks) {
      Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 2);
    }
  });
});

describe('fromPodIdentityAssociationArn', () => {
  test('parses a literal ARN', () => {
    const stack = newStack();
    const imported = PodIdentityAssociation.fromPodIdentityAssociationArn(stack, 'Imported',
      'arn:aws:eks:eu-west-1:444455556666:podidentityassociation/prod/a-abcdefghijklmnop1');

    expect(imported.associationArn).toBe('arn:aws:eks:eu-west-1:444455556666:podidentityassociation/prod/a-abcdefghijklmnop1');
    expect(imported.associationId).toBe('a-abcdefghijklmnop1');
    expect(imported.env).toEqual({ account: '444455556666', region: 'eu-west-1' });
    expect(imported.podIdentityAssociationRef.associationArn).toBe(imported.associationArn);
  });

  test('takes a token and selects the id at deploy time', () => {
    const stack = newStack();
    const imported = PodIdentityAssociation.fromPodIdentityAssociationArn(stack, 'Imported', Token.asString({ Ref: 'AssociationArnParameter' }));

    expect(stack.resolve(imported.associationId)).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AssociationArnParameter' }] }] });
  });

  test('rejects a string that is not an association ARN', () => {
    const stack = newStack();
    expect(() => PodIdentityAssociation.fromPodIdentityAssociationArn(stack, 'Imported', 'arn:aws:eks:us-east-1:111122223333:cluster/prod'))
      .toThrow('`associationArn` must be an EKS Pod Identity association ARN (arn:<partition>:eks:<region>:<account>:podidentityassociation/<cluster>/a-<17 letters and digits>), got: "arn:aws:eks:us-east-1:111122223333:cluster/prod".');
  });
});

describe('validation', () => {
  function associate(stack: Stack, props: Partial<ConstructorParameters<typeof PodIdentityAssociation>[2]> = {}, id = 'Association') {
    return new PodIdentityAssociation(stack, id, { cluster: importedCluster(stack), namespace: 'payments', serviceAccount: 'api', ...props });
  }

  test.each(['Payments', 'pay_ments', '-payments', 'payments-', 'a'.repeat(64), ''])('rejects namespace %j', namespace => {
    expect(() => associate(newStack(), { namespace })).toThrow(`\`namespace\` must be a Kubernetes namespace name (a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit), got: ${JSON.stringify(namespace)}.`);
  });

  test.each(['API', 'api_server', 'api..server', '.api', 'a'.repeat(254)])('rejects service account %j', serviceAccount => {
    expect(() => associate(newStack(), { serviceAccount })).toThrow(`\`serviceAccount\` must be a Kubernetes service account name (a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit), got: ${JSON.stringify(serviceAccount)}.`);
  });

  test('accepts the longest valid names and dotted service accounts', () => {
    expect(() => associate(newStack(), { namespace: 'a'.repeat(63), serviceAccount: 'api.v2-server' })).not.toThrow();
  });

  test('skips tokens', () => {
    const stack = newStack();
    expect(() => associate(stack, { namespace: Token.asString({ Ref: 'Namespace' }), serviceAccount: Token.asString({ Ref: 'ServiceAccount' }) })).not.toThrow();
  });

  test('rejects a session policy while session tags are enabled', () => {
    const policy = new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] })] });
    expect(() => associate(newStack(), { policy })).toThrow('`policy` requires `disableSessionTags: true` (EKS rejects a session policy while session tags are enabled), got: disableSessionTags undefined. Set `disableSessionTags: true`, or remove `policy`.');
  });

  test('rejects a session policy that is not an identity policy', () => {
    const stack = newStack();
    const policy = new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'], principals: [new iam.AnyPrincipal()] })] });
    associate(stack, { policy, disableSessionTags: true });
    expect(() => Template.fromStack(stack)).toThrow(/`policy` is not a valid session policy: A PolicyStatement used in an identity-based policy cannot specify any IAM principals/);
  });

  test('rejects 50 tags, counting Tags.of(): one of the 50 EKS allows is the owner mark', () => {
    const stack = newStack();
    const tags = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`key-${i}`, 'v']));
    associate(stack, { tags });
    Tags.of(stack).add('one-more', 'v');
    expect(() => Template.fromStack(stack)).toThrow(/`tags` may hold at most 49 tags \(EKS allows 50 per association, 1 of them used by this library\), got: 50/);
  });

  test('accepts 49 tags', () => {
    const stack = newStack();
    associate(stack, { tags: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`key-${i}`, 'v'])) });
    expect(Object.keys(associationProperties(stack).Tags)).toHaveLength(49);
  });

  test('rejects the owner mark\'s key as a user tag', () => {
    const stack = newStack();
    associate(stack, { tags: { 'cdk-eks-pod-identity:owner': 'me' } });
    expect(() => Template.fromStack(stack)).toThrow('`tags` key "cdk-eks-pod-identity:owner" is reserved for the owner mark of the association. Rename the key.');
  });

  test.each([
    [{ ['k'.repeat(129)]: 'v' }, /`tags` keys must be 1 to 128 characters long, got: "k{129}" \(129 characters\)/],
    [{ 'aws:team': 'v' }, /`tags` keys must not start with "aws:", which AWS reserves, got: "aws:team"/],
    [{ 'AWS:team': 'v' }, /`tags` keys must not start with "aws:", which AWS reserves, got: "AWS:team"/],
    [{ team: 'v'.repeat(257) }, /`tags` values must be at most 256 characters long, got 257 characters for key "team"/],
  ])('rejects tags %#', (tags, message) => {
    const stack = newStack();
    associate(stack, { tags });
    expect(() => Template.fromStack(stack)).toThrow(message);
  });

  test('rejects a role from another account than the cluster', () => {
    const stack = newStack();
    const role = iam.Role.fromRoleArn(stack, 'Other', 'arn:aws:iam::444455556666:role/elsewhere');
    expect(() => associate(stack, { role })).toThrow('`role` must be in the same account as the cluster (EKS requires iam:PassRole, which works only within one account), got: account 444455556666, expected 111122223333. Use a role from the cluster\'s account, and put a role from another account in `targetRole` instead.');
  });

  test('accepts a target role from another account', () => {
    const stack = newStack();
    const targetRole = iam.Role.fromRoleArn(stack, 'Other', 'arn:aws:iam::444455556666:role/elsewhere');
    expect(() => associate(stack, { targetRole })).not.toThrow();
  });

  test('rejects a cluster in another account or region than the stack', () => {
    const stack = newStack();
    const cluster = eksv2.Cluster.fromClusterAttributes(newStack('Elsewhere', new App()), 'Cluster', { clusterName: 'prod' });
    const otherRegion = new Stack(new App(), 'West', { env: { account: ACCOUNT, region: 'us-west-2' } });
    const westCluster = eksv2.Cluster.fromClusterAttributes(otherRegion, 'Cluster', { clusterName: 'prod' });

    expect(() => associate(stack, { cluster: westCluster })).toThrow('`cluster` must be in the same region as the stack that holds the association, got: region us-west-2, expected us-east-1.');
    expect(() => associate(stack, { cluster }, 'Same')).not.toThrow();
  });

  test('rejects SNAPSHOT', () => {
    expect(() => associate(newStack(), { removalPolicy: RemovalPolicy.SNAPSHOT })).toThrow('`removalPolicy` must be RemovalPolicy.DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE, got: RemovalPolicy.SNAPSHOT.');
  });

  test('rejects two associations for one service account, across stacks of the app', () => {
    const app = new App();
    const one = newStack('One', app);
    const two = newStack('Two', app);
    associate(one);
    expect(() => associate(two)).toThrow('Service account "payments/api" of this cluster already has a Pod Identity association in this app, at One/Association; EKS allows one per service account.');
  });

  test('allows the same service account on two clusters, or in two apps', () => {
    const stack = newStack();
    associate(stack);
    expect(() => associate(stack, { cluster: importedCluster(stack, 'other') }, 'OtherCluster')).not.toThrow();
    expect(() => associate(newStack())).not.toThrow();
  });

  test('produces no warnings', () => {
    const stack = newStack();
    associate(stack);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});
