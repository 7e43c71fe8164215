/**
 * How an add-on role reaches the `PodIdentityAssociations` of an add-on (`AWS::EKS::Addon`): the
 * one place where a role is attached to an add-on resource, whichever way the app asks for it
 * (`AddonRole.attachToAddon()` with an L2 `Addon` or a `CfnAddon`, or the role's entry given to a
 * `CfnAddon` directly).
 */
import { AspectPriority, Aspects, CfnResource, IResolvable, Stack, Token } from 'aws-cdk-lib';
import { CfnAddon } from 'aws-cdk-lib/aws-eks';
import { IConstruct } from 'constructs';
import { isOlderAddonVersion } from './addon-catalog';
import { errorAt } from './errors';

/** The CloudFormation type of an EKS add-on. */
export const ADDON_RESOURCE_TYPE = 'AWS::EKS::Addon';

/** What the attachment needs of an add-on role. */
export interface AttachableAddonRole extends IConstruct {
  readonly addonName: string;
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The entry of the role in an add-on's `PodIdentityAssociations`: one object per role, always the same. */
  readonly _podIdentityAssociationEntry: CfnAddon.PodIdentityAssociationProperty;
  /** The oldest add-on version the role works with, if known. */
  readonly _minimumAddonVersion?: string;
  /** The namespace the add-on installs into when its `namespaceConfig` names none, if known. */
  readonly _defaultAddonNamespace?: string;
  /** Makes `resource` wait for the role and every policy it has, or will have. */
  _dependBeforeAddon(resource: CfnResource): void;
}

/** The add-on roles attached to one add-on resource, in the order they were attached. */
const rolesByAddon = new WeakMap<CfnResource, AttachableAddonRole[]>();
/** The add-on resources of each role. */
const addonsByRole = new WeakMap<AttachableAddonRole, CfnResource[]>();
/** The role of each entry object handed out by `podIdentityAssociation()`. */
const roleOfEntry = new WeakMap<object, AttachableAddonRole>();
/** The apps whose add-on resources are merged once complete. */
const watchedApps = new WeakSet<IConstruct>();

/** Whether `construct` is an `AWS::EKS::Addon` resource (of any copy of aws-cdk-lib). */
export function isAddonResource(construct: IConstruct): construct is CfnResource {
  return CfnResource.isCfnResource(construct) && construct.cfnResourceType === ADDON_RESOURCE_TYPE;
}

/**
 * The `AWS::EKS::Addon` resource of `addon`: a `CfnAddon`, or the L1 child of an aws-eks or
 * aws-eks-v2 `Addon` (its `node.defaultChild`). Throws for anything else, naming it.
 */
export function addonResourceOf(addon: IConstruct, by: IConstruct): CfnResource {
  if (isAddonResource(addon)) {
    return addon;
  }
  const child = addon.node.defaultChild;
  if (child && isAddonResource(child)) {
    return child;
  }
  throw errorAt(by,
    `\`attachToAddon()\` takes an aws-eks or aws-eks-v2 \`Addon\` of this app, or a \`CfnAddon\`, got: ${addon.node.path}, which holds no AWS::EKS::Addon resource. ` +
    'An imported add-on (`Addon.fromAddonArn()`, `fromAddonAttributes()`) cannot be changed from this app: declare the add-on here, or set its Pod Identity associations where it is declared (`podIdentityAssociation()` gives the entry).',
  );
}

/** Registers the entry object of `role`, so that an add-on resource given it directly finds its role. */
export function registerEntry(role: AttachableAddonRole): void {
  roleOfEntry.set(role._podIdentityAssociationEntry, role);
  watchApp(role);
}

/**
 * Once the app is complete, before the aspects that only look: each add-on resource gets the
 * entries of the roles given to it directly (`podIdentityAssociation()` in a `CfnAddon`'s props),
 * attached as by `attachToAddon()`; and the entries of its roles are merged again with those the
 * app set after attaching them (or the L2 `Addon` in its constructor).
 */
function watchApp(scope: IConstruct): void {
  const app = scope.node.root;
  if (watchedApps.has(app)) {
    return;
  }
  watchedApps.add(app);
  Aspects.of(app).add({
    visit: node => {
      if (!isAddonResource(node)) {
        return;
      }
      for (const entry of entriesOf(node)) {
        const owner = roleOfEntry.get(entry as object);
        if (owner) {
          attachAddonRole(node, owner);
        }
      }
      if (rolesByAddon.has(node)) {
        writeEntries(node);
      }
    },
  }, { priority: AspectPriority.MUTATING });
}

/**
 * Attaches `role` to the add-on resource `addon`: its entry joins the add-on's
 * `PodIdentityAssociations`, after the entries already there (which are kept), and the add-on
 * waits for the role and its policies. Attaching twice is attaching once.
 *
 * This is the one place where the app's add-on roles reach add-on resources: what the add-on must
 * wait for is added here.
 */
export function attachAddonRole(addon: CfnResource, role: AttachableAddonRole): void {
  roleOfEntry.set(role._podIdentityAssociationEntry, role);
  watchApp(addon);
  const roles = rolesByAddon.get(addon) ?? [];
  rolesByAddon.set(addon, roles);
  if (!roles.includes(role)) {
    roles.push(role);
    addonsByRole.set(role, [...addonsByRole.get(role) ?? [], addon]);
    role._dependBeforeAddon(addon);
  }
  writeEntries(addon);
}

/** The add-on resources `role` is attached to. */
export function addonResourcesOf(role: AttachableAddonRole): readonly CfnResource[] {
  return [...addonsByRole.get(role) ?? []];
}

/** The add-on roles attached to the add-on resource `addon`. */
export function addonRolesOf(addon: CfnResource): readonly AttachableAddonRole[] {
  return [...rolesByAddon.get(addon) ?? []];
}

/**
 * Problems of `role` on the add-on resources it is attached to, each as a message (for a
 * validation): another add-on or cluster, a namespace the role does not trust, a version too old,
 * a second entry for its service account. Values that are tokens are not judged.
 */
export function attachmentProblems(role: AttachableAddonRole): string[] {
  const problems: string[] = [];
  for (const addon of addonResourcesOf(role)) {
    const resource = addon as CfnAddon;
    const stack = Stack.of(addon);
    const where = `add-on ${addon.node.path}`;
    const known = (value: unknown): value is string => typeof value === 'string' && !Token.isUnresolved(value);
    if (known(resource.addonName) && resource.addonName !== role.addonName) {
      problems.push(`This role is for the ${role.addonName} add-on, but it is attached to ${where}, whose addonName is ${JSON.stringify(resource.addonName)}. Attach it to the ${role.addonName} add-on, or create the role for ${resource.addonName}.`);
      continue;
    }
    if (known(resource.clusterName) && known(role.clusterName) && resource.clusterName !== role.clusterName) {
      problems.push(`This role trusts the pods of cluster ${JSON.stringify(role.clusterName)}, but ${where} is on cluster ${JSON.stringify(resource.clusterName)}. Create the role with the add-on's cluster.`);
    }
    const configured = stack.resolve(resource.namespaceConfig);
    const addonNamespace = configured && typeof configured === 'object' && 'namespace' in configured ? configured.namespace : role._defaultAddonNamespace;
    if (known(addonNamespace) && known(role.namespace) && addonNamespace !== role.namespace) {
      problems.push(`This role trusts service account ${role.namespace}/${role.serviceAccount}, but ${where} installs into namespace ${JSON.stringify(addonNamespace)}${configured ? ' (its namespaceConfig)' : ''}. ` +
        `Pass \`namespace: ${JSON.stringify(addonNamespace)}\` when creating the role${configured ? '' : ', or set the add-on\'s namespaceConfig to the role\'s namespace'}.`);
    }
    const version = resource.addonVersion;
    if (role._minimumAddonVersion && known(version) && isOlderAddonVersion(version, role._minimumAddonVersion)) {
      problems.push(`${where} has addonVersion ${JSON.stringify(version)}, older than ${role._minimumAddonVersion}, the first version of ${role.addonName} that takes a Pod Identity association for ${role.serviceAccount}; EKS would refuse it. ` +
        `Use ${role._minimumAddonVersion} or later, or leave addonVersion out for the latest.`);
    }
    // The app's own entries; another add-on role for the same service account is the registry's to report.
    for (const entry of entriesOf(addon).filter(e => !roleOfEntry.has(e as object))) {
      const resolved = stack.resolve(entry) as Record<string, unknown> | undefined;
      if ((resolved?.serviceAccount ?? resolved?.ServiceAccount) === role.serviceAccount) {
        problems.push(`${where} already has a Pod Identity association entry for service account ${JSON.stringify(role.serviceAccount)} (role ${JSON.stringify(resolved?.roleArn ?? resolved?.RoleArn)}), and EKS takes one role per service account. ` +
          'Remove that entry from the add-on\'s podIdentityAssociations, or do not attach this role.');
      }
    }
  }
  return problems;
}

/** The add-on's entries, as an array; throws when the whole list is a token (it cannot be merged). */
function entriesOf(addon: CfnResource): unknown[] {
  const current = (addon as CfnAddon).podIdentityAssociations as unknown;
  if (current === undefined) {
    return [];
  }
  if (!Array.isArray(current)) {
    const roles = rolesByAddon.get(addon) ?? [];
    throw errorAt(addon,
      `\`podIdentityAssociations\` is a token (${JSON.stringify(Stack.of(addon).resolve(current))}), so the entries of add-on role(s) ${roles.map(r => r.node.path).join(', ') || '(none yet)'} cannot be added to it. ` +
      'Give the entries as an array (each entry may be a token).',
    );
  }
  return current;
}

/** Writes the add-on's entries: those of the app, then the attached roles', each once. */
function writeEntries(addon: CfnResource): void {
  const current = entriesOf(addon);
  const roles = rolesByAddon.get(addon) ?? [];
  const own = new Set<unknown>(roles.map(role => role._podIdentityAssociationEntry));
  const entries = [...current.filter(entry => !own.has(entry)), ...roles.map(role => role._podIdentityAssociationEntry)];
  (addon as CfnAddon).podIdentityAssociations = entries as Array<IResolvable | CfnAddon.PodIdentityAssociationProperty>;
}
