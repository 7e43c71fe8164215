import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { VeleroPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * Velero with velero-plugin-for-aws v1.13.2: object_store.go puts, gets, lists and deletes the
 * backup's objects under the location's prefix (multipart uploads, object tags); volume_snapshotter.go
 * snapshots a PersistentVolume's EBS volume (CreateSnapshot, tagged), describes it, restores it
 * with CreateVolume, and deletes snapshots of expired backups.
 */
export const velero: Scenario = {
  name: 'VeleroPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const key = arnOf('kms', REGION, account, 'key/0a1b2c3d-1111-2222-3333-444455556666');
    const bucket = s3.Bucket.fromBucketAttributes(landing, 'Backups', { bucketName: 'backups-prod', encryptionKey: kms.Key.fromKeyArn(landing, 'Key', key) });
    const object = 'arn:aws:s3:::backups-prod/cluster-prod/backups/nightly/velero-backup.json';
    const snapshot = arnOf('ec2', REGION, '', 'snapshot/snap-0a1b2c3d4e5f60001');
    return {
      permissions: new VeleroPermissions({ bucket, prefix: 'cluster-prod' }),
      reported: ['Resource::arn:<AWS::Partition>:s3:::backups-prod/cluster-prod/*'],
      allowed: [
        { action: 's3:ListBucket', resource: 'arn:aws:s3:::backups-prod' },
        { action: 's3:PutObject', resource: object },
        { action: 's3:PutObjectTagging', resource: object },
        { action: 's3:ListMultipartUploadParts', resource: object },
        { action: 's3:GetObject', resource: object },
        { action: 's3:DeleteObject', resource: object },
        { action: 'kms:GenerateDataKey', resource: key },
        { action: 'kms:Decrypt', resource: key },
        { action: 'ec2:DescribeVolumes', resource: '*' },
        { action: 'ec2:CreateSnapshot', resource: arnOf('ec2', REGION, account, 'volume/vol-0a1b2c3d4e5f60001') },
        { action: 'ec2:CreateSnapshot', resource: snapshot },
        { action: 'ec2:CreateTags', resource: snapshot, context: { 'ec2:CreateAction': 'CreateSnapshot' } },
        { action: 'ec2:CreateVolume', resource: arnOf('ec2', REGION, account, 'volume/vol-0new0000000000001') },
        { action: 'ec2:DeleteSnapshot', resource: snapshot },
      ],
      denied: [
        { action: 's3:PutObject', resource: 'arn:aws:s3:::backups-prod/cluster-staging/backups/nightly/velero-backup.json' },
        { action: 's3:GetObject', resource: 'arn:aws:s3:::payroll/2026/03.csv' },
        { action: 's3:DeleteBucket', resource: 'arn:aws:s3:::backups-prod' },
        { action: 'kms:Decrypt', resource: arnOf('kms', REGION, account, 'key/9f9f9f9f-1111-2222-3333-444455556666') },
      ],
    };
  },
};

/** File-system backups only: no EC2 permission at all. */
export const veleroWithoutVolumeSnapshots: Scenario = {
  name: 'VeleroPermissions (no volume snapshots)',
  build: ({ landing, account }): ScenarioBuild => ({
    permissions: new VeleroPermissions({ bucket: s3.Bucket.fromBucketName(landing, 'Backups', 'backups-prod'), volumeSnapshots: false }),
    reported: ['Resource::arn:<AWS::Partition>:s3:::backups-prod/*'],
    allowed: [{ action: 's3:PutObject', resource: 'arn:aws:s3:::backups-prod/backups/nightly/velero-backup.json' }],
    denied: [
      { action: 'ec2:CreateSnapshot', resource: arnOf('ec2', REGION, account, 'volume/vol-0a1b2c3d4e5f60001') },
      { action: 'ec2:DeleteSnapshot', resource: arnOf('ec2', REGION, '', 'snapshot/snap-0a1b2c3d4e5f60001') },
    ],
  }),
};
