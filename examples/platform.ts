/**
 * A platform team's controllers: the AWS Load Balancer Controller, external-dns and cert-manager on
 * one hosted zone, External Secrets on the secrets under one path, and Karpenter with its node role
 * and interruption queue. Each gets, in one line, an association for the service account its Helm
 * chart creates and the permissions its upstream project documents, scoped to what is named here.
 * The stack also makes sure the cluster runs the EKS Pod Identity agent.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  AwsLoadBalancerControllerPermissions,
  CertManagerPermissions,
  ExternalDnsPermissions,
  ExternalSecretsPermissions,
  KarpenterPermissions,
  PodIdentityAgent,
} from '../src';

/** The app, one stack in the cluster's account; `outdir` is where it synthesizes to. */
export function platformApp(outdir?: string): App {
  const app = new App({ outdir });
  const stack = new Stack(app, 'Platform', { env: { account: '111122223333', region: 'us-east-1' } });

  // An existing cluster and hosted zone, imported by name and id.
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod' });
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'apps.example.com' });

  // The cluster runs the agent: built into Auto Mode, otherwise the EKS add-on, used if it exists and created if not.
  PodIdentityAgent.ensure(stack, cluster);

  // kube-system/aws-load-balancer-controller: changes only the load balancers tagged for this cluster.
  new AwsLoadBalancerControllerPermissions({ cluster }).associate(stack, 'LoadBalancerController', { cluster });

  // external-dns/external-dns and cert-manager/cert-manager: the records of this zone only
  // (install external-dns with --zone-id-filter=Z0123456789EXAMPLE).
  new ExternalDnsPermissions({ hostedZones: [zone] }).associate(stack, 'ExternalDns', { cluster });
  new CertManagerPermissions({ hostedZones: [zone] }).associate(stack, 'CertManager', { cluster });

  // external-secrets/external-secrets: reads the Secrets Manager secrets named platform/...
  new ExternalSecretsPermissions({ secretNamePrefixes: ['platform/'] }).associate(stack, 'ExternalSecrets', { cluster });

  // kube-system/karpenter: launches nodes with this role only, and reads this queue's interruption events.
  const nodeRole = new iam.Role(stack, 'KarpenterNodeRole', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    managedPolicies: ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryPullOnly', 'AmazonSSMManagedInstanceCore']
      .map(name => iam.ManagedPolicy.fromAwsManagedPolicyName(name)),
  });
  const interruptionQueue = new sqs.Queue(stack, 'KarpenterInterruptionQueue', {
    queueName: 'prod',
    retentionPeriod: Duration.minutes(5),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  new KarpenterPermissions({ cluster, nodeRoles: [nodeRole], interruptionQueue }).associate(stack, 'Karpenter', { cluster });

  return app;
}
