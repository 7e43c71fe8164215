import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import { AwsEfsCsiDriverPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * Amazon EFS CSI driver v3.4.1, pkg/cloud/cloud.go: CreateVolume of a StorageClass with
 * provisioningMode efs-ap calls DescribeFileSystems and CreateAccessPoint on its fileSystemId, with
 * the tag efs.csi.aws.com/cluster: true; DeleteVolume calls DeleteAccessPoint; DescribeMountTargets
 * and DescribeAvailabilityZones find the mount target of the node's zone.
 */
export const awsEfsCsiDriver: Scenario = {
  name: 'AwsEfsCsiDriverPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const fs = arnOf('elasticfilesystem', REGION, account, 'file-system/fs-0a1b2c3d4e5f60001');
    const otherFs = arnOf('elasticfilesystem', REGION, account, 'file-system/fs-0f0f0f0f0f0f00002');
    const accessPoint = arnOf('elasticfilesystem', REGION, account, 'access-point/fsap-0a1b2c3d4e5f60001');
    const driverTags = { 'aws:RequestTag/efs.csi.aws.com/cluster': 'true', 'aws:TagKeys': ['efs.csi.aws.com/cluster'] };
    const fileSystem = efs.FileSystem.fromFileSystemAttributes(landing, 'Data', {
      fileSystemId: 'fs-0a1b2c3d4e5f60001',
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(landing, 'DataSecurityGroup', 'sg-0a1b2c3d4e5f60001'),
    });
    return {
      permissions: new AwsEfsCsiDriverPermissions({ fileSystems: [fileSystem] }),
      allowed: [
        { action: 'elasticfilesystem:DescribeFileSystems', resource: '*' },
        { action: 'elasticfilesystem:DescribeMountTargets', resource: '*' },
        { action: 'ec2:DescribeAvailabilityZones', resource: '*' },
        { action: 'elasticfilesystem:CreateAccessPoint', resource: fs, context: driverTags },
        { action: 'elasticfilesystem:TagResource', resource: accessPoint, context: { 'aws:ResourceTag/efs.csi.aws.com/cluster': 'true', ...driverTags } },
        { action: 'elasticfilesystem:DeleteAccessPoint', resource: accessPoint, context: { 'aws:ResourceTag/efs.csi.aws.com/cluster': 'true' } },
      ],
      denied: [
        { action: 'elasticfilesystem:CreateAccessPoint', resource: otherFs, context: driverTags },
        { action: 'elasticfilesystem:CreateAccessPoint', resource: fs, context: { 'aws:RequestTag/team': 'web', 'aws:TagKeys': ['team'] } },
        { action: 'elasticfilesystem:DeleteAccessPoint', resource: accessPoint },
        { action: 'elasticfilesystem:DeleteFileSystem', resource: fs },
      ],
    };
  },
};
