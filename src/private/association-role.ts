import { CfnResource, Lazy, PhysicalName, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeNagFindings, NAG_PACK, ruleIds } from './nag';

/** Options of the role an association creates. */
export interface AssociationRoleProps {
  readonly assumedBy: iam.IPrincipal;
  /**
   * The role's IAM path; when absent, IAM's default (`/`). The roles of associations have the path
   * the handler may pass (the provider's created-role path); add-on roles, which the handler never
   * passes (EKS gets them in the add-on's own request), have none.
   */
  readonly path?: string;
  /** An explicit name; when absent, a generated one. */
  readonly roleName?: string;
  /** Applied to the role and every policy it gets. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The role an association creates when none is given, and the role of an add-on's own
 * association (`AddonRole`). Its name is the one given, or generated
 * only where needed (`PhysicalName.GENERATE_IF_NEEDED`): when CDK references it from another
 * environment, or when a trust policy in another stack or account must name it (`portableArn()`),
 * with the same name in both cases. The association's removal policy covers it and all its
 * policies, so a retained association keeps the permissions its pods use.
 */
export class AssociationRole extends iam.Role {
  /** Whether the handler passes this role (to CreatePodIdentityAssociation): the role of an association, not of an add-on. */
  public readonly passedByHandler: boolean;
  private nameRequired = false;
  private readonly explicitName?: string;
  /** The policy applied to the role, which its policies follow; undefined while CloudFormation's default (Delete) holds. */
  private removalPolicy?: RemovalPolicy;
  private readonly policies = new Set<iam.Policy>();
  private readonly waitingForGrants: IConstruct[] = [];

  constructor(scope: Construct, id: string, props: AssociationRoleProps) {
    super(scope, id, { assumedBy: props.assumedBy, path: props.path, roleName: props.roleName ?? PhysicalName.GENERATE_IF_NEEDED });
    this.explicitName = props.roleName;
    this.passedByHandler = props.path !== undefined;
    // With iam.Role.customizeRoles() the role is pre-created outside the template: there is no CfnRole to name.
    const resource = this.cfnRole;
    if (resource && props.roleName === undefined) {
      const nameWhenReferencedAcrossEnvironments = resource.roleName;
      resource.roleName = Lazy.string({
        produce: () => this.nameRequired ? this.generatePhysicalName() : nameWhenReferencedAcrossEnvironments,
      });
    }
    // Delete is CloudFormation's default: only other policies are written.
    if (props.removalPolicy !== RemovalPolicy.DESTROY) {
      this.applyRemovalPolicy(props.removalPolicy);
    }
  }

  /**
   * Makes `resource` (the association) wait for the role's grants, so that pods never receive
   * credentials without the permissions granted to them. The role's policy appears on the first
   * grant, which may come after the association is defined.
   */
  public grantsBefore(resource: IConstruct): void {
    this.waitingForGrants.push(resource);
    for (const policy of this.policies) {
      resource.node.addDependency(policy);
    }
  }

  /** A policy attached to the role is the association's too: it follows its removal policy, and the association waits for it. */
  public attachInlinePolicy(policy: iam.Policy): void {
    super.attachInlinePolicy(policy);
    // The role's one policy (created on its first grant), which HIPAA.Security, NIST 800-53 and PCI DSS flag as inline (once: attaching twice is allowed); its statements, and policies of the user's, are judged as they are.
    if (!this.policies.has(policy) && policy.node.scope === this && policy.node.id === 'DefaultPolicy') {
      acknowledgeNagFindings(policy.node.defaultChild as CfnResource, [{
        ids: ruleIds('IAMNoInlinePolicy', NAG_PACK.HIPAA, NAG_PACK.NIST_R4, NAG_PACK.NIST_R5, NAG_PACK.PCI),
        reason: 'This policy holds the grants made to one association (grantTargetRole(), grants such as bucket.grantRead(association)) and belongs to its role alone; attach managed policies to association.role if you need them shared.',
      }]);
    }
    this.own(policy);
  }

  /** Applies `policy` to the role and to every policy it has, and will have. */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    this.removalPolicy = policy;
    this.cfnRole?.applyRemovalPolicy(policy);
    for (const owned of this.policies) {
      resourceOf(owned)?.applyRemovalPolicy(policy);
    }
  }

  private own(policy: iam.Policy): void {
    if (this.policies.has(policy)) {
      return;
    }
    this.policies.add(policy);
    if (this.removalPolicy !== undefined) {
      resourceOf(policy)?.applyRemovalPolicy(this.removalPolicy);
    }
    for (const resource of this.waitingForGrants) {
      resource.node.addDependency(policy);
    }
  }

  /** The role's CloudFormation resource; undefined when iam.Role.customizeRoles() pre-creates the role. */
  private get cfnRole(): iam.CfnRole | undefined {
    const resource = this.node.defaultChild;
    return resource instanceof iam.CfnRole ? resource : undefined;
  }

  /**
   * The role's ARN as a value without a reference to this stack, for a template of another stack;
   * gives the role its generated name. Undefined when the stack's account or region is unknown
   * (a name cannot be generated then).
   */
  public portableArn(): string | undefined {
    const stack = Stack.of(this);
    if (this.explicitName !== undefined && !Token.isUnresolved(this.explicitName)) {
      return roleArn(stack, this.cfnRole?.path ?? '/', this.explicitName);
    }
    if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region) || !this.cfnRole) {
      return undefined;
    }
    this.nameRequired = true;
    return roleArn(stack, this.cfnRole.path ?? '/', this.generatePhysicalName());
  }
}

/**
 * The ARN of `role` as a value that references no resource of its stack, when it can be known at
 * synth time: the created role (with its generated name), a `Role` with an explicit `roleName`,
 * or an imported role.
 */
export function portableRoleArn(role: iam.IRole): string | undefined {
  if (role instanceof AssociationRole) {
    return role.portableArn();
  }
  if (iam.Role.isRole(role)) {
    const resource = role.node.defaultChild;
    if (resource instanceof iam.CfnRole && typeof resource.roleName === 'string' && !Token.isUnresolved(resource.roleName) && (resource.path === undefined || !Token.isUnresolved(resource.path))) {
      return roleArn(Stack.of(role), resource.path ?? '/', resource.roleName);
    }
    return undefined;
  }
  return role.roleArn;
}

/** The trust policy of a role of this app, or undefined for an imported role, whose trust cannot be edited here. */
export function trustPolicyOf(role: iam.IRole): iam.PolicyDocument | undefined {
  return iam.Role.isRole(role) ? role.assumeRolePolicy : undefined;
}

/** How a message names a role: its ARN when known, else its construct path. */
export function describeRole(role: iam.IRole): string {
  return Token.isUnresolved(role.roleArn) ? role.node.path : role.roleArn;
}

function roleArn(stack: Stack, path: string, name: string): string {
  return stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${path.slice(1)}${name}` });
}

/** A policy's CloudFormation resource, if it has one. */
function resourceOf(policy: iam.Policy): CfnResource | undefined {
  const resource = policy.node.defaultChild;
  return resource instanceof CfnResource ? resource : undefined;
}
