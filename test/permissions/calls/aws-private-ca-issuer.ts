import * as acmpca from 'aws-cdk-lib/aws-acmpca';
import { AwsPrivateCaIssuerPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * AWS Private CA Issuer v1.9.0, pkg/aws/pca.go: the issuer's status check calls
 * DescribeCertificateAuthority; Sign() calls IssueCertificate, then GetCertificate until issued.
 */
export const awsPrivateCaIssuer: Scenario = {
  name: 'AwsPrivateCaIssuerPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const ca = arnOf('acm-pca', REGION, account, 'certificate-authority/0a1b2c3d-1111-2222-3333-444455556666');
    const other = arnOf('acm-pca', REGION, account, 'certificate-authority/9f9f9f9f-1111-2222-3333-444455556666');
    return {
      permissions: new AwsPrivateCaIssuerPermissions({ certificateAuthorities: [acmpca.CertificateAuthority.fromCertificateAuthorityArn(landing, 'Ca', ca)] }),
      allowed: [
        { action: 'acm-pca:DescribeCertificateAuthority', resource: ca },
        { action: 'acm-pca:IssueCertificate', resource: ca, context: { 'acm-pca:TemplateArn': 'arn:aws:acm-pca:::template/EndEntityCertificate/V1' } },
        { action: 'acm-pca:GetCertificate', resource: ca },
      ],
      denied: [
        { action: 'acm-pca:IssueCertificate', resource: other, context: { 'acm-pca:TemplateArn': 'arn:aws:acm-pca:::template/EndEntityCertificate/V1' } },
        { action: 'acm-pca:RevokeCertificate', resource: ca },
        { action: 'acm-pca:DeleteCertificateAuthority', resource: ca },
      ],
    };
  },
};
