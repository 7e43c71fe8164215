import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { MountpointS3CsiDriverPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * Mountpoint for Amazon S3 v1.23.0 (doc/CONFIGURATION.md, "IAM permissions"): a mount lists the
 * bucket (ListObjectsV2), reads objects (GetObject), writes new files (PutObject, multipart
 * uploads, AbortMultipartUpload on failure) and, with --allow-delete, deletes them; SSE-KMS
 * objects need kms:Decrypt and kms:GenerateDataKey.
 */
export const mountpointS3CsiDriver: Scenario = {
  name: 'MountpointS3CsiDriverPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const key = arnOf('kms', REGION, account, 'key/0a1b2c3d-1111-2222-3333-444455556666');
    const bucket = s3.Bucket.fromBucketAttributes(landing, 'Datasets', { bucketName: 'ml-datasets', encryptionKey: kms.Key.fromKeyArn(landing, 'Key', key) });
    return {
      permissions: new MountpointS3CsiDriverPermissions({ buckets: [bucket] }),
      reported: ['Resource::arn:<AWS::Partition>:s3:::ml-datasets/*'],
      allowed: [
        { action: 's3:ListBucket', resource: 'arn:aws:s3:::ml-datasets' },
        { action: 's3:GetObject', resource: 'arn:aws:s3:::ml-datasets/train/0001.parquet' },
        { action: 's3:PutObject', resource: 'arn:aws:s3:::ml-datasets/out/model.bin' },
        { action: 's3:AbortMultipartUpload', resource: 'arn:aws:s3:::ml-datasets/out/model.bin' },
        { action: 's3:DeleteObject', resource: 'arn:aws:s3:::ml-datasets/out/model.bin' },
        { action: 'kms:Decrypt', resource: key },
        { action: 'kms:GenerateDataKey', resource: key },
      ],
      denied: [
        { action: 's3:ListBucket', resource: 'arn:aws:s3:::payroll' },
        { action: 's3:GetObject', resource: 'arn:aws:s3:::payroll/2026/03.csv' },
        { action: 's3:DeleteBucket', resource: 'arn:aws:s3:::ml-datasets' },
        { action: 's3:PutBucketPolicy', resource: 'arn:aws:s3:::ml-datasets' },
      ],
    };
  },
};
