import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ACCOUNT, CLUSTERS, REGION, arn, customerPolicyOf, customerStatementsOf, importedCluster, managedPolicyArnsOf, newStack, trustOf } from './support';
import { AddonRole, AdotCollector, AdotPrometheusDestination, EbsCsiDriverPolicy, MountpointS3Access } from '../../src';

/*
 * The catalog: for each add-on, the role trusts only the add-on's service account of the cluster,
 * and carries the policy AWS recommends, or the customer managed policy the library writes from the
 * user's resources.
 */

const awsManaged = (name: string) => arn(`:iam::aws:policy/${name}`);

/** The trust statement of an add-on role for `namespace/serviceAccount` of cluster `prod`. */
function trustFor(namespace: string, serviceAccount: string, clusterArn: unknown = arn(`:eks:${REGION}:${ACCOUNT}:cluster/prod`)) {
  return {
    Statement: [{
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: {
        StringEquals: {
          'aws:RequestTag/eks-cluster-arn': clusterArn,
          'aws:RequestTag/kubernetes-namespace': namespace,
          'aws:RequestTag/kubernetes-service-account': serviceAccount,
        },
      },
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
    }],
    Version: '2012-10-17',
  };
}

describe('each add-on: the role trusts its service account of the cluster, with AWS\'s recommended policy', () => {
  test.each<[string, (stack: Stack) => AddonRole, string, string, string, string[]]>([
    ['vpc-cni', stack => AddonRole.vpcCni(stack, 'Role', { cluster: importedCluster(stack) }), 'vpc-cni', 'kube-system', 'aws-node', ['AmazonEKS_CNI_Policy']],
    ['aws-ebs-csi-driver', stack => AddonRole.ebsCsiDriver(stack, 'Role', { cluster: importedCluster(stack) }), 'aws-ebs-csi-driver', 'kube-system', 'ebs-csi-controller-sa', ['service-role/AmazonEBSCSIDriverPolicyV2']],
    ['aws-efs-csi-driver', stack => AddonRole.efsCsiDriver(stack, 'Role', { cluster: importedCluster(stack) }), 'aws-efs-csi-driver', 'kube-system', 'efs-csi-controller-sa', ['service-role/AmazonEFSCSIDriverPolicy']],
    ['amazon-cloudwatch-observability', stack => AddonRole.cloudWatchObservability(stack, 'Role', { cluster: importedCluster(stack) }), 'amazon-cloudwatch-observability', 'amazon-cloudwatch', 'cloudwatch-agent', ['CloudWatchAgentServerPolicy', 'AWSXrayWriteOnlyAccess']],
    ['adot, Prometheus metrics', stack => AddonRole.adot(stack, 'Role', { cluster: importedCluster(stack), collector: AdotCollector.PROMETHEUS_METRICS }), 'adot', 'opentelemetry-operator-system', 'adot-col-prom-metrics', ['AmazonPrometheusRemoteWriteAccess']],
    ['adot, OTLP ingest', stack => AddonRole.adot(stack, 'Role', { cluster: importedCluster(stack), collector: AdotCollector.OTLP_INGEST }), 'adot', 'opentelemetry-operator-system', 'adot-col-otlp-ingest', ['AWSXrayWriteOnlyAccess']],
    ['adot, container logs', stack => AddonRole.adot(stack, 'Role', { cluster: importedCluster(stack), collector: AdotCollector.CONTAINER_LOGS }), 'adot', 'opentelemetry-operator-system', 'adot-col-container-logs', ['CloudWatchAgentServerPolicy']],
    ['aws-network-flow-monitoring-agent', stack => AddonRole.networkFlowMonitoringAgent(stack, 'Role', { cluster: importedCluster(stack) }), 'aws-network-flow-monitoring-agent', 'amazon-network-flow-monitor', 'aws-network-flow-monitor-agent-service-account', ['CloudWatchNetworkFlowMonitorAgentPublishPolicy']],
    ['aws-mountpoint-s3-csi-driver', stack => AddonRole.mountpointS3CsiDriver(stack, 'Role', { cluster: importedCluster(stack) }), 'aws-mountpoint-s3-csi-driver', 'kube-system', 's3-csi-driver-sa', []],
  ])('%s', (_, create, addonName, namespace, serviceAccount, managedPolicies) => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const addonRole = create(stack);
    // THEN
    expect(trustOf(addonRole)).toEqual(trustFor(namespace, serviceAccount));
    expect(managedPolicyArnsOf(addonRole)).toEqual(managedPolicies.map(awsManaged));
    expect(customerPolicyOf(addonRole)).toBeUndefined();
    expect([addonRole.addonName, addonRole.namespace, addonRole.serviceAccount, addonRole.clusterName]).toEqual([addonName, namespace, serviceAccount, 'prod']);
    // on IAM's default path: the association handler never passes an add-on role
    expect(Stack.of(addonRole).resolve((addonRole.role.node.defaultChild as any).path)).toBeUndefined();
  });

  test.each(CLUSTERS)('a created %s: the trust names the cluster by its reference', (_, createCluster) => {
    const stack = newStack();
    const cluster = createCluster(stack);
    const addonRole = AddonRole.ebsCsiDriver(stack, 'Role', { cluster });

    const clusterName = stack.resolve(cluster.clusterName);
    expect(clusterName).not.toBe('prod');
    expect(trustOf(addonRole)).toEqual(trustFor('kube-system', 'ebs-csi-controller-sa', arn([`:eks:${REGION}:${ACCOUNT}:cluster/`, clusterName])));
  });

  test('a CfnCluster', () => {
    const stack = newStack();
    const cluster = new eks.CfnCluster(stack, 'Cluster', { roleArn: `arn:aws:iam::${ACCOUNT}:role/eks`, resourcesVpcConfig: { subnetIds: ['subnet-1'] } });
    const addonRole = AddonRole.vpcCni(stack, 'Role', { cluster });
    expect(trustOf(addonRole)).toEqual(trustFor('kube-system', 'aws-node', arn([`:eks:${REGION}:${ACCOUNT}:cluster/`, { Ref: 'Cluster' }])));
  });

  test('an add-on installed in a namespace of the user\'s: the role trusts that namespace', () => {
    const stack = newStack();
    const addonRole = AddonRole.efsCsiDriver(stack, 'Role', { cluster: importedCluster(stack), namespace: 'storage' });
    expect(trustOf(addonRole)).toEqual(trustFor('storage', 'efs-csi-controller-sa'));
    expect(addonRole.namespace).toBe('storage');
  });

  test('a role name', () => {
    const stack = newStack();
    const addonRole = AddonRole.vpcCni(stack, 'Role', { cluster: importedCluster(stack), roleName: 'prod-vpc-cni' });
    expect((addonRole.role.node.defaultChild as any).roleName).toBe('prod-vpc-cni');
  });

  test('the minimum add-on version of each', () => {
    const stack = newStack();
    const cluster = importedCluster(stack);
    expect(AddonRole.vpcCni(stack, 'Cni', { cluster }).minimumAddonVersion).toBe('v1.15.5-eksbuild.1');
    expect(AddonRole.ebsCsiDriver(stack, 'Ebs', { cluster }).minimumAddonVersion).toBe('v1.26.0-eksbuild.1');
    expect(AddonRole.efsCsiDriver(stack, 'Efs', { cluster }).minimumAddonVersion).toBe('v2.0.5-eksbuild.1');
    expect(AddonRole.cloudWatchObservability(stack, 'Cw', { cluster }).minimumAddonVersion).toBe('v3.1.0-eksbuild.1');
    expect(AddonRole.adot(stack, 'Adot', { cluster, collector: AdotCollector.OTLP_INGEST }).minimumAddonVersion).toBe('v0.94.1-eksbuild.1');
    expect(AddonRole.networkFlowMonitoringAgent(stack, 'Nfm', { cluster }).minimumAddonVersion).toBe('v1.0.1');
    expect(AddonRole.mountpointS3CsiDriver(stack, 'S3', { cluster }).minimumAddonVersion).toBeUndefined();
  });
});

describe('vpc-cni on IPv6: the EKS User Guide\'s IPv6 policy, no AWS managed policy', () => {
  const IPV6_STATEMENTS = [
    {
      Action: ['ec2:AssignIpv6Addresses', 'ec2:DescribeInstances', 'ec2:DescribeTags', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstanceTypes'],
      Effect: 'Allow',
      Resource: '*',
    },
    { Action: 'ec2:CreateTags', Effect: 'Allow', Resource: arn(`:ec2:${REGION}:${ACCOUNT}:network-interface/*`) },
  ];

  test('ipv6: true', () => {
    const stack = newStack();
    const addonRole = AddonRole.vpcCni(stack, 'Role', { cluster: importedCluster(stack), ipv6: true });
    expect(customerStatementsOf(addonRole)).toEqual(IPV6_STATEMENTS);
    // the role holds the customer policy only
    expect(managedPolicyArnsOf(addonRole)).toEqual([{ Ref: stack.getLogicalId(addonRole.node.findChild('Policy').node.defaultChild as any) }]);
  });

  test('a cluster created with IpFamily.IP_V6: IPv6 without asking', () => {
    const stack = newStack();
    const cluster = new eksv2.Cluster(stack, 'Cluster', { version: eksv2.KubernetesVersion.V1_34, ipFamily: eksv2.IpFamily.IP_V6 });
    const addonRole = AddonRole.vpcCni(stack, 'Role', { cluster });
    expect(customerStatementsOf(addonRole)).toEqual(IPV6_STATEMENTS);
  });

  test('a cluster imported with IpFamily.IP_V4 and ipv6: true is an error', () => {
    const stack = newStack();
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', ipFamily: eks.IpFamily.IP_V4 });
    expect(() => AddonRole.vpcCni(stack, 'Role', { cluster, ipv6: true }))
      .toThrow(/^\[Workloads\/Role\] `ipv6` must match the cluster's IP family, got: ipv6 true for a cluster with ipFamily "ipv4"\. Remove `ipv6`/);
  });
});

describe('aws-ebs-csi-driver', () => {
  test.each([
    [EbsCsiDriverPolicy.ANY_VOLUME, 'service-role/AmazonEBSCSIDriverPolicy', 'v1.26.0-eksbuild.1'],
    [EbsCsiDriverPolicy.DRIVER_TAGGED_VOLUMES, 'service-role/AmazonEBSCSIDriverPolicyV2', 'v1.26.0-eksbuild.1'],
    [EbsCsiDriverPolicy.CLUSTER_TAGGED_VOLUMES, 'service-role/AmazonEBSCSIDriverEKSClusterScopedPolicy', 'v1.58.0'],
  ])('managedPolicy %s', (managedPolicy, name, minimum) => {
    const stack = newStack();
    const addonRole = AddonRole.ebsCsiDriver(stack, 'Role', { cluster: importedCluster(stack), managedPolicy });
    expect(managedPolicyArnsOf(addonRole)).toEqual([awsManaged(name)]);
    expect(addonRole.minimumAddonVersion).toBe(minimum);
  });

  test('customer managed KMS keys: the EKS User Guide\'s statements, on those keys only', () => {
    // GIVEN
    const stack = newStack();
    const created = new kms.Key(stack, 'VolumeKey');
    const imported = kms.Key.fromKeyArn(stack, 'Imported', `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`);
    // WHEN
    const addonRole = AddonRole.ebsCsiDriver(stack, 'Role', { cluster: importedCluster(stack), kmsKeys: [created, imported] });
    // THEN
    const keys = [{ 'Fn::GetAtt': [stack.getLogicalId(created.node.defaultChild as kms.CfnKey), 'Arn'] }, imported.keyArn];
    expect(customerStatementsOf(addonRole)).toEqual([
      {
        Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'],
        Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        Effect: 'Allow',
        Resource: keys,
      },
      {
        Action: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyPair',
          'kms:GenerateDataKeyPairWithoutPlaintext',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        Effect: 'Allow',
        Resource: keys,
      },
    ]);
    // the managed policy too
    expect(managedPolicyArnsOf(addonRole)).toContainEqual(awsManaged('service-role/AmazonEBSCSIDriverPolicyV2'));
  });

  test.each([
    ['an imported alias', (stack: Stack) => kms.Alias.fromAliasName(stack, 'Alias', 'alias/ebs')],
    ['a key imported by its alias ARN', (stack: Stack) => kms.Key.fromKeyArn(stack, 'ByAlias', `arn:aws:kms:${REGION}:${ACCOUNT}:alias/ebs`)],
  ])('%s is an error: IAM matches key ARNs', (_, key) => {
    const stack = newStack();
    expect(() => AddonRole.ebsCsiDriver(stack, 'Role', { cluster: importedCluster(stack), kmsKeys: [key(stack)] }))
      .toThrow(/^\[Workloads\/Role\] `kmsKeys` must be keys, not aliases: IAM matches a key's ARN, never its alias, got: (Workloads\/Alias|arn:aws:kms:us-east-1:111122223333:alias\/ebs)\. Import the key by its ARN/);
  });
});

describe('aws-mountpoint-s3-csi-driver: Mountpoint\'s permissions on the given buckets', () => {
  test.each([
    [MountpointS3Access.READ_ONLY, ['s3:GetObject'], ['kms:Decrypt']],
    [undefined, ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], ['kms:Decrypt', 'kms:GenerateDataKey']],
    [MountpointS3Access.READ_WRITE_DELETE, ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'], ['kms:Decrypt', 'kms:GenerateDataKey']],
  ])('access %s', (access, objectActions, keyActions) => {
    // GIVEN a bucket with a KMS key and one without
    const stack = newStack();
    const encrypted = new s3.Bucket(stack, 'Encrypted', { encryption: s3.BucketEncryption.KMS });
    const plain = s3.Bucket.fromBucketName(stack, 'Plain', 'plain-bucket');
    // WHEN
    const addonRole = AddonRole.mountpointS3CsiDriver(stack, 'Role', { cluster: importedCluster(stack), buckets: [encrypted, plain], access });
    // THEN
    const encryptedArn = { 'Fn::GetAtt': [stack.getLogicalId(encrypted.node.defaultChild as s3.CfnBucket), 'Arn'] };
    expect(customerStatementsOf(addonRole)).toEqual([
      { Action: 's3:ListBucket', Effect: 'Allow', Resource: [encryptedArn, arn(':s3:::plain-bucket')] },
      { Action: objectActions.length === 1 ? objectActions[0] : objectActions, Effect: 'Allow', Resource: [{ 'Fn::Join': ['', [encryptedArn, '/*']] }, arn(':s3:::plain-bucket/*')] },
      { Action: keyActions.length === 1 ? keyActions[0] : keyActions, Effect: 'Allow', Resource: { 'Fn::GetAtt': [stack.getLogicalId(encrypted.encryptionKey!.node.defaultChild as kms.CfnKey), 'Arn'] } },
    ]);
    expect(managedPolicyArnsOf(addonRole)).toHaveLength(1);
  });
});

describe('amazon-cloudwatch-observability scoped to the cluster\'s log groups', () => {
  test('logsScopedToCluster: a customer managed policy instead of the managed policies', () => {
    const stack = newStack();
    const addonRole = AddonRole.cloudWatchObservability(stack, 'Role', { cluster: importedCluster(stack), logsScopedToCluster: true });
    const logGroup = (name: string) => arn(`:logs:${REGION}:${ACCOUNT}:log-group:${name}`);
    expect(customerStatementsOf(addonRole)).toEqual([
      {
        Action: [
          'cloudwatch:PutMetricData',
          'ec2:DescribeVolumes',
          'ec2:DescribeTags',
          'logs:DescribeLogGroups',
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:GetSamplingStatisticSummaries',
        ],
        Effect: 'Allow',
        Resource: '*',
      },
      {
        Action: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: [logGroup('/aws/containerinsights/prod/*'), logGroup('/aws/application-signals/*')],
      },
    ]);
    expect(managedPolicyArnsOf(addonRole)).toHaveLength(1);
    expect(JSON.stringify(managedPolicyArnsOf(addonRole))).not.toContain(':iam::aws:policy');
  });
});

describe('adot: the policies of the Prometheus collector\'s pipelines', () => {
  test.each([
    [[AdotPrometheusDestination.AMAZON_MANAGED_PROMETHEUS], ['AmazonPrometheusRemoteWriteAccess']],
    [[AdotPrometheusDestination.CLOUDWATCH], ['CloudWatchAgentServerPolicy']],
    [[AdotPrometheusDestination.AMAZON_MANAGED_PROMETHEUS, AdotPrometheusDestination.CLOUDWATCH], ['AmazonPrometheusRemoteWriteAccess', 'CloudWatchAgentServerPolicy']],
  ])('%j', (prometheusDestinations, policies) => {
    const stack = newStack();
    const addonRole = AddonRole.adot(stack, 'Role', { cluster: importedCluster(stack), collector: AdotCollector.PROMETHEUS_METRICS, prometheusDestinations });
    expect(managedPolicyArnsOf(addonRole)).toEqual(policies.map(awsManaged));
  });
});
