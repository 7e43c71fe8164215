import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import * as appmesh from 'aws-cdk-lib/aws-appmesh';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, nonEmpty } from './private/statements';

/**
 * Properties of `AppMeshEnvoyProxyPermissions`.
 */
export interface AppMeshEnvoyProxyPermissionsProps {
  /**
   * The meshes whose virtual nodes and virtual gateways the Envoy proxies serve: they may stream
   * the configuration of those, and no other mesh's.
   */
  readonly meshes: appmesh.IMesh[];

  /**
   * The ACM certificates of the mesh's TLS listeners, which Envoy exports.
   *
   * @default - none: no TLS with ACM certificates
   */
  readonly certificates?: acm.ICertificate[];

  /**
   * The private certificate authorities whose certificates Envoy validates peers with.
   *
   * @default - none: no TLS validation with AWS Private CA
   */
  readonly certificateAuthorities?: acmpca.ICertificateAuthority[];
}

/**
 * The permissions of the Envoy proxies of AWS App Mesh, which run in the application's pods with
 * the application's service account. AWS ends support for App Mesh on September 30, 2026.
 *
 * Follows aws/aws-app-mesh-controller-for-k8s `config/iam/envoy-iam-policy.json` at v1.13.3:
 * `appmesh:StreamAggregatedResources` on the virtual nodes and virtual gateways of the meshes you
 * name, where upstream grants every one; `acm:ExportCertificate` and
 * `acm-pca:GetCertificateAuthorityCertificate` only on the certificates and certificate
 * authorities you name (none by default), where upstream grants every one. There is no default
 * service account: pass the `namespace` and `serviceAccount` of the application to `associate()`.
 */
export class AppMeshEnvoyProxyPermissions extends ControllerPermissions {
  private readonly props: AppMeshEnvoyProxyPermissionsProps;

  public constructor(props: AppMeshEnvoyProxyPermissionsProps) {
    super({
      controllerName: 'AWS App Mesh Envoy proxy',
      upstream: { source: 'aws/aws-app-mesh-controller-for-k8s config/iam/envoy-iam-policy.json', version: 'v1.13.3' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { meshes, certificates, certificateAuthorities } = this.props;
    const name = 'AppMeshEnvoyProxyPermissions';
    nonEmpty(where, name, 'meshes', meshes, 'meshes the proxies serve');
    if (certificates) {
      nonEmpty(where, name, 'certificates', certificates, 'certificates of the TLS listeners', 'or leave `certificates` out');
    }
    if (certificateAuthorities) {
      nonEmpty(where, name, 'certificateAuthorities', certificateAuthorities, 'certificate authorities', 'or leave `certificateAuthorities` out');
    }
    return [
      {
        actions: ['appmesh:StreamAggregatedResources'],
        resources: meshes.flatMap(mesh => [`${mesh.meshArn}/virtualNode/*`, `${mesh.meshArn}/virtualGateway/*`]),
      },
      ...certificates ? [{ actions: ['acm:ExportCertificate'], resources: certificates.map(certificate => certificate.certificateArn) }] : [],
      ...certificateAuthorities ? [{ actions: ['acm-pca:GetCertificateAuthorityCertificate'], resources: certificateAuthorities.map(ca => ca.certificateAuthorityArn) }] : [],
    ];
  }
}
