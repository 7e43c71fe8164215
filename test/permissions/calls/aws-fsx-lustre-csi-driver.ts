import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsFsxLustreCsiDriverPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * Amazon FSx for Lustre CSI driver v1.9.0, pkg/cloud/cloud.go: CreateFileSystem (with the
 * StorageClass's s3ImportPath: FSx creates its S3 data-source service-linked role with the caller's
 * permissions, and checks the bucket), DescribeFileSystems while it becomes available,
 * UpdateFileSystem to resize, DeleteFileSystem.
 */
export const awsFsxLustreCsiDriver: Scenario = {
  name: 'AwsFsxLustreCsiDriverPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const fileSystem = arnOf('fsx', REGION, account, 'file-system/fs-0a1b2c3d4e5f60001');
    const dataSourceRole = `arn:aws:iam::${account}:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_fs-0a1b2c3d4e5f60001`;
    return {
      permissions: new AwsFsxLustreCsiDriverPermissions({ dataRepositoryBuckets: [s3.Bucket.fromBucketName(landing, 'Datasets', 'ml-datasets')] }),
      allowed: [
        { action: 'iam:CreateServiceLinkedRole', resource: `arn:aws:iam::${account}:role/aws-service-role/fsx.amazonaws.com/AWSServiceRoleForAmazonFSx`, context: { 'iam:AWSServiceName': 'fsx.amazonaws.com' } },
        { action: 'fsx:CreateFileSystem', resource: arnOf('fsx', REGION, account, 'file-system/fs-0new000000000001'), context: { 'aws:RequestTag/CSIVolumeName': 'pvc-0a1b2c3d', 'aws:TagKeys': ['CSIVolumeName'] } },
        { action: 'iam:CreateServiceLinkedRole', resource: dataSourceRole, context: { 'iam:AWSServiceName': 's3.data-source.lustre.fsx.amazonaws.com' } },
        { action: 'iam:PutRolePolicy', resource: dataSourceRole },
        { action: 's3:ListBucket', resource: 'arn:aws:s3:::ml-datasets' },
        { action: 'fsx:DescribeFileSystems', resource: '*' },
        { action: 'fsx:UpdateFileSystem', resource: fileSystem },
        { action: 'fsx:DeleteFileSystem', resource: fileSystem },
      ],
      denied: [
        { action: 's3:ListBucket', resource: 'arn:aws:s3:::payroll' },
        { action: 'iam:PutRolePolicy', resource: `arn:aws:iam::${account}:role/admin` },
        { action: 'iam:CreateServiceLinkedRole', resource: `arn:aws:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`, context: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
        { action: 's3:GetObject', resource: 'arn:aws:s3:::ml-datasets/train/0001.parquet' },
      ],
    };
  },
};

/** Without S3 data repositories: nothing on S3, and no data-source role. */
export const awsFsxLustreCsiDriverWithoutS3: Scenario = {
  name: 'AwsFsxLustreCsiDriverPermissions (no data repository)',
  build: ({ account }): ScenarioBuild => ({
    permissions: new AwsFsxLustreCsiDriverPermissions(),
    allowed: [{ action: 'fsx:CreateFileSystem', resource: arnOf('fsx', REGION, account, 'file-system/fs-0new000000000001') }],
    denied: [
      { action: 's3:ListBucket', resource: 'arn:aws:s3:::ml-datasets' },
      { action: 'iam:PutRolePolicy', resource: `arn:aws:iam::${account}:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_fs-0a1b2c3d4e5f60001` },
    ],
  }),
};
