/**
 * Drives the bundled handler as the Lambda runtime and the Provider framework would: fresh module
 * copies, configuration from the environment, CloudFormation events with the properties the
 * construct writes into the template.
 */
import { createHash, randomUUID } from 'crypto';
import { HANDLER_BUNDLE, requireBundle } from './bundle';
import { ACCOUNT, CfnTemplate, REGION, STACK_ID, STACK_NAME } from './stacks';
import type { LambdaContext, OnEventRequest, OnEventResponse, StackStatusChangeEvent } from '../lambda/event';
import { ASSOCIATION_RESOURCE_TYPE, TRANSFERS_RESOURCE_TYPE } from '../src/private/contract';

/** The handler serves custom-resource requests (a response) and EventBridge stack status changes (nothing). */
export type Handler = (event: OnEventRequest | StackStatusChangeEvent, context?: LambdaContext) => Promise<OnEventResponse | void>;

const SERVICE_TOKEN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${STACK_NAME}-PodIdentityAssociationProviderframeworkonEvent`;

/**
 * A fresh copy of the bundle (its own SDK clients, retry and rate-limiter state), as a new Lambda
 * container would load it.
 */
export function loadHandlerCopy(): Handler {
  requireBundle();
  delete require.cache[HANDLER_BUNDLE];
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle is plain CommonJS, loaded as Lambda loads it
  return (require(HANDLER_BUNDLE) as { handler: Handler }).handler;
}

/** A Lambda context with `remainingMs` left, counted from now. */
export function lambdaContext(remainingMs: number): LambdaContext {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => end - Date.now() };
}

/** The properties and logical id of one association resource, as the template declares them. */
export interface DeclaredResource {
  readonly logicalId: string;
  /** As CloudFormation delivers them: scalars as strings, references resolved, plus the service token. */
  readonly properties: Record<string, unknown>;
}

/**
 * Reads the association resources of a construct template (in template order) and turns their
 * properties into what CloudFormation would deliver: `Fn::GetAtt` of a role becomes a role ARN,
 * booleans and numbers become strings, and the service token is a Lambda ARN. Any other intrinsic
 * is an error, so the benchmark notices when the construct starts writing something new.
 */
export function declaredResources(template: CfnTemplate): DeclaredResource[] {
  const entries = Object.entries(template.Resources).filter(([, r]) => r.Type === ASSOCIATION_RESOURCE_TYPE);
  return entries.map(([logicalId, resource]) => {
    const resolve = (value: unknown, where: string): unknown => {
      if (typeof value === 'boolean' || typeof value === 'number') {
        return String(value);
      }
      if (typeof value === 'string' || value === null) {
        return value;
      }
      if (Array.isArray(value)) {
        return value.map((v, i) => resolve(v, `${where}[${i}]`));
      }
      const object = value as Record<string, unknown>;
      const getAtt = object['Fn::GetAtt'];
      const roleId = Array.isArray(getAtt) && getAtt[1] === 'Arn' ? getAtt[0] as string : undefined;
      const role = roleId === undefined ? undefined : template.Resources[roleId];
      if (role?.Type === 'AWS::IAM::Role') {
        return `arn:aws:iam::${ACCOUNT}:role${typeof role.Properties?.Path === 'string' ? role.Properties.Path : '/'}${roleId}`;
      }
      if (Object.keys(object).some(key => key.startsWith('Fn::') || key === 'Ref')) {
        throw new Error(`${logicalId}.Properties${where} is an intrinsic the benchmark cannot resolve: ${JSON.stringify(object)}`);
      }
      return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v, `${where}.${k}`)]));
    };
    const { ServiceToken: _serviceToken, ...rest } = resource.Properties ?? {};
    return { logicalId, properties: { ServiceToken: SERVICE_TOKEN, ...(resolve(rest, '') as Record<string, unknown>) } };
  });
}

/** The one association resource of a construct template (see `declaredResources`). */
export function declaredResource(template: CfnTemplate): DeclaredResource {
  const all = declaredResources(template);
  if (all.length !== 1) {
    throw new Error(`expected one ${ASSOCIATION_RESOURCE_TYPE} in the template, found ${all.length}`);
  }
  return all[0];
}

function common(logicalId: string) {
  return { RequestId: randomUUID(), StackId: STACK_ID, LogicalResourceId: logicalId, ResourceType: ASSOCIATION_RESOURCE_TYPE };
}

export function createEvent(resource: DeclaredResource): OnEventRequest {
  return { ...common(resource.logicalId), RequestType: 'Create', ResourceProperties: resource.properties };
}

export function updateEvent(physicalResourceId: string, previous: DeclaredResource, next: DeclaredResource): OnEventRequest {
  return {
    ...common(next.logicalId),
    RequestType: 'Update',
    PhysicalResourceId: physicalResourceId,
    ResourceProperties: next.properties,
    OldResourceProperties: previous.properties,
  };
}

export function deleteEvent(physicalResourceId: string, resource: DeclaredResource): OnEventRequest {
  return { ...common(resource.logicalId), RequestType: 'Delete', PhysicalResourceId: physicalResourceId, ResourceProperties: resource.properties };
}

/**
 * A request for the stack's `Custom::EksPodIdentityTransfers` resource; its digest stands for the
 * associations' identities (the handler does not read it: only its changes matter to CloudFormation).
 */
export function transfersEvent(requestType: 'Create' | 'Update' | 'Delete', associations: string[], physicalResourceId?: string): OnEventRequest {
  return {
    RequestId: randomUUID(),
    StackId: STACK_ID,
    LogicalResourceId: 'PodIdentityAssociationProviderTransfers',
    ResourceType: TRANSFERS_RESOURCE_TYPE,
    RequestType: requestType,
    ...(physicalResourceId !== undefined ? { PhysicalResourceId: physicalResourceId } : {}),
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, AssociationsDigest: createHash('sha256').update(associations.join('\n')).digest('hex') },
  };
}

/** What the stack's EventBridge rule delivers when an operation of the stack has completed. */
export function stackOperationEndedEvent(status: string): StackStatusChangeEvent & Record<string, unknown> {
  return {
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'CloudFormation Stack Status Change',
    'source': 'aws.cloudformation',
    'account': ACCOUNT,
    'time': new Date().toISOString(),
    'region': REGION,
    'resources': [STACK_ID],
    'detail': { 'stack-id': STACK_ID, 'status-details': { status } },
  };
}

/** Runs `action` with console.log (the handler's JSON log lines) silenced; returns its result and the lines. */
export async function withHandlerLogs<T>(action: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  };
  try {
    return { result: await action(), lines };
  } finally {
    console.log = original;
  }
}
