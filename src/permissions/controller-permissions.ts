import { RemovalPolicy } from 'aws-cdk-lib';
import { IClusterRef } from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { PodIdentityAssociation } from '../pod-identity-association';
import { recordWildcards } from './private/acknowledgements';
import { ControllerStatement, ErrorScope } from './private/statements';
import { errorAt } from '../private/errors';

/**
 * The upstream policy a permission set follows.
 */
export interface UpstreamPolicy {
  /**
   * Where the policy is published: the repository (`owner/name` on GitHub) and the file, e.g.
   * `kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json`.
   */
  readonly source: string;

  /**
   * The release (tag) or commit of that repository the statements follow, e.g. `v3.5.0`.
   */
  readonly version: string;
}

/**
 * What a permission set is for: the controller, the service account its Helm chart creates, and
 * the upstream policy it follows.
 */
export interface ControllerDescription {
  /**
   * The controller, as its project names it, e.g. `AWS Load Balancer Controller`.
   */
  readonly controllerName: string;

  /**
   * The namespace the controller's Helm chart is installed into by its documentation.
   *
   * @default - none: the service account is the application's (an Envoy proxy, a Prometheus
   * server), and `associate()` needs `namespace`
   */
  readonly defaultNamespace?: string;

  /**
   * The service account the controller's Helm chart creates with its default values (installed
   * under the release name its documentation uses).
   *
   * @default - none: the service account is the application's, and `associate()` needs
   * `serviceAccount`
   */
  readonly defaultServiceAccount?: string;

  /**
   * The upstream policy the statements follow.
   */
  readonly upstream: UpstreamPolicy;
}

/**
 * Properties of `ControllerPermissions.associate()`: a `PodIdentityAssociation` for the
 * controller's service account. For the other props of `PodIdentityAssociation`, create the
 * association yourself (with `defaultNamespace` and `defaultServiceAccount`) and call `grant()`.
 */
export interface ControllerAssociationProps {
  /**
   * The EKS cluster the controller runs in.
   */
  readonly cluster: IClusterRef;

  /**
   * The namespace the controller is installed into.
   *
   * @default - the namespace of the controller's Helm chart, `defaultNamespace`
   */
  readonly namespace?: string;

  /**
   * The controller's service account.
   *
   * @default - the service account of the controller's Helm chart, `defaultServiceAccount`
   */
  readonly serviceAccount?: string;

  /**
   * The association role, as `PodIdentityAssociation`'s `role`; a role shared by several
   * associations gets one trust statement per association.
   *
   * @default - a new role, with no permissions but these
   */
  readonly role?: iam.IRole;

  /**
   * A role, in any account, whose credentials the pods receive (role chaining), as
   * `PodIdentityAssociation`'s `targetRole`. The permissions are granted to it.
   *
   * @default - no target role: the permissions are granted to the association role
   */
  readonly targetRole?: iam.IRole;

  /**
   * What happens to the association (and a role it creates) when it leaves the stack, as
   * `PodIdentityAssociation`'s `removalPolicy`.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Take over an existing association for the same service account, as
   * `PodIdentityAssociation`'s `adoptExisting`.
   *
   * @default false
   */
  readonly adoptExisting?: boolean;
}

/**
 * The permissions a Kubernetes controller needs, as its upstream project documents them, scoped to
 * the resources you name. Each subclass is one controller, and states in its docstring the upstream
 * file and version it follows (also in `upstream`).
 *
 * `grant()` gives the permissions to any `iam.IGrantable`, as every `grant*()` of aws-cdk-lib does:
 * to a `PodIdentityAssociation` (they reach the role whose credentials its pods receive, the target
 * role included), to a role shared by several associations, or to any other role. `associate()`
 * creates the association for the controller's Helm chart defaults and grants to it.
 *
 * Where the upstream policy needs a wildcard (an action that takes no resource, a resource that
 * does not exist before the controller creates it, scoped by a tag condition), the statement keeps
 * it, and the library acknowledges it to cdk-nag (`AwsSolutions-IAM5`) with the reason, on the
 * policy it lands in, unless a grant of yours in that policy produces the same finding. A wildcard
 * you choose (`allHostedZones: true`, a name prefix) stays reported.
 *
 * @exampleMetadata fixture=permissions
 * @example
 * declare const cluster: eks.ICluster;
 * declare const zone: route53.IHostedZone;
 *
 * // external-dns, installed with its chart's defaults (namespace and service account external-dns),
 * // may change the records of this zone only.
 * new ExternalDnsPermissions({ hostedZones: [zone] }).associate(this, 'ExternalDns', { cluster });
 */
export abstract class ControllerPermissions {
  /**
   * The controller, as its project names it.
   */
  public readonly controllerName: string;

  /**
   * The namespace of the controller's Helm chart, as its documentation installs it; undefined
   * when the service account is the application's.
   */
  public readonly defaultNamespace?: string;

  /**
   * The service account of the controller's Helm chart; undefined when the service account is the
   * application's.
   */
  public readonly defaultServiceAccount?: string;

  /**
   * The upstream policy the statements follow.
   */
  public readonly upstream: UpstreamPolicy;

  protected constructor(description: ControllerDescription) {
    this.controllerName = description.controllerName;
    this.defaultNamespace = description.defaultNamespace;
    this.defaultServiceAccount = description.defaultServiceAccount;
    this.upstream = description.upstream;
  }

  /**
   * Grants the controller's permissions to `grantee`. Given a `PodIdentityAssociation`, they reach
   * the role whose credentials its pods receive: the target role when it has one, else the
   * association role.
   *
   * @returns the grant of every statement, combined
   */
  public grant(grantee: iam.IGrantable): iam.Grant {
    const where: ErrorScope = Construct.isConstruct(grantee) ? grantee : this.constructor.name;
    const statements = this._statements(where);
    let combined: iam.Grant | undefined;
    for (const statement of statements) {
      const grant = iam.Grant.addToPrincipal({
        grantee,
        actions: statement.actions,
        resourceArns: statement.resources,
        conditions: statement.conditions,
      });
      if (statement.wildcardReason && Construct.isConstruct(grantee)) {
        for (const granted of grant.principalStatements) {
          recordWildcards(grantee as IConstruct, granted, `${this.controllerName}, as ${this.upstream.source} at ${this.upstream.version}: ${statement.wildcardReason}`);
        }
      }
      combined = combined ? combined.combine(grant) : grant;
    }
    return combined!;
  }

  /**
   * Creates a `PodIdentityAssociation` for the controller's service account (by default the one
   * its Helm chart creates, in the namespace its documentation installs it into), and grants it
   * the permissions.
   *
   * @returns the association
   */
  public associate(scope: Construct, id: string, props: ControllerAssociationProps): PodIdentityAssociation {
    const path = scope.node.path ? `${scope.node.path}/${id}` : id;
    const namespace = props.namespace ?? this.defaultNamespace;
    const serviceAccount = props.serviceAccount ?? this.defaultServiceAccount;
    if (namespace === undefined || serviceAccount === undefined) {
      throw errorAt(path,
        `${this.constructor.name}.associate(): ${this.controllerName} runs with the application's service account, which has no default, got: namespace ${JSON.stringify(props.namespace)}, serviceAccount ${JSON.stringify(props.serviceAccount)}. ` +
        'Pass the `namespace` and `serviceAccount` of the pods that need these permissions.');
    }
    // Checked before the association exists, so that an error leaves no half-built construct behind.
    this._statements(path);
    const association = new PodIdentityAssociation(scope, id, {
      cluster: props.cluster,
      namespace,
      serviceAccount,
      role: props.role,
      targetRole: props.targetRole,
      removalPolicy: props.removalPolicy,
      adoptExisting: props.adoptExisting,
    });
    this.grant(association);
    return association;
  }

  /**
   * The statements, for the grantee `where` (errors name it). Each subclass writes its own.
   *
   * @internal
   */
  protected abstract _statements(where: ErrorScope): ControllerStatement[];
}
