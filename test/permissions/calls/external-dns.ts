import * as route53 from 'aws-cdk-lib/aws-route53';
import { ExternalDnsPermissions } from '../../../src';
import { Scenario, ScenarioBuild } from '../support';

/*
 * external-dns v0.22.0, provider/aws/aws.go: zones() pages ListHostedZones and, with a zone tag
 * filter, calls ListTagsForResources on the zones its filters keep; records() pages
 * ListResourceRecordSets of each zone; submitChanges() calls ChangeResourceRecordSets per zone.
 * Installed with --zone-id-filter=Z0EXTDNS1 (the zone named here).
 */
const ZONE = 'arn:aws:route53:::hostedzone/Z0EXTDNS1';
const OTHER_ZONE = 'arn:aws:route53:::hostedzone/Z0OTHER99';

export const externalDns: Scenario = {
  name: 'ExternalDnsPermissions',
  build: ({ landing }): ScenarioBuild => ({
    permissions: new ExternalDnsPermissions({ hostedZones: [route53.HostedZone.fromHostedZoneId(landing, 'Zone', 'Z0EXTDNS1')] }),
    allowed: [
      { action: 'route53:ListHostedZones', resource: '*' },
      { action: 'route53:ListTagsForResources', resource: ZONE },
      { action: 'route53:ListResourceRecordSets', resource: ZONE },
      {
        action: 'route53:ChangeResourceRecordSets',
        resource: ZONE,
        context: {
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['app.example.com', 'a-app.example.com'],
          'route53:ChangeResourceRecordSetsRecordTypes': ['A', 'TXT'],
        },
      },
    ],
    denied: [
      { action: 'route53:ChangeResourceRecordSets', resource: OTHER_ZONE, context: { 'route53:ChangeResourceRecordSetsActions': ['UPSERT'] } },
      { action: 'route53:ListResourceRecordSets', resource: OTHER_ZONE },
      { action: 'route53:DeleteHostedZone', resource: ZONE },
    ],
  }),
};

/** The explicit choice of every zone. */
export const externalDnsAllZones: Scenario = {
  name: 'ExternalDnsPermissions (allHostedZones)',
  build: (): ScenarioBuild => ({
    permissions: new ExternalDnsPermissions({ allHostedZones: true }),
    reported: ['Resource::arn:<AWS::Partition>:route53:::hostedzone/*'],
    allowed: [
      { action: 'route53:ChangeResourceRecordSets', resource: OTHER_ZONE, context: { 'route53:ChangeResourceRecordSetsActions': ['UPSERT'] } },
      { action: 'route53:ListResourceRecordSets', resource: OTHER_ZONE },
    ],
    denied: [{ action: 'route53:DeleteHostedZone', resource: OTHER_ZONE }, { action: 'route53:CreateHostedZone', resource: '*' }],
  }),
};
