import * as fs from 'fs';
import * as path from 'path';
import { CfnResource, Duration, Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { PODS_SERVICE_PRINCIPAL } from './private/contract';
import { NagSuppression, suppressNagFindings } from './private/nag';

/** Where the build puts the bundled handler (`lambda/handler.ts` and its pinned SDK); the same path from src/ and lib/. */
const HANDLER_BUNDLE_DIR = path.join(__dirname, '..', 'assets', 'lambda', 'handler');

/** The id of the one provider in each stack. */
const PROVIDER_ID = 'PodIdentityAssociationProvider';

/**
 * The handler's Lambda timeout. The handler keeps a safety margin of it and spends the rest on
 * retries (throttling, server errors, and IAM propagation of a new role, which takes up to a couple
 * of minutes), so every request ends in success or a clear error before Lambda stops it.
 */
const HANDLER_TIMEOUT = Duration.minutes(5);

/** The newest Node.js runtime of the oldest aws-cdk-lib this library supports, for both functions. */
const RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * Options of the custom-resource provider that every `PodIdentityAssociation` of a stack shares.
 */
export interface PodIdentityAssociationProviderProps {
  /**
   * How long CloudWatch Logs keeps the logs of the provider's two Lambda functions (the handler,
   * which logs one JSON line per request, EKS call and decision, and the provider framework).
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * A KMS key that encrypts the two log groups. Its key policy must let CloudWatch Logs use it
   * (principal `logs.<region>.amazonaws.com`).
   *
   * @default - CloudWatch Logs encrypts the logs with a key it owns; the logs hold no credentials
   * and no session policy bodies.
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * The custom-resource provider shared by every `PodIdentityAssociation` in a stack: the handler
 * function, the provider framework, their log groups, and an IAM policy that lists exactly the
 * clusters and roles of the stack's associations.
 *
 * An association creates it on first use with the default options. To choose them, call
 * `PodIdentityAssociationProvider.getOrCreate(stack, { ... })` before the stack's first
 * association.
 *
 * @example
 * declare const stack: Stack;
 * PodIdentityAssociationProvider.getOrCreate(stack, { logRetention: logs.RetentionDays.THREE_MONTHS });
 */
export class PodIdentityAssociationProvider extends Construct {
  /**
   * The provider of the stack that holds `scope`, created with `props` if it does not exist yet.
   * Passing `props` when the provider already exists (created by an earlier association, or by an
   * earlier call) is an error, since its options can no longer change.
   */
  public static getOrCreate(scope: IConstruct, props?: PodIdentityAssociationProviderProps): PodIdentityAssociationProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID) as PodIdentityAssociationProvider | undefined;
    if (!existing) {
      return new PodIdentityAssociationProvider(stack, PROVIDER_ID, props ?? {});
    }
    if (props) {
      throw new Error(
        `The Pod Identity association provider of stack ${stack.node.path} already exists, so its options can no longer be set; got: ${JSON.stringify(props)}. ` +
        'Call PodIdentityAssociationProvider.getOrCreate(stack, options) before the stack\'s first PodIdentityAssociation, and only once.',
      );
    }
    return existing;
  }

  /** The service token every association in the stack points at. */
  public readonly serviceToken: string;

  /** The onEvent handler, which calls EKS. */
  public readonly handler: lambda.IFunction;

  /** The handler's log group: one JSON line per request, EKS call and decision. */
  public readonly handlerLogGroup: logs.ILogGroup;

  /** The provider framework function's log group. */
  public readonly frameworkLogGroup: logs.ILogGroup;

  /**
   * The IAM path of every association role created in this stack. The handler may pass any role
   * on it, so its policy does not grow with each association (IAM limits policy sizes).
   *
   * @internal
   */
  public readonly _createdRolePath: string;

  private readonly onClusters: iam.PolicyStatement;
  private readonly onAssociations: iam.PolicyStatement;
  private readonly passRole: iam.PolicyStatement;
  private readonly granted = new Set<string>();

  private constructor(scope: Construct, id: string, props: PodIdentityAssociationProviderProps) {
    super(scope, id);

    if (!fs.existsSync(path.join(HANDLER_BUNDLE_DIR, 'index.js'))) {
      throw new Error(
        `The Pod Identity association handler bundle is missing from ${HANDLER_BUNDLE_DIR}. ` +
        'In a clone of this repository, run `npx projen bundle` (the build and test tasks do it); an installed package always contains it.',
      );
    }

    const stack = Stack.of(this);
    const logOptions: logs.LogGroupProps = {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey,
    };
    this.handlerLogGroup = new logs.LogGroup(this, 'HandlerLogs', logOptions);
    this.frameworkLogGroup = new logs.LogGroup(this, 'FrameworkLogs', logOptions);

    // Own roles instead of AWSLambdaBasicExecutionRole, which may write to any log group.
    const handlerRole = new iam.Role(this, 'HandlerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.handlerLogGroup.grantWrite(handlerRole);
    const frameworkRole = new iam.Role(this, 'FrameworkRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.frameworkLogGroup.grantWrite(frameworkRole);

    const handler = new lambda.Function(this, 'Handler', {
      description: 'Creates, updates and deletes EKS Pod Identity associations (Custom::EksPodIdentityAssociation)',
      code: lambda.Code.fromAsset(HANDLER_BUNDLE_DIR),
      handler: 'index.handler',
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: HANDLER_TIMEOUT,
      role: handlerRole,
      logGroup: this.handlerLogGroup,
    });
    this.handler = handler;

    this._createdRolePath = `/cdk-eks-pod-identity/${Names.uniqueId(stack)}/`;
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
    this.passRole = new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${this._createdRolePath.slice(1)}*` })],
      conditions: { StringEquals: { 'iam:PassedToService': PODS_SERVICE_PRINCIPAL } },
    });
    for (const statement of [this.onClusters, this.onAssociations, this.passRole]) {
      handlerRole.addToPrincipalPolicy(statement);
    }

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: handler,
      frameworkOnEventRole: frameworkRole,
      logGroup: this.frameworkLogGroup,
    });
    this.serviceToken = provider.serviceToken;
    // aws-cdk-lib picks the framework's runtime from a regional fact that lags; run both on the newest.
    const framework = provider.node.findChild('framework-onEvent') as lambda.Function;
    (framework.node.defaultChild as lambda.CfnFunction).runtime = RUNTIME.name;

    suppressNagFindings(defaultPolicyOf(handlerRole), [{
      id: 'AwsSolutions-IAM5',
      reason: 'The handler manages Pod Identity associations whose ids EKS assigns at creation, so it is scoped to podidentityassociation/<cluster>/* of the stack\'s clusters; and it may pass only the association roles this stack creates, which share the IAM path /cdk-eks-pod-identity/<stack>/, and only to pods.eks.amazonaws.com.',
      appliesTo: [
        { regex: '/^Resource::arn:.+:eks:.+:podidentityassociation\\/.+\\/\\*$/' },
        { regex: '/^Resource::arn:.+:iam::.+:role\\/cdk-eks-pod-identity\\/.+\\/\\*$/' },
      ],
    }, INLINE_POLICY]);
    suppressNagFindings(defaultPolicyOf(frameworkRole), [{
      id: 'AwsSolutions-IAM5',
      reason: 'The aws-cdk-lib custom-resource provider framework invokes the handler function and its versions (<function ARN>:*); it may invoke nothing else.',
      appliesTo: [{ regex: `/^Resource::<${Stack.of(this).getLogicalId(handler.node.defaultChild as CfnResource)}\\.Arn>:\\*$/` }],
    }, INLINE_POLICY]);
    for (const fn of [handler, framework]) {
      suppressNagFindings(fn.node.defaultChild as CfnResource, LAMBDA_DEPLOYMENT_TIME_ONLY);
    }
    if (!props.logEncryptionKey) {
      for (const logGroup of [this.handlerLogGroup, this.frameworkLogGroup]) {
        suppressNagFindings(logGroup.node.defaultChild as CfnResource, [{
          id: 'HIPAA.Security-CloudWatchLogGroupEncrypted',
          reason: 'CloudWatch Logs encrypts these logs with a key it owns; they hold no credentials and no session policy bodies. Pass logEncryptionKey to PodIdentityAssociationProvider.getOrCreate() to use a customer managed key.',
        }]);
      }
    }
  }

  /**
   * Lets the handler manage associations on `clusterName` (a cluster in this stack's account and
   * region) and pass `givenRole`, a role the user gave rather than one created on the created-role
   * path, to EKS Pod Identity. Each resource is listed once however many associations share it.
   *
   * @internal
   */
  public _grantAssociation(clusterName: string, givenRole?: iam.IRole): void {
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

/** HIPAA.Security prefers managed policies; each provider role has one policy sized to this stack. */
const INLINE_POLICY: NagSuppression = {
  id: 'HIPAA.Security-IAMNoInlinePolicy',
  reason: 'Each provider role has one policy written for this stack (its clusters, roles and log group); it is not shared with any other role, which is what a managed policy would be for.',
};

/** HIPAA.Security's Lambda rules are about long-running workloads, not a deployment-time custom resource. */
const LAMBDA_DEPLOYMENT_TIME_ONLY: NagSuppression[] = [
  {
    id: 'HIPAA.Security-LambdaConcurrency',
    reason: 'Runs only while CloudFormation deploys associations, one invocation per resource change; a concurrency limit would only slow down or fail large deployments.',
  },
  {
    id: 'HIPAA.Security-LambdaDLQ',
    reason: 'Invoked synchronously (CloudFormation, then the provider framework); every failure is reported to CloudFormation, and a dead-letter queue applies only to asynchronous invocations.',
  },
  {
    id: 'HIPAA.Security-LambdaInsideVPC',
    reason: 'Calls only the EKS control-plane API; inside a VPC it would need a NAT gateway or an EKS interface endpoint to do so, and it serves no network clients of its own.',
  },
];

/** The CloudFormation resource of a role's default policy. */
function defaultPolicyOf(role: iam.Role): CfnResource {
  return role.node.findChild('DefaultPolicy').node.defaultChild as CfnResource;
}
