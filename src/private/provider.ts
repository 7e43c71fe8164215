import * as fs from 'fs';
import * as path from 'path';
import { Duration, Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { PODS_SERVICE_PRINCIPAL } from './contract';

/** Where the build puts the bundled handler (`lambda/handler.ts` and its pinned SDK); the same path from src/ and lib/. */
const HANDLER_BUNDLE_DIR = path.join(__dirname, '..', '..', 'assets', 'lambda', 'handler');

/** The id of the one provider in each stack. */
const PROVIDER_ID = 'PodIdentityAssociationProvider';

/**
 * The handler's Lambda timeout. The handler keeps a safety margin of it and spends the rest on
 * retries (throttling, server errors, and IAM propagation of a new role, which takes up to a couple
 * of minutes), so every request ends in success or a clear error before Lambda stops it.
 */
export const HANDLER_TIMEOUT = Duration.minutes(5);

/**
 * The custom-resource provider shared by every PodIdentityAssociation in a stack: one handler
 * function, one provider framework, and one IAM policy that lists exactly the clusters,
 * associations and roles of the associations that use it.
 */
export class PodIdentityAssociationProvider extends Construct {
  /** Returns the provider of the stack that holds `scope`, creating it on first use. */
  public static of(scope: IConstruct): PodIdentityAssociationProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID);
    if (existing) {
      return existing as PodIdentityAssociationProvider;
    }
    return new PodIdentityAssociationProvider(stack, PROVIDER_ID);
  }

  /** The service token every association in the stack points at. */
  public readonly serviceToken: string;

  /** The onEvent handler. */
  public readonly handler: lambda.Function;

  /**
   * The IAM path of every association role created in this stack. The handler may pass any role
   * on it, so its policy does not grow with each association (IAM limits policy sizes).
   */
  public readonly createdRolePath: string;

  private readonly onClusters: iam.PolicyStatement;
  private readonly onAssociations: iam.PolicyStatement;
  private readonly passRole: iam.PolicyStatement;
  private readonly granted = new Set<string>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);

    if (!fs.existsSync(path.join(HANDLER_BUNDLE_DIR, 'index.js'))) {
      throw new Error(
        `The Pod Identity association handler bundle is missing from ${HANDLER_BUNDLE_DIR}. ` +
        'In a clone of this repository, run `npx projen bundle` (the build and test tasks do it); an installed package always contains it.',
      );
    }

    this.handler = new lambda.Function(this, 'Handler', {
      description: 'Creates, updates and deletes EKS Pod Identity associations (Custom::EksPodIdentityAssociation)',
      code: lambda.Code.fromAsset(HANDLER_BUNDLE_DIR),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: HANDLER_TIMEOUT,
    });

    this.onClusters = new iam.PolicyStatement({
      actions: ['eks:CreatePodIdentityAssociation', 'eks:ListPodIdentityAssociations'],
    });
    this.onAssociations = new iam.PolicyStatement({
      actions: [
        'eks:DescribePodIdentityAssociation',
        'eks:UpdatePodIdentityAssociation',
        'eks:DeletePodIdentityAssociation',
        'eks:TagResource',
        'eks:UntagResource',
      ],
    });
    const stack = Stack.of(this);
    this.createdRolePath = `/cdk-eks-pod-identity/${Names.uniqueId(stack)}/`;
    this.passRole = new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${this.createdRolePath.slice(1)}*` })],
      conditions: { StringEquals: { 'iam:PassedToService': PODS_SERVICE_PRINCIPAL } },
    });
    for (const statement of [this.onClusters, this.onAssociations, this.passRole]) {
      this.handler.addToRolePolicy(statement);
    }

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler,
    });
    this.serviceToken = provider.serviceToken;
  }

  /**
   * Lets the handler manage associations on `clusterName` (a cluster in this stack's account and
   * region) and pass `givenRole`, a role the user gave rather than one created on
   * `createdRolePath`, to EKS Pod Identity. Each resource is listed once however many
   * associations share it.
   */
  public grantAssociation(clusterName: string, givenRole?: iam.IRole): void {
    const stack = Stack.of(this);
    this.addOnce(this.onClusters, stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: clusterName }));
    this.addOnce(this.onAssociations, stack.formatArn({
      service: 'eks',
      resource: 'podidentityassociation',
      resourceName: `${clusterName}/*`,
    }));
    if (givenRole) {
      this.addOnce(this.passRole, givenRole.roleArn);
    }
  }

  private addOnce(statement: iam.PolicyStatement, resource: string): void {
    const key = `${statement.actions[0]} ${resource}`;
    if (!this.granted.has(key)) {
      this.granted.add(key);
      statement.addResources(resource);
    }
  }
}
