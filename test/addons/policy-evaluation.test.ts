import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ACCOUNT, REGION, allows, identityPoliciesOf, importedCluster, newStack } from './support';
import { AddonRole, MountpointS3Access } from '../../src';

/*
 * The customer managed policies the library writes, judged by an IAM policy evaluator
 * (@cloud-copilot/iam-simulate): they allow the calls the add-on makes on the user's resources,
 * and nothing on other resources.
 */

const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-8888-7777-6666-555555555555`;

/** Each call, and whether the policy must allow it. */
type Calls = Array<[action: string, resource: string, allowed: boolean, context?: Record<string, string>]>;

async function judge(policies: Array<Record<string, unknown>>, calls: Calls): Promise<void> {
  const decisions = await Promise.all(calls.map(async ([action, resource, , context]) => allows(policies, action, resource, context)));
  expect(calls.map(([action, resource, , context], i) => [action, resource, context ?? {}, decisions[i]]))
    .toEqual(calls.map(([action, resource, allowed, context]) => [action, resource, context ?? {}, allowed]));
}

describe('Mountpoint for Amazon S3: the given buckets, their objects and keys', () => {
  function mountpointRole(access?: MountpointS3Access) {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Key', KEY);
    const buckets = [
      s3.Bucket.fromBucketAttributes(stack, 'Reports', { bucketArn: 'arn:aws:s3:::reports', encryptionKey: key }),
      s3.Bucket.fromBucketName(stack, 'Models', 'models'),
    ];
    return AddonRole.mountpointS3CsiDriver(stack, 'MountpointRole', { cluster: importedCluster(stack), buckets, access });
  }

  test('READ_WRITE (the default): list, read, write new objects; no delete; nothing in another bucket', async () => {
    await judge(identityPoliciesOf(mountpointRole()), [
      ['s3:ListBucket', 'arn:aws:s3:::reports', true],
      ['s3:GetObject', 'arn:aws:s3:::reports/2026/q1.csv', true],
      ['s3:PutObject', 'arn:aws:s3:::models/llm/weights.bin', true],
      ['s3:AbortMultipartUpload', 'arn:aws:s3:::models/llm/weights.bin', true],
      ['s3:DeleteObject', 'arn:aws:s3:::reports/2026/q1.csv', false],
      ['s3:ListBucket', 'arn:aws:s3:::payroll', false],
      ['s3:GetObject', 'arn:aws:s3:::payroll/2026/q1.csv', false],
      ['s3:PutBucketPolicy', 'arn:aws:s3:::reports', false],
      // SSE-KMS: the bucket's key only
      ['kms:Decrypt', KEY, true],
      ['kms:GenerateDataKey', KEY, true],
      ['kms:Decrypt', OTHER_KEY, false],
    ]);
  });

  test('READ_ONLY: no write, no data key', async () => {
    await judge(identityPoliciesOf(mountpointRole(MountpointS3Access.READ_ONLY)), [
      ['s3:ListBucket', 'arn:aws:s3:::reports', true],
      ['s3:GetObject', 'arn:aws:s3:::reports/2026/q1.csv', true],
      ['s3:PutObject', 'arn:aws:s3:::reports/2026/q1.csv', false],
      ['kms:Decrypt', KEY, true],
      ['kms:GenerateDataKey', KEY, false],
    ]);
  });

  test('READ_WRITE_DELETE: delete too, in the given buckets only', async () => {
    await judge(identityPoliciesOf(mountpointRole(MountpointS3Access.READ_WRITE_DELETE)), [
      ['s3:DeleteObject', 'arn:aws:s3:::reports/2026/q1.csv', true],
      ['s3:DeleteObject', 'arn:aws:s3:::payroll/2026/q1.csv', false],
      ['s3:DeleteBucket', 'arn:aws:s3:::reports', false],
    ]);
  });

  test('bucket.grantRead(addonRole) adds to them', async () => {
    const addonRole = mountpointRole(MountpointS3Access.READ_ONLY);
    s3.Bucket.fromBucketName(addonRole, 'Payroll', 'payroll').grantRead(addonRole);
    await judge(identityPoliciesOf(addonRole), [
      ['s3:GetObject', 'arn:aws:s3:::payroll/2026/q1.csv', true],
      ['s3:PutObject', 'arn:aws:s3:::payroll/2026/q1.csv', false],
    ]);
  });
});

describe('EBS CSI driver with customer managed keys: EBS may use the given keys, only through grants for AWS resources', () => {
  test('the calls EBS makes with the driver\'s credentials, on the key and on another', async () => {
    const stack = newStack();
    const addonRole = AddonRole.ebsCsiDriver(stack, 'EbsCsiDriverRole', { cluster: importedCluster(stack), kmsKeys: [kms.Key.fromKeyArn(stack, 'Key', KEY)] });
    const forAws = { 'kms:GrantIsForAWSResource': 'true' };
    await judge(identityPoliciesOf(addonRole), [
      ['kms:CreateGrant', KEY, true, forAws],
      ['kms:CreateGrant', KEY, false, { 'kms:GrantIsForAWSResource': 'false' }],
      ['kms:ListGrants', KEY, true, forAws],
      ['kms:RevokeGrant', KEY, true, forAws],
      ['kms:GenerateDataKeyWithoutPlaintext', KEY, true],
      ['kms:Decrypt', KEY, true],
      ['kms:ReEncryptFrom', KEY, true],
      ['kms:ReEncryptTo', KEY, true],
      ['kms:DescribeKey', KEY, true],
      ['kms:CreateGrant', OTHER_KEY, false, forAws],
      ['kms:Decrypt', OTHER_KEY, false],
      ['kms:ScheduleKeyDeletion', KEY, false],
      ['kms:PutKeyPolicy', KEY, false],
    ]);
  });
});

describe('VPC CNI on IPv6: the IPv6 policy of the EKS User Guide', () => {
  test('describes, assigns IPv6 addresses, tags network interfaces of the cluster\'s account and region only', async () => {
    const stack = newStack();
    const addonRole = AddonRole.vpcCni(stack, 'VpcCniRole', { cluster: importedCluster(stack), ipv6: true });
    const eni = (region: string, account: string) => `arn:aws:ec2:${region}:${account}:network-interface/eni-0123456789abcdef0`;
    await judge(identityPoliciesOf(addonRole), [
      ['ec2:AssignIpv6Addresses', eni(REGION, ACCOUNT), true],
      ['ec2:DescribeInstances', '*', true],
      ['ec2:DescribeNetworkInterfaces', '*', true],
      ['ec2:CreateTags', eni(REGION, ACCOUNT), true],
      ['ec2:CreateTags', eni('eu-west-1', ACCOUNT), false],
      ['ec2:CreateTags', `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`, false],
      // IPv4 actions of AmazonEKS_CNI_Policy are not IPv6's
      ['ec2:AssignPrivateIpAddresses', eni(REGION, ACCOUNT), false],
      ['ec2:DeleteNetworkInterface', eni(REGION, ACCOUNT), false],
    ]);
  });
});

describe('CloudWatch Observability scoped to the cluster: its log groups only', () => {
  test('Container Insights and Application Signals log groups of this cluster, not others', async () => {
    const stack = newStack();
    const addonRole = AddonRole.cloudWatchObservability(stack, 'CloudWatchRole', { cluster: importedCluster(stack), logsScopedToCluster: true });
    const logGroup = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}`;
    await judge(identityPoliciesOf(addonRole), [
      ['logs:CreateLogGroup', logGroup('/aws/containerinsights/prod/performance'), true],
      ['logs:PutRetentionPolicy', logGroup('/aws/containerinsights/prod/application'), true],
      ['logs:CreateLogStream', `${logGroup('/aws/containerinsights/prod/host')}:log-stream:ip-10-0-0-1`, true],
      ['logs:DescribeLogStreams', logGroup('/aws/containerinsights/prod/host'), true],
      ['logs:PutLogEvents', `${logGroup('/aws/containerinsights/prod/dataplane')}:log-stream:ip-10-0-0-1`, true],
      ['logs:PutLogEvents', `${logGroup('/aws/application-signals/data')}:log-stream:x`, true],
      ['logs:DescribeLogGroups', '*', true],
      ['cloudwatch:PutMetricData', '*', true],
      ['xray:PutTraceSegments', '*', true],
      ['logs:PutLogEvents', `${logGroup('/aws/containerinsights/staging/application')}:log-stream:x`, false],
      ['logs:PutLogEvents', `${logGroup('/aws/lambda/payments')}:log-stream:x`, false],
      ['logs:DeleteLogGroup', logGroup('/aws/containerinsights/prod/application'), false],
      ['ssm:GetParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/AmazonCloudWatch-linux`, false],
    ]);
  });
});
