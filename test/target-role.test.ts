import { App, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PodIdentityAssociation, PodIdentityTargetRole, PodIdentityTrustedAssociation } from '../src';

const CLUSTER_ACCOUNT = '111122223333';
const TARGET_ACCOUNT = '444455556666';
const CLUSTER_ARN = `arn:aws:eks:us-east-1:${CLUSTER_ACCOUNT}:cluster/prod`;
const ASSOCIATION_ROLE_ARN = `arn:aws:iam::${CLUSTER_ACCOUNT}:role/payments-api`;
const CLUSTER_ACCOUNT_ROOT = { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${CLUSTER_ACCOUNT}:root`]] } };

const API: PodIdentityTrustedAssociation = {
  associationRoleArn: ASSOCIATION_ROLE_ARN,
  clusterArn: CLUSTER_ARN,
  namespace: 'payments',
  serviceAccount: 'api',
};

function targetStack(): Stack {
  return new Stack(new App(), 'Data', { env: { account: TARGET_ACCOUNT, region: 'eu-west-1' } });
}

function trustOf(role: iam.Role): any[] {
  const stack = Stack.of(role);
  const template = Template.fromStack(stack).toJSON();
  return template.Resources[stack.getLogicalId(role.node.defaultChild as iam.CfnRole)].Properties.AssumeRolePolicyDocument.Statement;
}

describe('PodIdentityTargetRole', () => {
  test('with session tags: only the association\'s statement, requiring its role, cluster, namespace and service account', () => {
    // GIVEN
    const stack = targetStack();

    // WHEN
    const role = new PodIdentityTargetRole(stack, 'Reader', { trustedAssociations: [API] });

    // THEN
    expect(trustOf(role)).toEqual([{
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: {
          'aws:RequestTag/eks-cluster-arn': CLUSTER_ARN,
          'aws:RequestTag/kubernetes-namespace': 'payments',
          'aws:RequestTag/kubernetes-service-account': 'api',
        },
        ArnEquals: { 'aws:PrincipalARN': ASSOCIATION_ROLE_ARN },
      },
      Effect: 'Allow',
      Principal: CLUSTER_ACCOUNT_ROOT,
    }]);
  });

  test('without session tags, by cluster name and region: the external id statement and the TagSession statement', () => {
    const stack = targetStack();

    const role = new PodIdentityTargetRole(stack, 'Reader', {
      trustedAssociations: [{
        associationRoleArn: ASSOCIATION_ROLE_ARN,
        clusterName: 'prod',
        clusterRegion: 'us-east-1',
        namespace: 'payments',
        serviceAccount: 'api',
        disableSessionTags: true,
      }],
    });

    expect(trustOf(role)).toEqual([
      {
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'sts:ExternalId': `us-east-1/${CLUSTER_ACCOUNT}/prod/payments/api` },
          ArnEquals: { 'aws:PrincipalARN': ASSOCIATION_ROLE_ARN },
        },
        Effect: 'Allow',
        Principal: CLUSTER_ACCOUNT_ROOT,
      },
      {
        Action: 'sts:TagSession',
        Condition: { ArnEquals: { 'aws:PrincipalARN': ASSOCIATION_ROLE_ARN } },
        Effect: 'Allow',
        Principal: CLUSTER_ACCOUNT_ROOT,
      },
    ]);
  });

  test('trustAssociation() adds its own statement and widens none of the others', () => {
    // GIVEN
    const stack = targetStack();
    const role = new PodIdentityTargetRole(stack, 'Reader', { trustedAssociations: [API] });

    // WHEN
    role.trustAssociation({ ...API, serviceAccount: 'worker', associationRoleArn: `arn:aws:iam::${CLUSTER_ACCOUNT}:role/payments-worker` });

    // THEN
    const statements = trustOf(role);
    expect(statements).toHaveLength(2);
    expect(statements[0].Condition).toEqual({
      StringEquals: {
        'aws:RequestTag/eks-cluster-arn': CLUSTER_ARN,
        'aws:RequestTag/kubernetes-namespace': 'payments',
        'aws:RequestTag/kubernetes-service-account': 'api',
      },
      ArnEquals: { 'aws:PrincipalARN': ASSOCIATION_ROLE_ARN },
    });
    expect(statements[1].Condition).toEqual({
      StringEquals: {
        'aws:RequestTag/eks-cluster-arn': CLUSTER_ARN,
        'aws:RequestTag/kubernetes-namespace': 'payments',
        'aws:RequestTag/kubernetes-service-account': 'worker',
      },
      ArnEquals: { 'aws:PrincipalARN': `arn:aws:iam::${CLUSTER_ACCOUNT}:role/payments-worker` },
    });
  });

  test('takes the role\'s settings; the role is named only when another environment references it', () => {
    const stack = targetStack();
    const boundary = iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', 'boundary');

    const role = new PodIdentityTargetRole(stack, 'Reader', {
      trustedAssociations: [API],
      description: 'Reads reports for payments/api',
      path: '/eks/',
      permissionsBoundary: boundary,
    });

    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
      Description: 'Reads reports for payments/api',
      Path: '/eks/',
      PermissionsBoundary: stack.resolve(boundary.managedPolicyArn),
    });
    const logicalId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
    expect(Template.fromStack(stack).toJSON().Resources[logicalId].Properties.RoleName).toBeUndefined();
  });

  test('a role ARN given as a token is split at deploy time for the principal account', () => {
    const stack = targetStack();
    const roleArn = Token.asString({ Ref: 'AssociationRoleArn' });

    const role = new PodIdentityTargetRole(stack, 'Reader', {
      trustedAssociations: [{ ...API, clusterArn: undefined, clusterName: 'prod', clusterRegion: 'us-east-1', associationRoleArn: roleArn }],
    });

    const [statement] = trustOf(role);
    const account = { 'Fn::Select': [4, { 'Fn::Split': [':', { Ref: 'AssociationRoleArn' }] }] };
    expect(statement.Principal).toEqual({ AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', account, ':root']] } });
    expect(statement.Condition.ArnEquals).toEqual({ 'aws:PrincipalARN': { Ref: 'AssociationRoleArn' } });
  });

  test('in the association\'s app, an empty PodIdentityTargetRole passed to grantTargetRole() holds only that association\'s statement', () => {
    // GIVEN
    const app = new App();
    const workloads = new Stack(app, 'Workloads', { env: { account: CLUSTER_ACCOUNT, region: 'us-east-1' } });
    const data = new Stack(app, 'Data', { env: { account: TARGET_ACCOUNT, region: 'us-east-1' } });
    const cluster = eksv2.Cluster.fromClusterAttributes(workloads, 'Cluster', { clusterName: 'prod' });
    const association = new PodIdentityAssociation(workloads, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api' });
    const reader = new PodIdentityTargetRole(data, 'Reader');

    // WHEN
    association.grantTargetRole(reader);

    // THEN
    expect(trustOf(reader)).toHaveLength(1);
    expect(data.resolve(association.targetRoleTrustPolicy)).toEqual({ Statement: trustOf(reader), Version: '2012-10-17' });
  });

  test('fails synthesis when it trusts no association', () => {
    const stack = targetStack();
    new PodIdentityTargetRole(stack, 'Reader');

    expect(() => Template.fromStack(stack)).toThrow(
      'PodIdentityTargetRole trusts no association, so nothing could assume it, got: an empty trust policy. Pass `trustedAssociations`, call `trustAssociation()`, or pass the role to `PodIdentityAssociation.grantTargetRole()`.',
    );
  });

  test.each<[string, Partial<PodIdentityTrustedAssociation>, string]>([
    ['no cluster', { clusterArn: undefined },
      'The association\'s cluster is required, got neither `clusterArn` nor `clusterName`. Pass `clusterArn` (e.g. arn:aws:eks:us-east-1:111122223333:cluster/prod), or `clusterName` with `clusterRegion`.'],
    ['both forms of cluster', { clusterName: 'prod' },
      `Pass either \`clusterArn\` or \`clusterName\` with \`clusterRegion\`, got both: clusterArn "${CLUSTER_ARN}", clusterName "prod", clusterRegion undefined. Remove \`clusterName\` and \`clusterRegion\`; the cluster ARN holds them.`],
    ['a cluster name without region', { clusterArn: undefined, clusterName: 'prod' },
      '`clusterRegion` is required with `clusterName`, got: undefined (clusterName "prod"). Pass the region of the cluster, or pass `clusterArn` instead.'],
    ['a cluster ARN that is not one', { clusterArn: `arn:aws:eks:us-east-1:${CLUSTER_ACCOUNT}:nodegroup/prod/ng/1` },
      `\`clusterArn\` must be an EKS cluster ARN (arn:<partition>:eks:<region>:<account>:cluster/<name>), got: "arn:aws:eks:us-east-1:${CLUSTER_ACCOUNT}:nodegroup/prod/ng/1". Copy it from the association's account.`],
    ['a role ARN that is not one', { associationRoleArn: 'payments-api' },
      '`associationRoleArn` must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>), got: "payments-api". Copy it from the association\'s account.'],
    ['a role in another account than the cluster', { associationRoleArn: `arn:aws:iam::${TARGET_ACCOUNT}:role/payments-api` },
      `\`associationRoleArn\` must be in the cluster's account (EKS requires iam:PassRole, which works only within one account), got: account ${TARGET_ACCOUNT}, expected ${CLUSTER_ACCOUNT} (from \`clusterArn\`). Pass the ARN of the role the association gives its pods, not of a role in another account.`],
    ['an invalid namespace', { namespace: 'Payments' },
      '`namespace` must be a Kubernetes namespace name'],
  ])('rejects %s', (_, change, message) => {
    const stack = targetStack();
    expect(() => new PodIdentityTargetRole(stack, 'Reader', { trustedAssociations: [{ ...API, ...change }] })).toThrow(message);
    const role = new PodIdentityTargetRole(stack, 'Other', { trustedAssociations: [API] });
    expect(() => role.trustAssociation({ ...API, ...change })).toThrow(message);
  });
});
