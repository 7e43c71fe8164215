import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, nonEmpty } from './private/statements';

/**
 * Properties of `AwsPrivateCaIssuerPermissions`.
 */
export interface AwsPrivateCaIssuerPermissionsProps {
  /**
   * The private certificate authorities that `AWSPCAIssuer` and `AWSPCAClusterIssuer` resources
   * name (their `arn`).
   */
  readonly certificateAuthorities: acmpca.ICertificateAuthority[];
}

/**
 * The permissions of the AWS Private CA Issuer, the cert-manager issuer for AWS Private
 * Certificate Authority.
 *
 * Follows the policy of cert-manager/aws-privateca-issuer `README.md` at v1.9.0:
 * `acm-pca:DescribeCertificateAuthority`, `acm-pca:GetCertificate` and `acm-pca:IssueCertificate`
 * on the certificate authorities you name, nothing else. Service account `aws-privateca-issuer`:
 * the chart `charts/aws-pca-issuer` at v1.9.0 installed as release `aws-privateca-issuer`; the
 * README names no namespace, and this set defaults to `aws-privateca-issuer`.
 */
export class AwsPrivateCaIssuerPermissions extends ControllerPermissions {
  private readonly props: AwsPrivateCaIssuerPermissionsProps;

  public constructor(props: AwsPrivateCaIssuerPermissionsProps) {
    super({
      controllerName: 'AWS Private CA Issuer',
      defaultNamespace: 'aws-privateca-issuer',
      defaultServiceAccount: 'aws-privateca-issuer',
      upstream: { source: 'cert-manager/aws-privateca-issuer README.md', version: 'v1.9.0' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { certificateAuthorities } = this.props;
    nonEmpty(where, 'AwsPrivateCaIssuerPermissions', 'certificateAuthorities', certificateAuthorities, 'certificate authorities the issuers name');
    return [{
      actions: ['acm-pca:DescribeCertificateAuthority', 'acm-pca:GetCertificate', 'acm-pca:IssueCertificate'],
      resources: certificateAuthorities.map(ca => ca.certificateAuthorityArn),
    }];
  }
}
