import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { AspectPriority, Aspects, Aws, CfnResource, Duration, Fn, Lazy, Names, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { POD_IDENTITY_ADDON_NAMES } from './addons/catalog';
import { AssociationRole } from './private/association-role';
import type { AgentBinding, AssociationBinding, HandoverBinding } from './private/binding';
import { clusterKeyOf } from './private/cluster-key';
import {
  AGENT_ADDON_NAME,
  AGENT_CREATOR_TAG_KEY,
  AGENT_RESOURCE_TYPE,
  HANDOVER_RESOURCE_TYPE,
  HandoverResourceProperties,
  OWNER_TAG_KEY,
  PARAMETER_ROOT,
  PODS_SERVICE_PRINCIPAL,
  SERVICE_TIMEOUT_SECONDS,
  TRANSFERS_RESOURCE_TYPE,
  TransfersResourceProperties,
  agentLeaseTagKeyPrefix,
  agentRecordsPath,
} from './private/contract';
import { errorAt } from './private/errors';
import { acknowledgeNagFindings, NagAcknowledgement, NAG_PACK, ruleIds } from './private/nag';
import { MAX_ROLE_INLINE_POLICY_CHARACTERS, estimatedPolicyCharacters } from './private/policy-size';

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

  /**
   * A VPC for both functions, for organisations whose controls require functions to run in one.
   *
   * The functions call only AWS APIs, so their subnets need a way out to them: a NAT gateway, or
   * VPC endpoints. The handler calls EKS (interface endpoint `com.amazonaws.<region>.eks`, not
   * offered in every region), Systems Manager (`ssm`) and CloudFormation (`cloudformation`); the
   * provider framework invokes the handler (`lambda`) and answers CloudFormation through a
   * pre-signed Amazon S3 URL (the S3 gateway endpoint, or `s3`). Without a way out, a deployment
   * fails when the handler's calls time out. Each function's role may then create and delete its
   * network interfaces (the permissions of AWSLambdaVPCAccessExecutionRole, as an inline policy).
   *
   * @default - no VPC: the functions reach AWS APIs over the Lambda service's own network
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets of `vpc` the functions use.
   *
   * @default - the VPC's private subnets (aws-cdk-lib's default for Lambda functions)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The security groups of both functions in `vpc`. They need outbound HTTPS (443) to the VPC
   * endpoints or the NAT gateway; nothing connects to the functions.
   *
   * @default - a security group for each function, which allows all outbound traffic and no inbound
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Reserved concurrency for each of the two functions: the most requests each runs at once, and
   * the share of the account's concurrency kept for it. The framework invokes the handler once per
   * request, so the framework's reservation bounds the handler's load from CloudFormation; the
   * handler also gets one event per completed stack operation, which EventBridge retries when it is
   * throttled. A stack that deploys more associations at once than this waits for them in turn.
   * Lambda keeps at least 100 of the account's concurrency unreserved, and refuses a reservation
   * that would take it below.
   *
   * @default - none: both functions use the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Active tracing with AWS X-Ray for both functions (TracingConfig `Active`). Their roles may then
   * send trace data to X-Ray (`xray:PutTraceSegments`, `xray:PutTelemetryRecords`, which take no
   * resource-level permissions). The handler's AWS SDK calls appear as segments only with the X-Ray
   * SDK, which the handler does not bundle: traces show each invocation and its duration.
   *
   * @default false: Lambda's default (PassThrough), no traces
   */
  readonly activeTracing?: boolean;

  /**
   * The memory of the provider framework's function, in MB (128 to 10,240). The framework only
   * passes each request to the handler and its answer to CloudFormation. The handler has 256 MB.
   *
   * @default 128 (Lambda's default, which aws-cdk-lib's provider framework keeps)
   */
  readonly frameworkMemorySize?: number;
}

/**
 * The custom-resource provider shared by every `PodIdentityAssociation` and `PodIdentityAgent` in a
 * stack: the handler function, the provider framework, their log groups, the handler's permissions
 * (its role's policy, plus one policy per role given as `role`, which the associations that use it
 * depend on, and one per cluster whose agent the stack ensures, which the agent depends on), the
 * resource that settles ownership transfers at the end of each deployment, and the EventBridge rule
 * that tells the handler when an operation of the stack has completed.
 *
 * An association or an agent creates it on first use with the default options. To choose them,
 * call `PodIdentityAssociationProvider.getOrCreate(stack, { ... })` before the stack's first
 * association or agent.
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
      throw errorAt(stack,
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

  private readonly handlerRole: iam.Role;
  /**
   * iam.Role.customizeRoles() pre-creates the handler role: the role records each statement as it
   * is when added (for its report), so statements that grow are added once the app is complete.
   */
  private readonly handlerRolePrecreated: boolean;
  /** The handler role's policies by id; undefined for those recorded in a pre-created role's report. */
  private readonly handlerPolicies = new Map<string, iam.Policy | undefined>();
  /** With a pre-created handler role: the created roles its report lets the handler pass by ARN. */
  private reportedMovedRoles?: AssociationRole[];
  /** Created roles that are not on the created-role path, and the statement that lets the handler pass them. */
  private readonly movedRoles = new Set<AssociationRole>();
  private passMoved?: iam.PolicyStatement;
  /** Create on the stack's clusters, with this stack's owner mark as a tag (tag-on-create, if EKS checks it on the cluster). */
  private readonly onClusters: iam.PolicyStatement;
  /** Tag-on-create, if EKS checks it on the new association: only an association that carries no owner mark yet. */
  private readonly tagOnCreate: iam.PolicyStatement;
  private readonly clusters = new Set<string>();
  /** Mark an association of the clusters of adopting associations that another owner marked (adoptExisting only). */
  private readonly adoptOnClusters: iam.PolicyStatement;
  private readonly adoptingClusters = new Set<string>();
  /** The unique part of the stack id, as a value known at deploy time: the owner marks and transfer records of this stack start with it. */
  private readonly stackUuid: string;
  private readonly transfers: CfnResource;
  /**
   * The logical id, cluster, namespace and service account of each association, and the type,
   * logical id, cluster, version and configuration of each agent, for the transfers resource.
   */
  private readonly identities: string[][] = [];
  /** The hand-over resource of each add-on of the stack that takes Pod Identity associations, and the service accounts it takes. */
  private readonly handovers = new Map<CfnResource, { readonly resource: CfnResource; readonly serviceAccounts: Set<string> }>();
  /** The association resources of this stack, with the key of their cluster (`clusterKeyOf`). */
  private readonly associationResources: Array<{ readonly resource: CfnResource; readonly clusterKey: string }> = [];
  /** The clusters of this stack's agents that the handler serves (one policy each). */
  private readonly agentClusters = new Set<string>();

  private constructor(scope: Construct, id: string, props: PodIdentityAssociationProviderProps) {
    super(scope, id);

    if (!fs.existsSync(path.join(HANDLER_BUNDLE_DIR, 'index.js'))) {
      throw errorAt(this,
        `The Pod Identity association handler bundle is missing from ${HANDLER_BUNDLE_DIR}. ` +
        'In a clone of this repository, run `npx projen bundle` (the build and test tasks do it); an installed package always contains it.',
      );
    }

    checkFunctionOptions(this, props);
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
    const network = props.vpc ? { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups } : {};
    if (props.vpc) {
      // What AWSLambdaVPCAccessExecutionRole allows besides logs: Lambda manages the functions' network interfaces with their roles.
      for (const role of [handlerRole, frameworkRole]) {
        role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: VPC_ACCESS_ACTIONS, resources: ['*'] }));
      }
    }

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
      ...network,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: props.activeTracing ? lambda.Tracing.ACTIVE : undefined,
    });
    this.handler = handler;

    this._createdRolePath = `/cdk-eks-pod-identity/${Names.uniqueId(stack)}/`;
    this.stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    this.handlerRole = handlerRole;
    this.handlerRolePrecreated = !(handlerRole.node.defaultChild instanceof iam.CfnRole);
    const markedForThisStack = { [`aws:RequestTag/${OWNER_TAG_KEY}`]: `${this.stackUuid}/*` };
    this.onClusters = new iam.PolicyStatement({
      actions: ['eks:CreatePodIdentityAssociation', 'eks:TagResource'],
      conditions: { StringLike: markedForThisStack },
    });
    this.tagOnCreate = new iam.PolicyStatement({
      actions: ['eks:TagResource'],
      conditions: { StringLike: markedForThisStack, Null: { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: 'true' } },
    });
    this.adoptOnClusters = new iam.PolicyStatement({
      actions: ['eks:TagResource'],
      conditions: { StringLike: markedForThisStack },
    });
    for (const statement of this.handlerStatements()) {
      handlerRole.addToPrincipalPolicy(statement);
    }

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: handler,
      frameworkOnEventRole: frameworkRole,
      logGroup: this.frameworkLogGroup,
      ...network,
    });
    this.serviceToken = provider.serviceToken;
    const transfersProperties: TransfersResourceProperties = {
      AssociationsDigest: Lazy.string({
        produce: () => {
          const identities = this.identities.map(identity => JSON.stringify(stack.resolve(identity))).sort();
          return createHash('sha256').update(identities.join('\n')).digest('hex');
        },
      }),
    };
    this.transfers = new CfnResource(this, 'Transfers', {
      type: TRANSFERS_RESOURCE_TYPE,
      properties: { ServiceToken: this.serviceToken, ServiceTimeout: SERVICE_TIMEOUT_SECONDS, ...transfersProperties },
    });
    this.node.addValidation({ validate: () => [...this.policySizeProblems(), ...this.movedRoleProblems()] });
    // A stack's creation has no cleanup phase: its end, as EventBridge reports it, makes its transfers final.
    const stackOperationEnded = new events.Rule(this, 'StackOperationEnded', {
      description: 'Makes the ownership transfers of Pod Identity associations final once an operation of this stack has completed',
      eventPattern: {
        source: ['aws.cloudformation'],
        detailType: ['CloudFormation Stack Status Change'],
        detail: {
          'stack-id': [Aws.STACK_ID],
          'status-details': { status: OPERATION_COMPLETED_STATUSES },
        },
      },
      targets: [new targets.LambdaFunction(handler, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
    // aws-cdk-lib picks the framework's runtime from a regional fact that lags, and has no option for it, nor
    // for its memory, concurrency or tracing: they are set on its CfnFunction. If aws-cdk-lib renames the
    // function, it keeps its own runtime (a test notices), and options the framework cannot take are an error.
    const framework = provider.node.tryFindChild(FRAMEWORK_FUNCTION_ID);
    const frameworkFunction = framework instanceof lambda.Function && framework.node.defaultChild instanceof lambda.CfnFunction
      ? framework.node.defaultChild
      : undefined;
    if (frameworkFunction) {
      frameworkFunction.runtime = RUNTIME.name;
      if (props.frameworkMemorySize !== undefined) {
        frameworkFunction.memorySize = props.frameworkMemorySize;
      }
      if (props.reservedConcurrentExecutions !== undefined) {
        frameworkFunction.reservedConcurrentExecutions = props.reservedConcurrentExecutions;
      }
      if (props.activeTracing) {
        frameworkFunction.tracingConfig = { mode: lambda.Tracing.ACTIVE };
        // What aws-cdk-lib grants a function of its own with active tracing.
        frameworkRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }));
      }
    } else if (props.frameworkMemorySize !== undefined || props.reservedConcurrentExecutions !== undefined || props.activeTracing) {
      throw errorAt(this,
        `The provider framework's function is not where this version of the library expects it in aws-cdk-lib's Provider (child ${FRAMEWORK_FUNCTION_ID}), ` +
        'so frameworkMemorySize, reservedConcurrentExecutions and activeTracing cannot be applied to it, got: ' +
        `${JSON.stringify({ frameworkMemorySize: props.frameworkMemorySize, reservedConcurrentExecutions: props.reservedConcurrentExecutions, activeTracing: props.activeTracing })}. ` +
        'Use the aws-cdk-lib version this library was tested with, or a newer version of this library.',
      );
    }

    // A service account handed back from an add-on: its association waits for the add-on's update, which lets it go.
    Aspects.of(stack).add({ visit: node => node === this && this.waitForAddons() }, { priority: AspectPriority.MUTATING });

    // Created roles are on the handler's PassRole path, unless an aspect, an injector or iam.Role.customizeRoles() moved them.
    Aspects.of(stack).add({
      visit: node => this.handlerRolePrecreated ? this.completePrecreatedHandlerRole(node) : this.passMovedRoles(node),
    }, { priority: AspectPriority.READONLY });

    this.acknowledgeNagFindings(props, handler, frameworkRole, frameworkFunction, stackOperationEnded);
  }

  /**
   * Acknowledges the cdk-nag findings that the provider's resources are meant to have, each on its
   * resource and with the reason, and only those the provider's options leave: an option that
   * fixes a finding (a VPC, reserved concurrency, active tracing, the framework's memory, a log
   * key) removes its acknowledgement.
   */
  private acknowledgeNagFindings(
    props: PodIdentityAssociationProviderProps,
    handler: lambda.Function,
    frameworkRole: iam.Role,
    framework: lambda.CfnFunction | undefined,
    stackOperationEnded: events.Rule,
  ): void {
    const { AWS_SOLUTIONS, HIPAA, NIST_R4, NIST_R5, PCI, SERVERLESS } = NAG_PACK;
    const handlerFunction = handler.node.defaultChild as lambda.CfnFunction;
    // The statements a VPC or active tracing adds to both roles (Resource *).
    const anyResource = props.vpc || props.activeTracing ? [ANY_RESOURCE_FINDING] : [];
    const anyResourceReason = anyResource.length > 0 ? ` ${ANY_RESOURCE_REASON}` : '';
    acknowledgeNagFindings(defaultPolicyOf(this.handlerRole), [INLINE_POLICY, {
      ids: [`${AWS_SOLUTIONS}-IAM5`],
      reason: 'EKS assigns association ids at creation: the handler may read and list any association of this account and region (to see who owns the one that holds a service account), mark new or taken-over associations of the stack\'s clusters only with this stack\'s owner mark, and change or delete only associations whose owner mark names this stack. ' +
        'It may pass only the association roles this stack creates, which share the IAM path /cdk-eks-pod-identity/<stack>/, and only to pods.eks.amazonaws.com; and it keeps ownership transfer records and the records of agent add-ons it changed only under the SSM paths of this stack.' + anyResourceReason,
      findings: [
        '/^Resource::arn:.+:eks:.+:podidentityassociation\\/.+\\/\\*$/',
        '/^Resource::arn:.+:eks:.+:cluster\\/\\*$/',
        '/^Resource::arn:.+:iam::.+:role\\/cdk-eks-pod-identity\\/.+\\/\\*$/',
        `/^Resource::arn:.+:ssm:.+:parameter\\/${PARAMETER_ROOT}\\/.+\\/transfers\\/\\*$/`,
        `/^Resource::arn:.+:ssm:.+:parameter\\/${PARAMETER_ROOT}\\/.+\\/agents\\/\\*$/`,
        ...anyResource,
      ],
    }]);
    acknowledgeNagFindings(defaultPolicyOf(frameworkRole), [INLINE_POLICY, {
      ids: [`${AWS_SOLUTIONS}-IAM5`],
      reason: 'The aws-cdk-lib custom-resource provider framework invokes the handler function and its versions (<function ARN>:*); it may invoke nothing else.' + anyResourceReason,
      findings: [`/^Resource::<${Stack.of(this).getLogicalId(handlerFunction)}\\.Arn>:\\*$/`, ...anyResource],
    }]);

    const lambdaAcknowledgements: NagAcknowledgement[] = [{
      ids: ruleIds('LambdaDLQ', HIPAA, NIST_R5, SERVERLESS),
      reason: 'Invoked synchronously (CloudFormation, then the provider framework), every failure reported to CloudFormation; the one asynchronous invocation, EventBridge\'s at the end of a stack operation, is idempotent, retried, and repeated by the next settlement of the stack\'s transfers.',
    }];
    if (!props.vpc) {
      lambdaAcknowledgements.push({
        ids: ruleIds('LambdaInsideVPC', HIPAA, NIST_R4, NIST_R5, PCI),
        reason: 'Calls only AWS APIs (EKS, SSM, CloudFormation) and serves no network clients. Pass vpc to PodIdentityAssociationProvider.getOrCreate() to run both functions in a VPC.',
      });
    }
    if (props.reservedConcurrentExecutions === undefined) {
      lambdaAcknowledgements.push({
        ids: ruleIds('LambdaConcurrency', HIPAA, NIST_R5),
        reason: 'Runs only while CloudFormation deploys associations, one invocation per resource change. Pass reservedConcurrentExecutions to PodIdentityAssociationProvider.getOrCreate() to reserve concurrency.',
      });
    }
    if (!props.activeTracing) {
      lambdaAcknowledgements.push({
        ids: [`${SERVERLESS}-LambdaTracing`],
        reason: 'Each invocation is logged to the provider\'s log groups, with the request and EKS\'s answers. Pass activeTracing to PodIdentityAssociationProvider.getOrCreate() to trace with X-Ray.',
      });
    }
    if (flaggedAsOutdated(RUNTIME)) {
      lambdaAcknowledgements.push({
        ids: [`${AWS_SOLUTIONS}-L1`, `${SERVERLESS}-LambdaLatestVersion`],
        reason: `The handler bundle is built and tested for ${RUNTIME.name}, the newest Node.js runtime this version of the library knows; a newer version of the library moves to a newer runtime.`,
      });
    }
    acknowledgeNagFindings(handlerFunction, lambdaAcknowledgements);
    acknowledgeNagFindings(framework, [
      ...lambdaAcknowledgements,
      ...props.frameworkMemorySize === undefined ? [{
        ids: [`${SERVERLESS}-LambdaDefaultMemorySize`],
        reason: 'Passes each request to the handler and its answer to CloudFormation: Lambda\'s default of 128 MB is enough. Pass frameworkMemorySize to PodIdentityAssociationProvider.getOrCreate() to set it.',
      }] : [],
    ]);

    if (!props.logEncryptionKey) {
      for (const logGroup of [this.handlerLogGroup, this.frameworkLogGroup]) {
        acknowledgeNagFindings(logGroup.node.defaultChild as CfnResource, [{
          ids: ruleIds('CloudWatchLogGroupEncrypted', HIPAA, NIST_R4, NIST_R5, PCI),
          reason: 'CloudWatch Logs encrypts these logs with a key it owns; they hold no credentials and no session policy bodies. Pass logEncryptionKey to PodIdentityAssociationProvider.getOrCreate() to use a customer managed key.',
        }]);
      }
    }
    acknowledgeNagFindings(stackOperationEnded.node.defaultChild as CfnResource, [{
      ids: [`${SERVERLESS}-EventBusDLQ`],
      reason: 'The event only starts a settlement of the stack\'s ownership transfers, which is idempotent: EventBridge retries it, and the next operation of the stack settles whatever a lost event left.',
    }]);
  }

  /**
   * Gives the handler what it needs to serve `resource`, an association of this stack. Nothing a
   * cleanup or a rollback needs ever leaves a policy in place: a Delete, a give-back and a rollback's
   * return to an earlier association need only the fixed statements (the associations carry this
   * stack's owner mark); creating on a cluster is needed only while the cluster is in the template.
   * Passing a role given as `role` (which a rollback may need again) is a policy of its own, and so
   * is passing an adopted association's previous role: CloudFormation creates each before the
   * associations that depend on it, deletes it after them, and keeps it through a rollback (the
   * DependsOn attribute's documented order); neither ever changes.
   *
   * @internal
   */
  public _bind(resource: CfnResource, binding: AssociationBinding): void {
    this.addCluster(binding.clusterName);
    if (binding.adoptExisting) {
      this.addAdoptingCluster(binding.clusterName);
    }
    const policies = [
      binding.givenRole && this.rolePolicy(binding.givenRole),
      ...binding.adoptExisting ? [this.adoptedRolesPolicy(), this.adoptedAssociationsPolicy()] : [],
    ];
    for (const policy of policies) {
      if (policy) {
        resource.node.addDependency(policy);
      }
    }
    resource.node.addDependency(this.transfers);
    const logicalId = Stack.of(this).getLogicalId(resource);
    this.identities.push([logicalId, binding.clusterName, binding.namespace, binding.serviceAccount]);
    this.associationResources.push({ resource, clusterKey: clusterKeyOf(resource, binding.clusterName) });
  }

  /**
   * Gives the handler what it needs to serve `resource`, the agent (`PodIdentityAgent`) of one
   * cluster in this stack: a policy of its own for the cluster, which the agent resource depends on
   * (CloudFormation creates it before the agent, deletes it after, and keeps it through a rollback;
   * it never changes). The transfers resource depends on it too, so that it outlives the settlement
   * of the agent's records; and the agent's logical id, cluster, version and configuration join the
   * transfers resource's digest, so that adding, removing or changing an agent replaces it.
   *
   * @internal
   */
  public _bindAgent(resource: CfnResource, binding: AgentBinding): void {
    const policy = this.agentPolicy(binding.clusterName);
    if (policy) {
      resource.node.addDependency(policy);
      this.transfers.node.addDependency(policy);
    }
    resource.node.addDependency(this.transfers);
    const logicalId = Stack.of(this).getLogicalId(resource);
    this.identities.push([AGENT_RESOURCE_TYPE, logicalId, binding.clusterName, binding.addonVersion ?? '', binding.configurationValues ?? '']);
  }

  /**
   * Records that `addon`, an EKS add-on of this stack, takes a service account (an add-on role for it
   * is attached): the add-on's hand-over resource (`handoverOf`) releases this stack's association of
   * it before the add-on's update.
   *
   * @internal
   */
  public _bindHandover(addon: CfnResource, binding: HandoverBinding): void {
    this.handoverOf(addon).serviceAccounts.add(`${binding.namespace}/${binding.serviceAccount}`);
  }

  /**
   * The hand-over resource of `addon`, created on first use: one per add-on (by its logical id),
   * which the add-on depends on, so that its requests come before the add-on's. Its
   * `ServiceAccounts` are those of the add-on's roles: when it gains one, it releases this stack's
   * association of it first (an add-on cannot take an existing association over, and
   * CloudFormation would delete a removed association only in cleanup), and a rollback restores that
   * association; when a rollback gives one back to the add-on, it releases the association the
   * failed deployment created for it. It needs only the handler's fixed statements (associations of
   * this stack), and, to restore, creating on the cluster, which the template rolled back to
   * allows. It joins the transfers resource's digest, which settles its records once the deployment
   * is over.
   */
  private handoverOf(addon: CfnResource): { readonly resource: CfnResource; readonly serviceAccounts: Set<string> } {
    const known = this.handovers.get(addon);
    if (known) {
      return known;
    }
    const stack = Stack.of(this);
    const { clusterName, addonName } = addon as unknown as { clusterName: string; addonName: string };
    const id = `Handover${digestOf(stack, stack.getLogicalId(addon))}`;
    const serviceAccounts = new Set<string>();
    const properties: HandoverResourceProperties = {
      ClusterName: clusterName,
      AddonName: addonName,
      ServiceAccounts: Lazy.list({ produce: () => [...serviceAccounts].sort() }),
    };
    const resource = new CfnResource(this, id, {
      type: HANDOVER_RESOURCE_TYPE,
      properties: { ServiceToken: this.serviceToken, ServiceTimeout: SERVICE_TIMEOUT_SECONDS, ...properties },
    });
    resource.node.addDependency(this.transfers);
    addon.node.addDependency(resource);
    this.identities.push([HANDOVER_RESOURCE_TYPE, stack.getLogicalId(resource), properties.ClusterName, properties.AddonName,
      Lazy.string({ produce: () => [...serviceAccounts].sort().join(' ') })]);
    const handover = { resource, serviceAccounts };
    this.handovers.set(addon, handover);
    return handover;
  }

  /**
   * Gives each EKS add-on of the stack that takes Pod Identity associations of its own
   * (`POD_IDENTITY_ADDON_NAMES`) its hand-over resource, and makes each association of the stack
   * depend on those of its cluster. A service account handed back from such an add-on to a
   * `PodIdentityAssociation` in one deployment is then free when the association is created
   * (CloudFormation updates the add-on, which drops it, first; the handler also waits a while for
   * EKS to remove the add-on's association), and the hand-over, which the add-on's rollback waits
   * for, releases the association again if the deployment fails.
   */
  private waitForAddons(): void {
    const stack = Stack.of(this);
    const addons = stack.node.findAll()
      .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && c.cfnResourceType === 'AWS::EKS::Addon' && Stack.of(c) === stack)
      .filter(addon => POD_IDENTITY_ADDON_NAMES.has(String(stack.resolve((addon as unknown as { addonName: unknown }).addonName))));
    for (const addon of addons) {
      const clusterName = (addon as unknown as { clusterName: unknown }).clusterName;
      if (typeof clusterName !== 'string') {
        continue;
      }
      this.handoverOf(addon);
      for (const association of this._associationsOn(addon, clusterName)) {
        association.node.addDependency(addon);
      }
    }
  }

  /**
   * The association resources of this stack on `clusterName` (as `scope`'s template holds it).
   *
   * @internal
   */
  public _associationsOn(scope: IConstruct, clusterName: string): CfnResource[] {
    const key = clusterKeyOf(scope, clusterName);
    return this.associationResources.filter(association => association.clusterKey === key).map(association => association.resource);
  }

  /** The handler role's own policy: fixed for the life of the stack, but for the clusters it may create on. */
  private handlerStatements(): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const associations = stack.formatArn({ service: 'eks', resource: 'podidentityassociation', resourceName: '*/*' });
    const records = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${PARAMETER_ROOT}/${this.stackUuid}/transfers` });
    // What an agent add-on was before this stack changed its version or configuration.
    const agentRecords = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: agentRecordsPath(this.stackUuid).slice(1) });
    return [
      // Read-only, on any cluster: who owns the association that holds a service account, or that a Delete names.
      new iam.PolicyStatement({ actions: ['eks:DescribePodIdentityAssociation'], resources: [associations] }),
      new iam.PolicyStatement({ actions: ['eks:ListPodIdentityAssociations'], resources: [stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: '*' })] }),
      // Only associations whose owner mark names this stack, on any cluster, including one that has left the template.
      new iam.PolicyStatement({
        actions: ['eks:UpdatePodIdentityAssociation', 'eks:DeletePodIdentityAssociation', 'eks:TagResource', 'eks:UntagResource'],
        resources: [associations],
        conditions: { StringLike: { [`aws:ResourceTag/${OWNER_TAG_KEY}`]: `${this.stackUuid}/*` } },
      }),
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${this._createdRolePath.slice(1)}*` })],
        conditions: { StringEquals: { 'iam:PassedToService': PODS_SERVICE_PRINCIPAL } },
      }),
      new iam.PolicyStatement({
        actions: ['ssm:PutParameter', 'ssm:GetParametersByPath', 'ssm:DeleteParameters'],
        resources: [records, `${records}/*`, agentRecords, `${agentRecords}/*`],
      }),
      // Which phase a request belongs to, which resource holds an association, and whether an agent add-on is one of the stack's own resources.
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource', 'cloudformation:ListStackResources'], resources: [Aws.STACK_ID] }),
    ];
  }

  /**
   * Lets the handler create associations on `clusterName` and mark them, only with this stack's
   * owner mark. Tags on create may need eks:TagResource, on the cluster or on the new association
   * (not documented): on an association, only on one that carries no owner mark, so no other
   * stack's association can ever be marked as this stack's. IAM cannot tell the new association
   * from an existing one that carries no owner mark (neither has tags when IAM looks), so that
   * statement is what every stack has; taking over an association another owner marked is allowed
   * only in a policy of its own, in stacks that adopt (`adoptedAssociationsPolicy`).
   */
  private addCluster(clusterName: string): void {
    const stack = Stack.of(this);
    const key = JSON.stringify(stack.resolve(clusterName));
    if (!this.clusters.has(key)) {
      this.onClusters.addResources(stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: clusterName }));
      this.tagOnCreate.addResources(associationsOf(stack, clusterName));
      // Added with the first cluster: a statement without resources is not a valid policy.
      if (this.clusters.size === 0 && !this.handlerRolePrecreated) {
        this.handlerRole.addToPrincipalPolicy(this.onClusters);
        this.handlerRole.addToPrincipalPolicy(this.tagOnCreate);
      }
      this.clusters.add(key);
    }
  }

  /** Lets the handler mark, with this stack's owner mark, an association of `clusterName` that another owner marked: only for adoptExisting. */
  private addAdoptingCluster(clusterName: string): void {
    const stack = Stack.of(this);
    const key = JSON.stringify(stack.resolve(clusterName));
    if (!this.adoptingClusters.has(key)) {
      this.adoptOnClusters.addResources(associationsOf(stack, clusterName));
      this.adoptingClusters.add(key);
    }
  }

  /** Pass one role given as `role` to EKS Pod Identity. */
  private rolePolicy(role: iam.IRole): iam.Policy | undefined {
    const stack = Stack.of(this);
    const id = `Role${digestOf(stack, role.roleArn)}`;
    return this.handlerPolicy(id, () => [new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': PODS_SERVICE_PRINCIPAL } },
    })]);
  }

  /**
   * Pass any role of the account to EKS Pod Identity: only with `adoptExisting`, whose rollback
   * gives an adopted association back its previous role, which the stack does not know.
   */
  private adoptedRolesPolicy(): iam.Policy | undefined {
    const id = 'AdoptedAssociationRoles';
    return this.handlerPolicy(id, () => [new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' })],
      conditions: { StringEquals: { 'iam:PassedToService': PODS_SERVICE_PRINCIPAL } },
    })], [{
      ids: [`${NAG_PACK.AWS_SOLUTIONS}-IAM5`],
      reason: 'Only in stacks with adoptExisting: if a deployment that adopted an association fails, the handler gives the association back its previous role, which this stack does not know; only to pods.eks.amazonaws.com.',
      findings: ['/^Resource::arn:.+:iam::.+:role\\/\\*$/'],
    }]);
  }

  /**
   * Mark an association that another owner marked (another stack, or a stack that retained it) as
   * this stack's: only with `adoptExisting`, and only on the clusters of adopting associations. Its
   * previous owner mark is known only at deploy time, so the statement cannot name it. Giving the
   * association back in a rollback needs none of it: the association then carries this stack's mark.
   */
  private adoptedAssociationsPolicy(): iam.Policy | undefined {
    if (this.handlerRolePrecreated) {
      // Its statement grows with each adopting cluster: recorded in the role's report once the app is complete.
      return undefined;
    }
    return this.handlerPolicy('AdoptedAssociations', () => [this.adoptOnClusters], [{
      ids: [`${NAG_PACK.AWS_SOLUTIONS}-IAM5`],
      reason: 'Only in stacks with adoptExisting: EKS assigns association ids at creation, so the handler may mark an association of the clusters of adopting associations, only with this stack\'s owner mark; what the association was is recorded first, and a deployment that fails gives it back.',
      findings: ['/^Resource::arn:.+:eks:.+:podidentityassociation\\/.+\\/\\*$/'],
    }]);
  }

  /**
   * What the handler needs to serve the agent of `clusterName` in this stack, and nothing of
   * another cluster: a policy of its own per cluster, which never changes. It may read the cluster
   * and list its node groups and Fargate profiles (is Auto Mode alone running pods?); read and
   * update the cluster's agent add-on; create it only with this stack's creator tag (tags on create
   * may need eks:TagResource, on the cluster or on the new add-on: not documented, so both, on an
   * add-on only while it carries no creator tag); add and remove this stack's lease tags and no
   * other; delete only an add-on the library created (any stack's creator tag: the last stack that
   * relies on it deletes it); and list the add-on's versions, which takes no resource.
   */
  private agentPolicy(clusterName: string): iam.Policy | undefined {
    const stack = Stack.of(this);
    this.agentClusters.add(JSON.stringify(stack.resolve(clusterName)));
    const cluster = stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: clusterName });
    const addons = stack.formatArn({ service: 'eks', resource: 'addon', resourceName: `${clusterName}/${AGENT_ADDON_NAME}/*` });
    const createdByThisStack = { [`aws:RequestTag/${AGENT_CREATOR_TAG_KEY}`]: `${this.stackUuid}/*` };
    return this.handlerPolicy(`Agent${digestOf(stack, clusterName)}`, () => [
      new iam.PolicyStatement({ actions: ['eks:DescribeCluster', 'eks:ListNodegroups', 'eks:ListFargateProfiles'], resources: [cluster] }),
      new iam.PolicyStatement({ actions: ['eks:DescribeAddon', 'eks:UpdateAddon'], resources: [addons] }),
      new iam.PolicyStatement({ actions: ['eks:CreateAddon'], resources: [cluster], conditions: { StringLike: createdByThisStack } }),
      new iam.PolicyStatement({
        actions: ['eks:TagResource'],
        resources: [cluster, addons],
        conditions: { StringLike: createdByThisStack, Null: { [`aws:ResourceTag/${AGENT_CREATOR_TAG_KEY}`]: 'true' } },
      }),
      new iam.PolicyStatement({
        actions: ['eks:TagResource', 'eks:UntagResource'],
        resources: [addons],
        // Only this stack's lease keys, one per agent resource: `<prefix><stack uuid>/<digest of its logical id>`.
        conditions: { 'ForAllValues:StringLike': { 'aws:TagKeys': [`${agentLeaseTagKeyPrefix(this.stackUuid)}*`] } },
      }),
      new iam.PolicyStatement({
        actions: ['eks:DeleteAddon'],
        resources: [addons],
        conditions: { StringLike: { [`aws:ResourceTag/${AGENT_CREATOR_TAG_KEY}`]: '*/*' } },
      }),
      new iam.PolicyStatement({ actions: ['eks:DescribeAddonVersions'], resources: ['*'] }),
    ], [{
      ids: [`${NAG_PACK.AWS_SOLUTIONS}-IAM5`],
      reason: `EKS assigns add-on ARNs at creation (addon/<cluster>/${AGENT_ADDON_NAME}/<id>): the handler may read, update and lease this cluster's ${AGENT_ADDON_NAME} add-on only (its leases: this stack's tag keys, no other), ` +
        'tag it on create only with this stack\'s creator tag while it carries none, and delete it only when the library created it. eks:DescribeAddonVersions takes no resource (*).',
      findings: [`/^Resource::arn:.+:eks:.+:addon\\/.+\\/${AGENT_ADDON_NAME}\\/\\*$/`, ANY_RESOURCE_FINDING],
    }]);
  }

  /**
   * A policy of the handler role's own, created once under `id`. With a role that
   * iam.Role.customizeRoles() pre-creates, there is none: the statements go to the role's report,
   * and the template changes no role.
   */
  private handlerPolicy(id: string, statements: () => iam.PolicyStatement[], acknowledgements: NagAcknowledgement[] = []): iam.Policy | undefined {
    if (this.handlerPolicies.has(id)) {
      return this.handlerPolicies.get(id);
    }
    let policy: iam.Policy | undefined;
    if (this.handlerRolePrecreated) {
      for (const statement of statements()) {
        this.handlerRole.addToPrincipalPolicy(statement);
      }
    } else {
      policy = new iam.Policy(this, id, { statements: statements() });
      policy.attachToRole(this.handlerRole);
      acknowledgeNagFindings(policy.node.defaultChild as CfnResource, [INLINE_POLICY, ...acknowledgements]);
    }
    this.handlerPolicies.set(id, policy);
    return policy;
  }


  /**
   * Lets the handler pass a role the stack's associations created that is not on the created-role
   * path: one whose path an aspect or a property injector changed, or that iam.Role.customizeRoles()
   * pre-creates under a name of its own. It looks at the role's CfnRole, whose aspects run before
   * this one (a lower priority), rather than at the role, which CDK visits before its children.
   */
  private passMovedRoles(node: IConstruct): void {
    const role = node instanceof AssociationRole ? node : node.node.scope;
    if (!(role instanceof AssociationRole) || !role.passedByHandler || Stack.of(role) !== Stack.of(this) || this.movedRoles.has(role)) {
      return;
    }
    if (node === role ? role.node.defaultChild instanceof iam.CfnRole : !(node instanceof iam.CfnRole)) {
      return;
    }
    if (this.isOnCreatedRolePath(role)) {
      return;
    }
    this.movedRoles.add(role);
    // A policy of its own: the handler role's default policy is final once its aspect has split it.
    const passMoved = this.passMoved ?? new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      conditions: { StringEquals: { 'iam:PassedToService': PODS_SERVICE_PRINCIPAL } },
    });
    this.passMoved = passMoved;
    const policy = this.handlerPolicy('MovedAssociationRoles', () => [passMoved])!;
    passMoved.addResources(role.roleArn);
    // The association that passes the role waits for the permission.
    role.node.scope?.node.tryFindChild('Resource')?.node.addDependency(policy);
  }

  /**
   * With a pre-created handler role, once the app is complete: records the statements that grew
   * while it was defined (the clusters, the created roles off the created-role path).
   */
  private completePrecreatedHandlerRole(node: IConstruct): void {
    if (node !== this || this.reportedMovedRoles) {
      return;
    }
    if (this.clusters.size > 0) {
      this.handlerRole.addToPrincipalPolicy(this.onClusters);
      this.handlerRole.addToPrincipalPolicy(this.tagOnCreate);
    }
    if (this.adoptingClusters.size > 0) {
      this.handlerRole.addToPrincipalPolicy(this.adoptOnClusters);
    }
    this.reportedMovedRoles = this.createdRoles().filter(role => !this.isOnCreatedRolePath(role));
    if (this.reportedMovedRoles.length > 0) {
      this.handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: this.reportedMovedRoles.map(role => role.roleArn),
        conditions: { StringEquals: { 'iam:PassedToService': PODS_SERVICE_PRINCIPAL } },
      }));
    }
  }

  /** The roles this stack's associations created. */
  private createdRoles(): AssociationRole[] {
    const stack = Stack.of(this);
    return stack.node.findAll().filter((c): c is AssociationRole => c instanceof AssociationRole && c.passedByHandler && Stack.of(c) === stack);
  }

  /** Whether the handler's PassRole on the created-role path covers `role`: its CfnRole has that path. */
  private isOnCreatedRolePath(role: AssociationRole): boolean {
    const resource = role.node.defaultChild;
    return resource instanceof iam.CfnRole && Stack.of(this).resolve(resource.path) === this._createdRolePath;
  }

  /** A created role moved off the created-role path after this provider looked (by an aspect of a later priority): say so, rather than fail at deploy time. */
  private movedRoleProblems(): string[] {
    const stack = Stack.of(this);
    const passed = new Set<AssociationRole>(this.reportedMovedRoles ?? this.movedRoles);
    return this.createdRoles()
      .filter(role => !passed.has(role) && !this.isOnCreatedRolePath(role))
      .map(role =>
        `The path of role ${role.node.path} changed to ${JSON.stringify(stack.resolve((role.node.defaultChild as iam.CfnRole | undefined)?.path))} after this provider looked (by an aspect of priority AspectPriority.READONLY or above), ` +
        `so the handler, which may pass the roles on ${this._createdRolePath}, could not pass it, got: no PassRole for the role. ` +
        'Rewrite role paths in an aspect of priority below AspectPriority.READONLY (AspectPriority.DEFAULT is), or with a property injector, or give the association a `role` of your own.',
      );
  }

  /** IAM limits the inline policies of a role to 10,240 characters in all. */
  private policySizeProblems(): string[] {
    const policies = this.node.children.filter((c): c is iam.Policy => c instanceof iam.Policy).map(p => p.node.defaultChild as CfnResource);
    const documents = [defaultPolicyOf(this.handlerRole), ...policies]
      .filter((resource): resource is CfnResource => resource !== undefined)
      .map(resource => (resource as iam.CfnPolicy).policyDocument);
    const size = estimatedPolicyCharacters(Stack.of(this), documents);
    if (size <= MAX_ROLE_INLINE_POLICY_CHARACTERS) {
      return [];
    }
    const clusters = this.clusters.size;
    const roles = this.node.children.filter(c => c.node.id.startsWith('Role')).length;
    const agents = this.agentClusters.size;
    return [
      `The policies of the Pod Identity association handler's role would hold about ${size} characters, over IAM's limit of ${MAX_ROLE_INLINE_POLICY_CHARACTERS} per role: ` +
      `this stack's associations use ${clusters} clusters (about 160 characters each) and ${roles} roles given as \`role\` (a policy of about 230 characters each)` +
      (agents > 0 ? `, and it ensures the agent of ${agents} clusters (a policy of about ${AGENT_POLICY_CHARACTERS} characters each)` : '') + '. ' +
      'Let the associations create their roles (those share one statement), or spread the associations over more stacks' +
      (agents > 0 ? ' (the agent of a cluster in the stacks that use it)' : '') + '.',
    ];
  }
}

/** The ARN pattern of every association of a cluster. */
function associationsOf(stack: Stack, clusterName: string): string {
  return stack.formatArn({ service: 'eks', resource: 'podidentityassociation', resourceName: `${clusterName}/*` });
}

/** A short, stable digest of a value as the template will hold it (tokens resolved), for construct ids. */
function digestOf(stack: Stack, value: string): string {
  return createHash('sha256').update(JSON.stringify(stack.resolve(value))).digest('hex').slice(0, 8).toUpperCase();
}

/** Stack statuses that end an operation with the stack in use (CloudFormation User Guide, stack status codes). */
const OPERATION_COMPLETED_STATUSES = ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE'];

/** HIPAA.Security, NIST 800-53 and PCI DSS prefer managed policies; each provider policy is sized to this stack. */
const INLINE_POLICY: NagAcknowledgement = {
  ids: ruleIds('IAMNoInlinePolicy', NAG_PACK.HIPAA, NAG_PACK.NIST_R4, NAG_PACK.NIST_R5, NAG_PACK.PCI),
  reason: 'Each policy of a provider role is written for this stack (its log group, clusters, roles and transfer records) and attached to that role alone; a managed policy is for sharing.',
};

/** About how many characters the policy of one agent cluster takes, each intrinsic at its longest, for a cluster name of 20 characters (test/agent). */
const AGENT_POLICY_CHARACTERS = 1_700;

/** `Resource::*`, the finding of the statements a VPC or active tracing adds to the provider's roles. */
const ANY_RESOURCE_FINDING = '/^Resource::\\*$/';
const ANY_RESOURCE_REASON = 'In a VPC, Lambda manages the function\'s network interfaces with its role: the statement of AWSLambdaVPCAccessExecutionRole, on * as there (the interfaces do not exist before Lambda creates them). ' +
  'With active tracing, the function sends traces to X-Ray, which takes no resource.';

/**
 * Whether cdk-nag's AwsSolutions-L1 and Serverless-LambdaLatestVersion flag `runtime`: whether the
 * aws-cdk-lib in use knows a runtime of its family (by name) that sorts after it, the versions
 * compared as numbers (cdk-nag's LambdaLatestVersion rule, the same in cdk-nag 2 and 3).
 */
function flaggedAsOutdated(runtime: lambda.Runtime): boolean {
  const pattern = /^([a-z]+)(\d+(\.?\d+|\.x)?)?.*$/;
  const family = pattern.exec(runtime.name)?.[1] ?? runtime.name;
  const latest = lambda.Runtime.ALL
    .map(other => ({ name: other.name, match: pattern.exec(other.name) }))
    .filter(({ name, match }) => name.startsWith(family) && match)
    .sort((a, b) => (a.match![2] ?? '0').localeCompare(b.match![2] ?? '0', undefined, { numeric: true, sensitivity: 'base' }))
    .pop();
  return latest !== undefined && latest.name !== runtime.name;
}

/** The CloudFormation resource of a role's default policy; none when iam.Role.customizeRoles() pre-creates the role (its report lists the statements). */
function defaultPolicyOf(role: iam.Role): CfnResource | undefined {
  const resource = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
  return resource instanceof CfnResource ? resource : undefined;
}

/** What Lambda needs to manage the network interfaces of a function in a VPC (AWSLambdaVPCAccessExecutionRole, less its logs statement). */
const VPC_ACCESS_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/** Throws when an option of the functions is out of range, or given without what it needs. */
function checkFunctionOptions(scope: IConstruct, props: PodIdentityAssociationProviderProps): void {
  if (!props.vpc && (props.vpcSubnets !== undefined || props.securityGroups !== undefined)) {
    throw errorAt(scope, `\`vpcSubnets\` and \`securityGroups\` place the functions in a VPC, but no \`vpc\` is given, got: ${props.vpcSubnets !== undefined ? 'vpcSubnets' : 'securityGroups'}. Pass \`vpc\` too.`);
  }
  const known = (value: number | undefined): value is number => value !== undefined && !Token.isUnresolved(value);
  const reserved = props.reservedConcurrentExecutions;
  if (known(reserved) && (!Number.isInteger(reserved) || reserved < 1)) {
    throw errorAt(scope,
      `\`reservedConcurrentExecutions\` must be a whole number of at least 1, got: ${props.reservedConcurrentExecutions}. ` +
      'With 0 the functions would never run, and every deployment of an association would fail; leave it out for no reservation.');
  }
  const memory = props.frameworkMemorySize;
  if (known(memory) && (!Number.isInteger(memory) || memory < 128 || memory > 10_240)) {
    throw errorAt(scope, `\`frameworkMemorySize\` must be a whole number of MB from 128 to 10,240 (what Lambda allows), got: ${props.frameworkMemorySize}.`);
  }
}

/** The id of aws-cdk-lib's provider framework function inside `cr.Provider`. */
const FRAMEWORK_FUNCTION_ID = 'framework-onEvent';
