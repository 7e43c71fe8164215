import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsEbsCsiDriverPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * Amazon EBS CSI driver v1.64.0, pkg/cloud/cloud.go: CreateDisk() calls CreateVolume with the
 * driver's tags (ebs.csi.aws.com/cluster: true, CSIVolumeName, kubernetes.io/created-for/pvc/name),
 * tagging on create; AttachDisk()/DetachDisk() on the volume and the node's instance;
 * ResizeOrModifyDisk() ModifyVolume; CreateSnapshot() with the same tags; DeleteDisk() and
 * DeleteSnapshot(). An encrypted volume uses its KMS key through EBS (CreateGrant, Decrypt,
 * GenerateDataKeyWithoutPlaintext).
 */
export const awsEbsCsiDriver: Scenario = {
  name: 'AwsEbsCsiDriverPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const ec2 = (resource: string, owner = account) => arnOf('ec2', REGION, owner, resource);
    const key = arnOf('kms', REGION, account, 'key/0a1b2c3d-1111-2222-3333-444455556666');
    const otherKey = arnOf('kms', REGION, account, 'key/9f9f9f9f-1111-2222-3333-444455556666');
    const volume = ec2('volume/vol-0a1b2c3d4e5f60001');
    // EC2 snapshot ARNs have no account.
    const snapshot = ec2('snapshot/snap-0a1b2c3d4e5f60001', '');
    const instance = ec2('instance/i-0a1b2c3d4e5f60001');
    const driverTags = {
      'aws:RequestTag/ebs.csi.aws.com/cluster': 'true',
      'aws:RequestTag/CSIVolumeName': 'pvc-0a1b2c3d',
      'aws:TagKeys': ['ebs.csi.aws.com/cluster', 'CSIVolumeName', 'kubernetes.io/created-for/pvc/name'],
    };
    const managed = { 'ec2:ResourceTag/ebs.csi.aws.com/cluster': 'true' };
    return {
      permissions: new AwsEbsCsiDriverPermissions({ encryptionKeys: [kms.Key.fromKeyArn(landing, 'Key', key)] }),
      allowed: [
        { action: 'ec2:DescribeVolumes', resource: '*' },
        { action: 'ec2:DescribeInstances', resource: '*' },
        { action: 'ec2:CreateVolume', resource: ec2('volume/vol-0new0000000000001'), context: driverTags },
        { action: 'ec2:CreateTags', resource: ec2('volume/vol-0new0000000000001'), context: { 'ec2:CreateAction': 'CreateVolume', ...driverTags } },
        { action: 'kms:CreateGrant', resource: key },
        { action: 'kms:GenerateDataKeyWithoutPlaintext', resource: key },
        { action: 'ec2:AttachVolume', resource: volume, context: managed },
        { action: 'ec2:AttachVolume', resource: instance },
        { action: 'kms:Decrypt', resource: key },
        { action: 'ec2:ModifyVolume', resource: volume, context: managed },
        { action: 'ec2:CreateSnapshot', resource: volume, context: managed },
        { action: 'ec2:CreateSnapshot', resource: ec2('snapshot/snap-0new000000000001', ''), context: { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true', 'aws:TagKeys': ['ebs.csi.aws.com/cluster'] } },
        { action: 'ec2:CreateVolume', resource: snapshot, context: managed },
        { action: 'ec2:DetachVolume', resource: volume, context: managed },
        { action: 'ec2:DetachVolume', resource: instance },
        { action: 'ec2:DeleteVolume', resource: volume, context: managed },
        // A volume of the in-tree plugin, migrated to the driver.
        { action: 'ec2:DeleteVolume', resource: volume, context: { 'ec2:ResourceTag/kubernetes.io/created-for/pvc/name': 'data-web-0' } },
        { action: 'ec2:DeleteSnapshot', resource: snapshot, context: managed },
        { action: 'ec2:CreateTags', resource: volume, context: { ...managed, 'aws:RequestTag/team': 'web', 'aws:TagKeys': ['team'] } },
      ],
      denied: [
        // Volumes and snapshots the driver did not create.
        { action: 'ec2:DeleteVolume', resource: volume },
        { action: 'ec2:AttachVolume', resource: volume },
        { action: 'ec2:DeleteSnapshot', resource: snapshot },
        { action: 'ec2:CreateVolume', resource: ec2('volume/vol-0new0000000000001'), context: { 'aws:RequestTag/team': 'web', 'aws:TagKeys': ['team'] } },
        // Re-tagging a volume to look like the driver's.
        { action: 'ec2:CreateTags', resource: volume, context: { ...managed, 'aws:RequestTag/ebs.csi.aws.com/cluster-name': 'prod', 'aws:TagKeys': ['ebs.csi.aws.com/cluster-name'] } },
        { action: 'ec2:CreateTags', resource: volume, context: { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true', 'aws:TagKeys': ['ebs.csi.aws.com/cluster'] } },
        { action: 'kms:Decrypt', resource: otherKey },
        { action: 'kms:CreateGrant', resource: otherKey },
      ],
    };
  },
};
