import { EKSClient } from '@aws-sdk/client-eks';
import { Deadline } from './deadline';
import type { LambdaContext, OnEventRequest, OnEventResponse } from './event';
import { AssociationLifecycle } from './lifecycle';
import { jsonLog } from './log';

/**
 * SDK attempts per call, with adaptive backoff for throttling and server errors; the handler then
 * retries with longer waits for as long as the deadline allows (lambda/retry.ts).
 */
const MAX_ATTEMPTS = 3;
const CONNECTION_TIMEOUT_MS = 3_000;

let eks: EKSClient | undefined;

/**
 * The onEvent handler of the custom-resource Provider framework for
 * `Custom::EksPodIdentityAssociation`: returns the physical id and data, or throws an error whose
 * message CloudFormation shows.
 */
export async function handler(event: OnEventRequest, context?: LambdaContext): Promise<OnEventResponse> {
  // Created on first use and kept for the warm container; region, credentials and endpoint
  // (AWS_ENDPOINT_URL_EKS) come from the standard configuration chain.
  eks ??= new EKSClient({
    retryMode: 'adaptive',
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, throwOnRequestTimeout: true },
  });
  try {
    return await new AssociationLifecycle(eks, Deadline.fromContext(context), jsonLog).onEvent(event);
  } catch (error) {
    jsonLog('failed', { error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}
