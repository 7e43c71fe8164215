import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as appmesh from 'aws-cdk-lib/aws-appmesh';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { AppMeshControllerPermissions, AppMeshEnvoyProxyPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * App Mesh controller v1.13.3, pkg/mesh, pkg/virtualnode, pkg/cloudmap: it creates the mesh and
 * virtual nodes of Mesh and VirtualNode resources, and registers the pods' instances in Cloud Map.
 */
export const appMeshController: Scenario = {
  name: 'AppMeshControllerPermissions',
  build: ({ account }): ScenarioBuild => {
    const mesh = (resource: string) => arnOf('appmesh', REGION, account, `mesh/${resource}`);
    return {
      permissions: new AppMeshControllerPermissions(),
      allowed: [
        { action: 'iam:CreateServiceLinkedRole', resource: `arn:aws:iam::${account}:role/aws-service-role/appmesh.amazonaws.com/AWSServiceRoleForAppMesh`, context: { 'iam:AWSServiceName': 'appmesh.amazonaws.com' } },
        { action: 'appmesh:CreateMesh', resource: mesh('apps') },
        { action: 'appmesh:DescribeMesh', resource: mesh('apps') },
        { action: 'appmesh:CreateVirtualNode', resource: mesh('apps/virtualNode/web_apps') },
        { action: 'appmesh:ListVirtualNodes', resource: mesh('apps') },
        { action: 'servicediscovery:RegisterInstance', resource: arnOf('servicediscovery', REGION, account, 'service/srv-0a1b2c3d4e5f6001') },
        { action: 'servicediscovery:GetOperation', resource: '*' },
      ],
      denied: [
        { action: 'iam:CreateServiceLinkedRole', resource: `arn:aws:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`, context: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
        { action: 'iam:PassRole', resource: `arn:aws:iam::${account}:role/admin` },
        { action: 'appmesh:TagResource', resource: mesh('apps') },
      ],
    };
  },
};

/*
 * The Envoy proxy of App Mesh (aws-appmesh-envoy): it streams the configuration of its virtual
 * node or gateway (the xDS endpoint, appmesh:StreamAggregatedResources), exports its ACM
 * certificate for TLS, and reads the private CA's certificate to validate peers.
 */
export const appMeshEnvoyProxy: Scenario = {
  name: 'AppMeshEnvoyProxyPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const mesh = arnOf('appmesh', REGION, account, 'mesh/apps');
    const certificate = arnOf('acm', REGION, account, 'certificate/0a1b2c3d-1111-2222-3333-444455556666');
    const ca = arnOf('acm-pca', REGION, account, 'certificate-authority/0a1b2c3d-1111-2222-3333-444455556666');
    return {
      permissions: new AppMeshEnvoyProxyPermissions({
        meshes: [appmesh.Mesh.fromMeshArn(landing, 'Mesh', mesh)],
        certificates: [acm.Certificate.fromCertificateArn(landing, 'Certificate', certificate)],
        certificateAuthorities: [acmpca.CertificateAuthority.fromCertificateAuthorityArn(landing, 'Ca', ca)],
      }),
      reported: [`Resource::${mesh}/virtualNode/*`, `Resource::${mesh}/virtualGateway/*`],
      allowed: [
        { action: 'appmesh:StreamAggregatedResources', resource: `${mesh}/virtualNode/web_apps` },
        { action: 'appmesh:StreamAggregatedResources', resource: `${mesh}/virtualGateway/ingress_apps` },
        { action: 'acm:ExportCertificate', resource: certificate },
        { action: 'acm-pca:GetCertificateAuthorityCertificate', resource: ca },
      ],
      denied: [
        { action: 'appmesh:StreamAggregatedResources', resource: arnOf('appmesh', REGION, account, 'mesh/payments/virtualNode/api_payments') },
        { action: 'acm:ExportCertificate', resource: arnOf('acm', REGION, account, 'certificate/9f9f9f9f-1111-2222-3333-444455556666') },
        { action: 'appmesh:UpdateVirtualNode', resource: `${mesh}/virtualNode/web_apps` },
      ],
    };
  },
};
