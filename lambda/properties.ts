import { AssociationResourceProperties, OWNER_TAG_KEY, PROPERTY } from '../src/private/contract';

/** The association a template declares, parsed and checked. */
export interface DeclaredAssociation {
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
  readonly targetRoleArn?: string;
  readonly disableSessionTags: boolean;
  readonly policy?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Take over an association for the same service account that another owner created. */
  readonly adoptExisting: boolean;
  /** The external id the generated target-role trust requires, if the construct generated one. */
  readonly expectedExternalId?: string;
}

/**
 * Properties CloudFormation delivers besides the construct's: the service token, and the custom
 * resource's timeout (AWS::CloudFormation::CustomResource, ServiceTimeout).
 */
const FRAMEWORK_PROPERTIES = new Set(['ServiceToken', 'ServiceTimeout']);
const KNOWN_PROPERTIES = new Set<string>([...Object.values(PROPERTY), ...FRAMEWORK_PROPERTIES]);

/**
 * Properties this version of the handler does not know: written by a newer or an older version of
 * the construct (a rollback across an upgrade delivers them), or added by CloudFormation. They are
 * ignored, so such a request, and the rollback it may belong to, still succeeds.
 */
export function unknownPropertiesOf(raw: unknown): string[] {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? Object.keys(raw).filter(key => !KNOWN_PROPERTIES.has(key)) : [];
}

/**
 * Parses the resource properties of a request into the declared association, or throws an error
 * that names the property, what it received and what it expects. Properties it does not know are
 * ignored (`unknownPropertiesOf`).
 *
 * @param which the event field the properties came from, for messages
 */
export function parseDeclaredAssociation(raw: unknown, which: 'ResourceProperties' | 'OldResourceProperties'): DeclaredAssociation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidPropertiesError(which, `expected an object, got: ${describe(raw)}`);
  }
  const props = raw as Record<string, unknown>;

  const required = (name: keyof AssociationResourceProperties): string => {
    const value = props[name];
    if (typeof value !== 'string' || value.length === 0) {
      throw new InvalidPropertiesError(which, `${name} must be a non-empty string, got: ${describe(value)}`);
    }
    return value;
  };
  const optional = (name: keyof AssociationResourceProperties): string | undefined => {
    const value = props[name];
    if (value === undefined || value === '') {
      return undefined;
    }
    if (typeof value !== 'string') {
      throw new InvalidPropertiesError(which, `${name} must be a string, got: ${describe(value)}`);
    }
    return value;
  };

  const disableSessionTags = parseBoolean(props, PROPERTY.disableSessionTags, which);
  const policy = optional(PROPERTY.policy);
  if (policy !== undefined) {
    try {
      JSON.parse(policy);
    } catch {
      throw new InvalidPropertiesError(which, `${PROPERTY.policy} must be a JSON policy document, got ${policy.length} characters that do not parse as JSON`);
    }
  }

  return {
    clusterName: required(PROPERTY.clusterName),
    namespace: required(PROPERTY.namespace),
    serviceAccount: required(PROPERTY.serviceAccount),
    roleArn: required(PROPERTY.roleArn),
    targetRoleArn: optional(PROPERTY.targetRoleArn),
    disableSessionTags,
    policy,
    tags: parseTags(props[PROPERTY.tags], which),
    adoptExisting: parseBoolean(props, PROPERTY.adoptExisting, which),
    expectedExternalId: optional(PROPERTY.expectedExternalId),
  };
}

function parseBoolean(props: Record<string, unknown>, name: keyof AssociationResourceProperties, which: string): boolean {
  const value = props[name];
  // CloudFormation delivers booleans of custom resources as strings
  switch (value) {
    case undefined:
    case false:
    case 'false':
      return false;
    case true:
    case 'true':
      return true;
    default:
      throw new InvalidPropertiesError(which, `${name} must be true or false, got: ${describe(value)}`);
  }
}

function parseTags(value: unknown, which: string): Record<string, string> {
  if (value === undefined) {
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidPropertiesError(which, `${PROPERTY.tags} must be an object of string values, got: ${describe(value)}`);
  }
  const tags: Record<string, string> = {};
  for (const [key, tagValue] of Object.entries(value)) {
    if (key === OWNER_TAG_KEY) {
      throw new InvalidPropertiesError(which, `${PROPERTY.tags} must not use the key ${OWNER_TAG_KEY}, which marks the association's owner`);
    }
    if (typeof tagValue !== 'string') {
      throw new InvalidPropertiesError(which, `${PROPERTY.tags} values must be strings, got: ${describe(tagValue)} for key ${JSON.stringify(key)}`);
    }
    tags[key] = tagValue;
  }
  return tags;
}

function describe(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

/** The request carries properties this handler cannot act on; nothing was sent to AWS. */
export class InvalidPropertiesError extends Error {
  constructor(which: string, problem: string) {
    super(
      `Invalid ${which} for Custom::EksPodIdentityAssociation: ${problem}. Nothing was sent to EKS. ` +
      'These properties are written by the PodIdentityAssociation construct; if the template was edited by hand, restore what the construct synthesizes.',
    );
    this.name = 'InvalidPropertiesError';
  }
}
