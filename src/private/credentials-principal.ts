import { Annotations, AspectPriority, Aspects, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Dependable, DependencyGroup, IConstruct, IDependable } from 'constructs';

/** The id of the warning about a grant that cannot reach an imported target role, for `Annotations.acknowledgeWarning()`. */
export const GRANT_NOT_ON_TARGET_ROLE_WARNING = 'cdk-eks-pod-identity:grantNotOnTargetRole';
/** The id of the warning about grants made before a target role of another account was set. */
export const GRANT_BEFORE_TARGET_ROLE_WARNING = 'cdk-eks-pod-identity:grantBeforeTargetRole';

/** A grant made before the association knew whether the pods get a target role's credentials. */
interface PendingGrant {
  readonly statement: iam.PolicyStatement;
  /** What the grant's `policyDependable` stands for: the policy the statement lands in, once it does. */
  readonly dependable: DependencyGroup;
}

/**
 * The principal whose credentials the pods of an association receive: the target role when the
 * association has one, else the association role. Grants to the association (`grantPrincipal`)
 * land on that role:
 *
 * - once a target role is set, on the target role;
 * - before, they wait: a later `grantTargetRole()` sends them to the target role; otherwise they
 *   go to the association role when the app is synthesized;
 * - a target role this app cannot change (imported) gets a warning naming each grant.
 */
export class CredentialsPrincipal implements iam.IPrincipal {
  public readonly assumeRoleAction = 'sts:AssumeRole';
  public readonly grantPrincipal: iam.IPrincipal = this;
  private target?: iam.IRole;
  private readonly pending: PendingGrant[] = [];
  private settled = false;

  /**
   * @param association the association (its path names grants in warnings)
   * @param associationRole the role EKS Pod Identity assumes for the pods
   * @param landed called with the policy of each grant once it is known, so the association can wait for it
   */
  constructor(
    private readonly association: IConstruct,
    private readonly associationRole: iam.IRole,
    private readonly landed: (policy: IDependable, on: iam.IRole) => void,
  ) {
    // Before other aspects, so that those that inspect policies (cdk-nag) see where grants landed.
    Aspects.of(association).add({ visit: node => node === association && this.settle() }, { priority: AspectPriority.MUTATING });
  }

  public get policyFragment(): iam.PrincipalPolicyFragment {
    return this.current.policyFragment;
  }

  public get principalAccount(): string | undefined {
    return this.current.principalAccount;
  }

  public addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    if (this.target || this.settled) {
      return this.land(statement);
    }
    const dependable = new DependencyGroup();
    this.pending.push({ statement, dependable });
    return { statementAdded: true, policyDependable: dependable };
  }

  /** The pods receive `target`'s credentials from now on: the grants made so far go to it. */
  public setTarget(target: iam.IRole): void {
    this.target = target;
    const waiting = this.pending.splice(0);
    for (const { statement, dependable } of waiting) {
      const result = this.land(statement);
      if (result.policyDependable) {
        dependable.add(result.policyDependable);
      }
    }
    const associationAccount = Stack.of(this.association).account;
    const targetAccount = target.env.account;
    if (waiting.length > 0 && (Token.isUnresolved(targetAccount) || Token.isUnresolved(associationAccount) || targetAccount !== associationAccount)) {
      Annotations.of(this.association).addWarningV2(GRANT_BEFORE_TARGET_ROLE_WARNING,
        `${waiting.length} grant(s) to this association were made before its target role ${describe(target)} was set: they now reach the target role's own policies, ` +
        'but a resource policy that CDK wrote for them (for a resource of another account than the principal\'s) names the association role instead. ' +
        'Set `targetRole`, or call `grantTargetRole()` before granting.');
    }
  }

  /** The role whose credentials the pods receive. */
  private get current(): iam.IPrincipal {
    return (this.target ?? this.associationRole).grantPrincipal;
  }

  /** At synthesis: grants still waiting go to the association role, whose credentials the pods receive. */
  private settle(): void {
    if (this.settled) {
      return;
    }
    this.settled = true;
    for (const { statement, dependable } of this.pending.splice(0)) {
      const result = this.land(statement);
      if (result.policyDependable) {
        dependable.add(result.policyDependable);
      }
    }
  }

  private land(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const role = this.target ?? this.associationRole;
    const result = role.grantPrincipal.addToPrincipalPolicy(statement);
    // A Role of this app fills the returned group when it writes its policies, at synthesis. An
    // imported role takes the statement into a Policy of this app only where it can attach one; an
    // immutable one pretends to take it, with a group that stays empty.
    const held = result.statementAdded && result.policyDependable !== undefined &&
      (iam.Role.isRole(role) || Dependable.of(result.policyDependable).dependencyRoots.length > 0);
    if (held) {
      this.landed(result.policyDependable!, role);
    } else if (this.target) {
      const json = statement.toStatementJson();
      Annotations.of(this.association).addWarningV2(GRANT_NOT_ON_TARGET_ROLE_WARNING,
        `The grant of ${JSON.stringify(json.Action)} on ${JSON.stringify(json.Resource ?? json.NotResource ?? '*')} to this association cannot reach its target role ${describe(this.target)}, whose credentials the pods receive: ` +
        'the role is imported, so this app cannot change its policies (a resource policy CDK writes for the grant, where the resource has one, still names it). ' +
        'Grant it in the role\'s own account, or use a target Role of this app (PodIdentityTargetRole).');
    }
    return result;
  }
}

function describe(role: iam.IRole): string {
  return Token.isUnresolved(role.roleArn) ? role.node.path : role.roleArn;
}
