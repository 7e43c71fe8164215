import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { AspectPriority, Aspects, Aws, CfnResource, Duration, Fn, Lazy, Names, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { AssociationRole } from './private/association-role';
import type { AssociationBinding } from './private/binding';
import { OWNER_TAG_KEY, PARAMETER_ROOT, PODS_SERVICE_PRINCIPAL, SERVICE_TIMEOUT_SECONDS, TRANSFERS_RESOURCE_TYPE, TransfersResourceProperties } from './private/contract';
import { errorAt } from './private/errors';
import { NagSuppression, suppressNagFindings } from './private/nag';
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
}

/**
 * The custom-resource provider shared by every `PodIdentityAssociation` in a stack: the handler
 * function, the provider framework, their log groups, the handler's permissions (its role's policy,
 * plus one policy per role given as `role`, which the associations that use it depend on), the
 * resource that settles ownership transfers at the end of each deployment, and the EventBridge rule
 * that tells the handler when an operation of the stack has completed.
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
  /** Create on the stack's clusters, and mark an association of them as this stack's (tag-on-create, takeover). */
  private readonly onClusters: iam.PolicyStatement;
  private readonly clusters = new Set<string>();
  /** The unique part of the stack id, as a value known at deploy time: the owner marks and transfer records of this stack start with it. */
  private readonly stackUuid: string;
  private readonly transfers: CfnResource;
  /** The logical id, cluster, namespace and service account of each association, for the transfers resource. */
  private readonly identities: string[][] = [];

  private constructor(scope: Construct, id: string, props: PodIdentityAssociationProviderProps) {
    super(scope, id);

    if (!fs.existsSync(path.join(HANDLER_BUNDLE_DIR, 'index.js'))) {
      throw errorAt(this,
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
    this.stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    this.handlerRole = handlerRole;
    this.handlerRolePrecreated = !(handlerRole.node.defaultChild instanceof iam.CfnRole);
    this.onClusters = new iam.PolicyStatement({
      actions: ['eks:CreatePodIdentityAssociation', 'eks:TagResource'],
      conditions: { StringLike: { [`aws:RequestTag/${OWNER_TAG_KEY}`]: `${this.stackUuid}/*` } },
    });
    for (const statement of this.handlerStatements()) {
      handlerRole.addToPrincipalPolicy(statement);
    }

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: handler,
      frameworkOnEventRole: frameworkRole,
      logGroup: this.frameworkLogGroup,
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
    new events.Rule(this, 'StackOperationEnded', {
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
    // aws-cdk-lib picks the framework's runtime from a regional fact that lags, and has no option for it: run
    // both on the newest. If aws-cdk-lib renames the function, it keeps its own runtime (a test notices).
    const framework = provider.node.tryFindChild(FRAMEWORK_FUNCTION_ID);
    if (framework instanceof lambda.Function && framework.node.defaultChild instanceof lambda.CfnFunction) {
      framework.node.defaultChild.runtime = RUNTIME.name;
    }

    // Created roles are on the handler's PassRole path, unless an aspect, an injector or iam.Role.customizeRoles() moved them.
    Aspects.of(stack).add({
      visit: node => this.handlerRolePrecreated ? this.completePrecreatedHandlerRole(node) : this.passMovedRoles(node),
    }, { priority: AspectPriority.READONLY });

    suppressNagFindings(defaultPolicyOf(handlerRole), [{
      id: 'AwsSolutions-IAM5',
      reason: 'EKS assigns association ids at creation: the handler may read and list any association of this account and region (to see who owns the one that holds a service account), mark new or taken-over associations of the stack\'s clusters only with this stack\'s owner mark, and change or delete only associations whose owner mark names this stack. ' +
        'It may pass only the association roles this stack creates, which share the IAM path /cdk-eks-pod-identity/<stack>/, and only to pods.eks.amazonaws.com; and it keeps ownership transfer records only under the SSM path of this stack.',
      appliesTo: [
        { regex: '/^Resource::arn:.+:eks:.+:podidentityassociation\\/.+\\/\\*$/' },
        { regex: '/^Resource::arn:.+:eks:.+:cluster\\/\\*$/' },
        { regex: '/^Resource::arn:.+:iam::.+:role\\/cdk-eks-pod-identity\\/.+\\/\\*$/' },
        { regex: `/^Resource::arn:.+:ssm:.+:parameter\\/${PARAMETER_ROOT}\\/.+\\/transfers\\/\\*$/` },
      ],
    }, INLINE_POLICY]);
    suppressNagFindings(defaultPolicyOf(frameworkRole), [{
      id: 'AwsSolutions-IAM5',
      reason: 'The aws-cdk-lib custom-resource provider framework invokes the handler function and its versions (<function ARN>:*); it may invoke nothing else.',
      appliesTo: [{ regex: `/^Resource::<${Stack.of(this).getLogicalId(handler.node.defaultChild as CfnResource)}\\.Arn>:\\*$/` }],
    }, INLINE_POLICY]);
    for (const fn of [handler, framework]) {
      if (fn?.node.defaultChild instanceof CfnResource) {
        suppressNagFindings(fn.node.defaultChild, LAMBDA_DEPLOYMENT_TIME_ONLY);
      }
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
    const policies = [binding.givenRole && this.rolePolicy(binding.givenRole), binding.adoptExisting ? this.adoptedRolesPolicy() : undefined];
    for (const policy of policies) {
      if (policy) {
        resource.node.addDependency(policy);
      }
    }
    resource.node.addDependency(this.transfers);
    const logicalId = Stack.of(this).getLogicalId(resource);
    this.identities.push([logicalId, binding.clusterName, binding.namespace, binding.serviceAccount]);
  }

  /** The handler role's own policy: fixed for the life of the stack, but for the clusters it may create on. */
  private handlerStatements(): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const associations = stack.formatArn({ service: 'eks', resource: 'podidentityassociation', resourceName: '*/*' });
    const records = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${PARAMETER_ROOT}/${this.stackUuid}/transfers` });
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
        resources: [records, `${records}/*`],
      }),
      // Which phase a request belongs to, and which resource holds an association.
      new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource'], resources: [Aws.STACK_ID] }),
    ];
  }

  /**
   * Lets the handler create associations on `clusterName` and mark them (tag-on-create, which EKS
   * may authorize on the cluster or on the new association: not documented), only with this
   * stack's owner mark.
   */
  private addCluster(clusterName: string): void {
    const stack = Stack.of(this);
    const key = JSON.stringify(stack.resolve(clusterName));
    if (!this.clusters.has(key)) {
      this.onClusters.addResources(
        stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: clusterName }),
        stack.formatArn({ service: 'eks', resource: 'podidentityassociation', resourceName: `${clusterName}/*` }),
      );
      // Added with the first cluster: a statement without resources is not a valid policy.
      if (this.clusters.size === 0 && !this.handlerRolePrecreated) {
        this.handlerRole.addToPrincipalPolicy(this.onClusters);
      }
      this.clusters.add(key);
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
      id: 'AwsSolutions-IAM5',
      reason: 'Only in stacks with adoptExisting: if a deployment that adopted an association fails, the handler gives the association back its previous role, which this stack does not know; only to pods.eks.amazonaws.com.',
      appliesTo: [{ regex: '/^Resource::arn:.+:iam::.+:role\\/\\*$/' }],
    }]);
  }

  /**
   * A policy of the handler role's own, created once under `id`. With a role that
   * iam.Role.customizeRoles() pre-creates, there is none: the statements go to the role's report,
   * and the template changes no role.
   */
  private handlerPolicy(id: string, statements: () => iam.PolicyStatement[], suppressions: NagSuppression[] = []): iam.Policy | undefined {
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
      suppressNagFindings(policy.node.defaultChild as CfnResource, [...suppressions, INLINE_POLICY]);
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
    if (!(role instanceof AssociationRole) || Stack.of(role) !== Stack.of(this) || this.movedRoles.has(role)) {
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
    return stack.node.findAll().filter((c): c is AssociationRole => c instanceof AssociationRole && Stack.of(c) === stack);
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
    return [
      `The policies of the Pod Identity association handler's role would hold about ${size} characters, over IAM's limit of ${MAX_ROLE_INLINE_POLICY_CHARACTERS} per role: ` +
      `this stack's associations use ${clusters} clusters (about 160 characters each) and ${roles} roles given as \`role\` (a policy of about 230 characters each). ` +
      'Let the associations create their roles (those share one statement), or spread the associations over more stacks.',
    ];
  }
}

/** A short, stable digest of a value as the template will hold it (tokens resolved), for construct ids. */
function digestOf(stack: Stack, value: string): string {
  return createHash('sha256').update(JSON.stringify(stack.resolve(value))).digest('hex').slice(0, 8).toUpperCase();
}

/** Stack statuses that end an operation with the stack in use (CloudFormation User Guide, stack status codes). */
const OPERATION_COMPLETED_STATUSES = ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE'];

/** HIPAA.Security prefers managed policies; each provider role has one policy sized to this stack. */
const INLINE_POLICY: NagSuppression = {
  id: 'HIPAA.Security-IAMNoInlinePolicy',
  reason: 'Each policy of a provider role is written for this stack (its log group, clusters, roles and transfer records) and attached to that role alone; a managed policy is for sharing.',
};

/** HIPAA.Security's Lambda rules are about long-running workloads, not a deployment-time custom resource. */
const LAMBDA_DEPLOYMENT_TIME_ONLY: NagSuppression[] = [
  {
    id: 'HIPAA.Security-LambdaConcurrency',
    reason: 'Runs only while CloudFormation deploys associations, one invocation per resource change; a concurrency limit would only slow down or fail large deployments.',
  },
  {
    id: 'HIPAA.Security-LambdaDLQ',
    reason: 'Invoked synchronously (CloudFormation, then the provider framework), every failure reported to CloudFormation; the one asynchronous invocation, EventBridge\'s at the end of a stack operation, is idempotent, retried by Lambda, and repeated by the next settlement of the stack\'s transfers.',
  },
  {
    id: 'HIPAA.Security-LambdaInsideVPC',
    reason: 'Calls only AWS APIs (EKS, SSM, CloudFormation); inside a VPC it would need a NAT gateway or interface endpoints to do so, and it serves no network clients of its own.',
  },
];

/** The CloudFormation resource of a role's default policy; none when iam.Role.customizeRoles() pre-creates the role (its report lists the statements). */
function defaultPolicyOf(role: iam.Role): CfnResource | undefined {
  const resource = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
  return resource instanceof CfnResource ? resource : undefined;
}

/** The id of aws-cdk-lib's provider framework function inside `cr.Provider`. */
const FRAMEWORK_FUNCTION_ID = 'framework-onEvent';
