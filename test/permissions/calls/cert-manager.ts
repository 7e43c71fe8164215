import * as route53 from 'aws-cdk-lib/aws-route53';
import { CertManagerPermissions } from '../../../src';
import { Call, Scenario, ScenarioBuild } from '../support';

/*
 * cert-manager v1.21, pkg/issuer/acme/dns/route53/route53.go: getHostedZoneID() calls
 * ListHostedZonesByName (unless the issuer names hostedZoneID); changeRecord() calls
 * ChangeResourceRecordSets with an UPSERT of the TXT record _acme-challenge.<domain>, then DELETE
 * on cleanup, and waits on GetChange of the change it made.
 */
const ZONE = 'arn:aws:route53:::hostedzone/Z0CERTS01';
const OTHER_ZONE = 'arn:aws:route53:::hostedzone/Z0OTHER99';

const challenge = (zone: string, action: 'UPSERT' | 'DELETE', type = 'TXT'): Call => ({
  action: 'route53:ChangeResourceRecordSets',
  resource: zone,
  context: {
    'route53:ChangeResourceRecordSetsActions': [action],
    'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_acme-challenge.app.example.com'],
    'route53:ChangeResourceRecordSetsRecordTypes': [type],
  },
});

export const certManager: Scenario = {
  name: 'CertManagerPermissions',
  build: ({ landing }): ScenarioBuild => ({
    permissions: new CertManagerPermissions({ hostedZones: [route53.HostedZone.fromHostedZoneId(landing, 'Zone', 'Z0CERTS01')] }),
    allowed: [
      { action: 'route53:ListHostedZonesByName', resource: '*' },
      { action: 'route53:ListResourceRecordSets', resource: ZONE },
      challenge(ZONE, 'UPSERT'),
      { action: 'route53:GetChange', resource: 'arn:aws:route53:::change/C2682N5HXP0BZ4' },
      challenge(ZONE, 'DELETE'),
    ],
    denied: [
      challenge(OTHER_ZONE, 'UPSERT'),
      // Only the TXT records of challenges.
      challenge(ZONE, 'UPSERT', 'A'),
      { action: 'route53:ListResourceRecordSets', resource: OTHER_ZONE },
    ],
  }),
};

/** The explicit choice of every zone: any zone's challenge records, still TXT only. */
export const certManagerAllZones: Scenario = {
  name: 'CertManagerPermissions (allHostedZones)',
  build: (): ScenarioBuild => ({
    permissions: new CertManagerPermissions({ allHostedZones: true }),
    reported: ['Resource::arn:<AWS::Partition>:route53:::hostedzone/*'],
    allowed: [challenge(ZONE, 'UPSERT'), challenge(OTHER_ZONE, 'UPSERT'), { action: 'route53:ListResourceRecordSets', resource: OTHER_ZONE }],
    denied: [challenge(OTHER_ZONE, 'UPSERT', 'CNAME'), { action: 'route53:DeleteHostedZone', resource: ZONE }],
  }),
};
