import * as route53 from 'aws-cdk-lib/aws-route53';
import { ControllerPermissions } from './controller-permissions';
import { ControllerStatement, ErrorScope, arn, oneScope } from './private/statements';

/**
 * Properties of `ExternalDnsPermissions`. Name the hosted zones, or choose all of them.
 */
export interface ExternalDnsPermissionsProps {
  /**
   * The hosted zones whose records external-dns may list and change. Install external-dns with
   * the same zones in `--zone-id-filter` (the chart's `zoneIdFilters`): it lists every zone of the
   * account, then reads and changes the records of the zones its filters keep.
   *
   * @default - none; then `allHostedZones` must be true
   */
  readonly hostedZones?: route53.IHostedZone[];

  /**
   * Let external-dns list and change the records of every hosted zone of the account
   * (`arn:<partition>:route53:::hostedzone/*`, upstream's policy). A choice of a wildcard: cdk-nag
   * reports it.
   *
   * @default false
   */
  readonly allHostedZones?: boolean;
}

/**
 * The permissions of external-dns with its AWS (Route 53) provider.
 *
 * Follows the IAM policy of kubernetes-sigs/external-dns `docs/tutorials/aws.md` at v0.22.0, and
 * the calls of `provider/aws/aws.go` there: `route53:ListHostedZones` on `*` (it takes no
 * resource), and `route53:ChangeResourceRecordSets`, `route53:ListResourceRecordSets` and
 * `route53:ListTagsForResources` on the hosted zones you name, where upstream grants them on every
 * zone. Namespace and service account `external-dns`: the chart (`charts/external-dns` 1.21.1,
 * release `external-dns`) and the tutorial's Pod Identity association.
 */
export class ExternalDnsPermissions extends ControllerPermissions {
  private readonly props: ExternalDnsPermissionsProps;

  public constructor(props: ExternalDnsPermissionsProps) {
    super({
      controllerName: 'external-dns',
      defaultNamespace: 'external-dns',
      defaultServiceAccount: 'external-dns',
      upstream: { source: 'kubernetes-sigs/external-dns docs/tutorials/aws.md', version: 'v0.22.0' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { hostedZones, allHostedZones } = this.props;
    oneScope(where, 'ExternalDnsPermissions', 'hostedZones', hostedZones, 'allHostedZones', allHostedZones, 'hosted zones');
    return [
      {
        actions: ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets', 'route53:ListTagsForResources'],
        resources: hostedZones ? hostedZones.map(zone => zone.hostedZoneArn) : [arn('route53', '', '', 'hostedzone/*')],
      },
      {
        actions: ['route53:ListHostedZones'],
        resources: ['*'],
        wildcardReason: 'route53:ListHostedZones takes no resource; external-dns lists the zones to find the ones its filters keep.',
      },
    ];
  }
}
