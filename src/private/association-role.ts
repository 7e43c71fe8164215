import { CfnResource, Lazy, PhysicalName, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { suppressNagFindings } from './nag';

/**
 * The role an association creates when none is given. Its name is generated only where needed
 * (`PhysicalName.GENERATE_IF_NEEDED`): when CDK references it from another environment, or when a
 * trust policy in another stack or account must name it (`portableArn()`), with the same name in
 * both cases.
 */
export class AssociationRole extends iam.Role {
  private nameRequired = false;
  private policyCreated = false;
  private readonly waitingForGrants: IConstruct[] = [];

  constructor(scope: Construct, id: string, props: iam.RoleProps) {
    super(scope, id, { ...props, roleName: PhysicalName.GENERATE_IF_NEEDED });
    const resource = this.node.defaultChild as iam.CfnRole;
    const nameWhenReferencedAcrossEnvironments = resource.roleName;
    resource.roleName = Lazy.string({
      produce: () => this.nameRequired ? this.generatePhysicalName() : nameWhenReferencedAcrossEnvironments,
    });
  }

  /**
   * Makes `resource` (the association) wait for the role's grants, so that pods never receive
   * credentials without the permissions granted to them. The role's policy appears on the first
   * grant, which may come after the association is defined.
   */
  public grantsBefore(resource: IConstruct): void {
    this.waitingForGrants.push(resource);
    const policy = this.node.tryFindChild('DefaultPolicy');
    if (policy) {
      resource.node.addDependency(policy);
    }
  }

  /** Adds to the role's one policy (created on the first grant), which HIPAA.Security would flag as inline. */
  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const result = super.addToPrincipalPolicy(statement);
    const policy = this.node.tryFindChild('DefaultPolicy');
    if (policy && !this.policyCreated) {
      this.policyCreated = true;
      suppressNagFindings(policy.node.defaultChild as CfnResource, [{
        id: 'HIPAA.Security-IAMNoInlinePolicy',
        reason: 'This policy holds the grants made to one association (grantTargetRole(), grants such as bucket.grantRead(association)) and belongs to its role alone; attach managed policies to association.role if you need them shared.',
      }]);
      for (const resource of this.waitingForGrants) {
        resource.node.addDependency(policy);
      }
    }
    return result;
  }

  /**
   * The role's ARN as a value without a reference to this stack, for a template of another stack;
   * gives the role its generated name. Undefined when the stack's account or region is unknown
   * (a name cannot be generated then).
   */
  public portableArn(): string | undefined {
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) {
      return undefined;
    }
    this.nameRequired = true;
    return roleArn(stack, (this.node.defaultChild as iam.CfnRole).path ?? '/', this.generatePhysicalName());
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
    const resource = role.node.defaultChild as iam.CfnRole;
    if (typeof resource.roleName === 'string' && !Token.isUnresolved(resource.roleName) && (resource.path === undefined || !Token.isUnresolved(resource.path))) {
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
