/**
 * Drives the bundled handler as the Lambda runtime and the Provider framework would: fresh module
 * copies, configuration from the environment, CloudFormation events with the properties the
 * construct writes into the template.
 */
import { randomUUID } from 'crypto';
import { HANDLER_BUNDLE, requireBundle } from './bundle';
import { ACCOUNT, CfnTemplate, REGION, STACK_NAME } from './stacks';
import type { LambdaContext, OnEventRequest, OnEventResponse } from '../lambda/event';
import { ASSOCIATION_RESOURCE_TYPE } from '../src/private/contract';

export type Handler = (event: OnEventRequest, context?: LambdaContext) => Promise<OnEventResponse>;

export const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK_NAME}/2f0e6b50-8c3a-11ef-9f6b-0a1b2c3d4e5f`;
const SERVICE_TOKEN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${STACK_NAME}-PodIdentityAssociationProviderframeworkonEvent`;

/** Points every SDK client created from now on at `endpointUrl`, with dummy credentials. */
export function configureEnvironment(endpointUrl: string): void {
  process.env.AWS_ENDPOINT_URL_EKS = endpointUrl;
  process.env.AWS_REGION = REGION;
  process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCALBENCH';
  process.env.AWS_SECRET_ACCESS_KEY = 'local-bench-secret';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  // Each bundle copy would warn once that this Node.js is older than the SDK's next minimum; the
  // Lambda runtime (nodejs24.x) never sees it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}

/**
 * A fresh copy of the bundle (its own SDK client, retry and rate-limiter state), as a new Lambda
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
      if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && template.Resources[getAtt[0] as string]?.Type === 'AWS::IAM::Role') {
        return `arn:aws:iam::${ACCOUNT}:role/${getAtt[0] as string}`;
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
