import { ADOT } from './adot';
import { AMAZON_CLOUDWATCH_OBSERVABILITY } from './amazon-cloudwatch-observability';
import { AWS_EBS_CSI_DRIVER } from './aws-ebs-csi-driver';
import { AWS_EFS_CSI_DRIVER } from './aws-efs-csi-driver';
import { AWS_MOUNTPOINT_S3_CSI_DRIVER } from './aws-mountpoint-s3-csi-driver';
import { AWS_NETWORK_FLOW_MONITORING_AGENT } from './aws-network-flow-monitoring-agent';
import { VPC_CNI } from './vpc-cni';

/** The names of the EKS add-ons of the catalog: those that take Pod Identity associations of their own. */
export const POD_IDENTITY_ADDON_NAMES: ReadonlySet<string> = new Set([
  ADOT,
  AMAZON_CLOUDWATCH_OBSERVABILITY,
  AWS_EBS_CSI_DRIVER,
  AWS_EFS_CSI_DRIVER,
  AWS_MOUNTPOINT_S3_CSI_DRIVER,
  AWS_NETWORK_FLOW_MONITORING_AGENT,
  VPC_CNI,
].map(entry => entry.addonName));
