import { ControllerPermissions } from './controller-permissions';
import { CREDENTIALS_ACCOUNT, ControllerStatement, arn } from './private/statements';

/**
 * The permissions of the AWS App Mesh controller for Kubernetes. AWS ends support for App Mesh on
 * September 30, 2026.
 *
 * Follows aws/aws-app-mesh-controller-for-k8s `config/iam/controller-iam-policy.json` at v1.13.3,
 * unchanged but for the service-linked role, named in the account of the credentials: the
 * controller creates, changes and deletes the meshes, virtual nodes, services, routers, routes and
 * gateways that App Mesh resources describe, and the Cloud Map services and instances behind them,
 * so upstream grants them on `*`, with the reads of certificates and certificate authorities that
 * TLS settings name. Namespace `appmesh-system` and service account `appmesh-controller`: the chart
 * `config/helm/appmesh-controller` at v1.13.3, release `appmesh-controller`, as its README installs it.
 */
export class AppMeshControllerPermissions extends ControllerPermissions {
  public constructor() {
    super({
      controllerName: 'AWS App Mesh controller',
      defaultNamespace: 'appmesh-system',
      defaultServiceAccount: 'appmesh-controller',
      upstream: { source: 'aws/aws-app-mesh-controller-for-k8s config/iam/controller-iam-policy.json', version: 'v1.13.3' },
    });
  }

  /** @internal */
  protected _statements(): ControllerStatement[] {
    return [
      {
        actions: [
          'appmesh:ListVirtualRouters',
          'appmesh:ListVirtualServices',
          'appmesh:ListRoutes',
          'appmesh:ListGatewayRoutes',
          'appmesh:ListMeshes',
          'appmesh:ListVirtualNodes',
          'appmesh:ListVirtualGateways',
          'appmesh:DescribeMesh',
          'appmesh:DescribeVirtualRouter',
          'appmesh:DescribeRoute',
          'appmesh:DescribeVirtualNode',
          'appmesh:DescribeVirtualGateway',
          'appmesh:DescribeGatewayRoute',
          'appmesh:DescribeVirtualService',
          'appmesh:CreateMesh',
          'appmesh:CreateVirtualRouter',
          'appmesh:CreateVirtualGateway',
          'appmesh:CreateVirtualService',
          'appmesh:CreateGatewayRoute',
          'appmesh:CreateRoute',
          'appmesh:CreateVirtualNode',
          'appmesh:UpdateMesh',
          'appmesh:UpdateRoute',
          'appmesh:UpdateVirtualGateway',
          'appmesh:UpdateVirtualRouter',
          'appmesh:UpdateGatewayRoute',
          'appmesh:UpdateVirtualService',
          'appmesh:UpdateVirtualNode',
          'appmesh:DeleteMesh',
          'appmesh:DeleteRoute',
          'appmesh:DeleteVirtualRouter',
          'appmesh:DeleteGatewayRoute',
          'appmesh:DeleteVirtualService',
          'appmesh:DeleteVirtualNode',
          'appmesh:DeleteVirtualGateway',
        ],
        resources: ['*'],
        wildcardReason: 'The App Mesh resources the controller creates from Kubernetes resources, which do not exist beforehand, and the List actions, which take no resource.',
      },
      {
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [arn('iam', '', CREDENTIALS_ACCOUNT, 'role/aws-service-role/appmesh.amazonaws.com/AWSServiceRoleForAppMesh')],
        conditions: { StringLike: { 'iam:AWSServiceName': ['appmesh.amazonaws.com'] } },
      },
      {
        actions: ['acm:ListCertificates', 'acm:DescribeCertificate', 'acm-pca:DescribeCertificateAuthority', 'acm-pca:ListCertificateAuthorities'],
        resources: ['*'],
        wildcardReason: 'The certificates and certificate authorities that TLS settings name, found at run time; the List actions take no resource.',
      },
      {
        actions: [
          'servicediscovery:CreateService',
          'servicediscovery:DeleteService',
          'servicediscovery:GetService',
          'servicediscovery:GetInstance',
          'servicediscovery:RegisterInstance',
          'servicediscovery:DeregisterInstance',
          'servicediscovery:ListInstances',
          'servicediscovery:ListNamespaces',
          'servicediscovery:ListServices',
          'servicediscovery:GetInstancesHealthStatus',
          'servicediscovery:UpdateInstanceCustomHealthStatus',
          'servicediscovery:GetOperation',
          'route53:GetHealthCheck',
          'route53:CreateHealthCheck',
          'route53:UpdateHealthCheck',
          'route53:ChangeResourceRecordSets',
          'route53:DeleteHealthCheck',
        ],
        resources: ['*'],
        wildcardReason: 'The Cloud Map services and instances the controller registers, and the Route 53 records and health checks Cloud Map manages for them, which do not exist beforehand.',
      },
    ];
  }
}
