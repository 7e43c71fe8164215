import { amazonManagedPrometheus } from './amazon-managed-prometheus';
import { appMeshController, appMeshEnvoyProxy } from './app-mesh';
import { awsEbsCsiDriver } from './aws-ebs-csi-driver';
import { awsEfsCsiDriver } from './aws-efs-csi-driver';
import { awsFsxLustreCsiDriver, awsFsxLustreCsiDriverWithoutS3 } from './aws-fsx-lustre-csi-driver';
import { awsGatewayApiController } from './aws-gateway-api-controller';
import { awsLoadBalancerController } from './aws-load-balancer-controller';
import { awsLoadBalancerControllerTargetGroupBinding } from './aws-load-balancer-controller-target-group-binding';
import { awsNodeTerminationHandler } from './aws-node-termination-handler';
import { awsPrivateCaIssuer } from './aws-private-ca-issuer';
import { awsVpcCni, awsVpcCniIpv6 } from './aws-vpc-cni';
import { certManager, certManagerAllZones } from './cert-manager';
import { cloudWatchObservability } from './cloudwatch-observability';
import { clusterAutoscaler } from './cluster-autoscaler';
import { externalDns, externalDnsAllZones } from './external-dns';
import { externalSecrets } from './external-secrets';
import { karpenter } from './karpenter';
import { mountpointS3CsiDriver } from './mountpoint-s3-csi-driver';
import { velero, veleroWithoutVolumeSnapshots } from './velero';
import { Scenario } from '../support';

/** A scenario per permission set of the catalog, and variants for its options. */
export const SCENARIOS: Scenario[] = [
  awsLoadBalancerController,
  awsLoadBalancerControllerTargetGroupBinding,
  awsGatewayApiController,
  awsEbsCsiDriver,
  awsEfsCsiDriver,
  awsFsxLustreCsiDriver,
  awsFsxLustreCsiDriverWithoutS3,
  mountpointS3CsiDriver,
  awsVpcCni,
  awsVpcCniIpv6,
  externalDns,
  externalDnsAllZones,
  certManager,
  certManagerAllZones,
  awsPrivateCaIssuer,
  externalSecrets,
  karpenter,
  clusterAutoscaler,
  awsNodeTerminationHandler,
  velero,
  veleroWithoutVolumeSnapshots,
  amazonManagedPrometheus,
  cloudWatchObservability,
  appMeshController,
  appMeshEnvoyProxy,
];
