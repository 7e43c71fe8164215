import { App, Stack } from 'aws-cdk-lib';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PodIdentityAssociation, PodIdentitySessionTag } from '../src';

function newAssociation(disableSessionTags?: boolean): PodIdentityAssociation {
  const stack = new Stack(new App(), 'Stack', { env: { account: '111122223333', region: 'us-east-1' } });
  const cluster = eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' });
  return new PodIdentityAssociation(stack, 'Api', { cluster, namespace: 'payments', serviceAccount: 'api', disableSessionTags });
}

describe('PodIdentitySessionTag', () => {
  test('names the six session tags EKS Pod Identity adds', () => {
    expect(PodIdentitySessionTag.ALL).toEqual([
      'eks-cluster-arn',
      'eks-cluster-name',
      'kubernetes-namespace',
      'kubernetes-service-account',
      'kubernetes-pod-name',
      'kubernetes-pod-uid',
    ]);
    expect([
      PodIdentitySessionTag.EKS_CLUSTER_ARN,
      PodIdentitySessionTag.EKS_CLUSTER_NAME,
      PodIdentitySessionTag.KUBERNETES_NAMESPACE,
      PodIdentitySessionTag.KUBERNETES_SERVICE_ACCOUNT,
      PodIdentitySessionTag.KUBERNETES_POD_NAME,
      PodIdentitySessionTag.KUBERNETES_POD_UID,
    ]).toEqual(PodIdentitySessionTag.ALL);
  });

  test('builds the condition keys for principal and request tags', () => {
    expect(PodIdentitySessionTag.principalTagKey(PodIdentitySessionTag.KUBERNETES_NAMESPACE)).toBe('aws:PrincipalTag/kubernetes-namespace');
    expect(PodIdentitySessionTag.requestTagKey(PodIdentitySessionTag.EKS_CLUSTER_ARN)).toBe('aws:RequestTag/eks-cluster-arn');
  });

  test('principalTagConditions() matches exactly the values given', () => {
    expect(PodIdentitySessionTag.principalTagConditions({ clusterName: 'prod', namespace: 'payments' })).toEqual({
      StringEquals: {
        'aws:PrincipalTag/eks-cluster-name': 'prod',
        'aws:PrincipalTag/kubernetes-namespace': 'payments',
      },
    });
  });

  test('principalTagConditions() rejects no values, which would admit every session, and empty ones', () => {
    expect(() => PodIdentitySessionTag.principalTagConditions({})).toThrow(
      '`principalTagConditions()` needs at least one of `clusterArn`, `clusterName`, `namespace` or `serviceAccount`, got none. A condition block that matches nothing would admit every session.',
    );
    expect(() => PodIdentitySessionTag.principalTagConditions({ namespace: '' })).toThrow(
      '`namespace` must not be empty, got: "". Leave it out to match any value, or pass the value the session tag carries.',
    );
  });
});

describe('PodIdentityAssociation.principalTagConditions()', () => {
  test('matches the association\'s cluster ARN, namespace and service account, for a resource policy statement', () => {
    // GIVEN
    const association = newAssociation();
    const stack = Stack.of(association);

    // WHEN
    const statement = new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: ['*'],
      principals: [new iam.AccountPrincipal('111122223333')],
      conditions: association.principalTagConditions(),
    });

    // THEN
    expect(stack.resolve(statement.toStatementJson().Condition)).toEqual({
      StringEquals: {
        'aws:PrincipalTag/eks-cluster-arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks:us-east-1:111122223333:cluster/prod']] },
        'aws:PrincipalTag/kubernetes-namespace': 'payments',
        'aws:PrincipalTag/kubernetes-service-account': 'api',
      },
    });
  });

  test('is an error without session tags, since the condition could never hold', () => {
    expect(() => newAssociation(true).principalTagConditions()).toThrow(
      '`principalTagConditions()` needs session tags, but this association has `disableSessionTags: true`, so EKS Pod Identity sends none and the conditions would never hold. Remove `disableSessionTags`, or scope the policy to the role instead.',
    );
  });
});
