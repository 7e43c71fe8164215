import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import { EksAddons } from './addons';
import { AgentLifecycle } from './agent';
import { AgentRecords } from './agent-records';
import { Calls } from './calls';
import { Deadline } from './deadline';
import { EksAssociations } from './eks';
import type { LambdaContext, OnEventRequest, OnEventResponse, StackStatusChangeEvent } from './event';
import { HandoverLifecycle } from './handover';
import { AssociationLifecycle } from './lifecycle';
import { Log, jsonLog } from './log';
import { stackUuidOf } from './owner';
import { Ownership } from './ownership';
import { Retrier } from './retry';
import { TransferSettlement } from './settlement';
import { StackState } from './stack';
import { TransferStore } from './transfers';
import { AGENT_ADDON_NAME, AGENT_RESOURCE_TYPE, ASSOCIATION_RESOURCE_TYPE, HANDOVER_RESOURCE_TYPE, TRANSFERS_RESOURCE_TYPE } from '../src/private/contract';

/**
 * SDK attempts per call, with adaptive backoff for throttling and server errors; the handler then
 * retries with longer waits for as long as the deadline allows (lambda/retry.ts).
 */
const MAX_ATTEMPTS = 3;
const CONNECTION_TIMEOUT_MS = 3_000;

/**
 * The clients of a warm container, each created on first use (most requests call EKS only); region,
 * credentials and endpoints come from the standard configuration chain (AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL).
 */
const CLIENT_CONFIG = {
  retryMode: 'adaptive',
  maxAttempts: MAX_ATTEMPTS,
  requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, throwOnRequestTimeout: true },
};
const clients = {
  eks: lazily(() => new EKSClient(CLIENT_CONFIG)),
  ssm: lazily(() => new SSMClient(CLIENT_CONFIG)),
  cloudformation: lazily(() => new CloudFormationClient(CLIENT_CONFIG)),
};

function lazily<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}

/**
 * The onEvent handler of the custom-resource Provider framework for `Custom::EksPodIdentityAssociation`
 * and `Custom::EksPodIdentityTransfers`: returns the physical id and data, or throws an error whose
 * message CloudFormation shows. Also the target of the EventBridge rule that tells when an operation
 * of the stack has ended.
 */
export async function handler(event: OnEventRequest | StackStatusChangeEvent, context?: LambdaContext): Promise<OnEventResponse | void> {
  const deadline = Deadline.fromContext(context);
  const log: Log = jsonLog;
  const stackId = isStackStatusChange(event) ? event.detail['stack-id'] : event.StackId;
  const calls = new Calls(deadline, new Retrier(deadline, log), log);
  const associations = new EksAssociations(clients.eks, calls);
  const transfers = TransferStore.ofStack(clients.ssm, calls, stackUuidOf(stackId));
  const stack = new StackState(clients.cloudformation, calls, stackId);
  const ownership = new Ownership(associations, transfers, stack, log);
  const agentRecords = AgentRecords.ofStack(clients.ssm, calls, stackUuidOf(stackId));
  const agents = {
    lifecycle: new AgentLifecycle(clusterName => new EksAddons(clients.eks, calls, clusterName, AGENT_ADDON_NAME), agentRecords, stack, log),
    records: agentRecords,
  };
  const handover = new HandoverLifecycle(associations, transfers, stack, log);
  const settlement = new TransferSettlement(ownership, transfers, log, agents, { handover, stack });
  if (isStackStatusChange(event)) {
    log('stack-operation-ended', { stackId, status: event.detail['status-details'].status, remainingMs: deadline.remainingMs() });
    return settlement.onStackOperationEnded(event);
  }
  log('request', {
    requestType: event.RequestType,
    resourceType: event.ResourceType,
    logicalResourceId: event.LogicalResourceId,
    physicalResourceId: event.PhysicalResourceId,
    remainingMs: deadline.remainingMs(),
  });
  try {
    switch (event.ResourceType) {
      case ASSOCIATION_RESOURCE_TYPE:
        return await new AssociationLifecycle(associations, ownership, log).onEvent(event);
      case TRANSFERS_RESOURCE_TYPE:
        return await settlement.onEvent(event);
      case AGENT_RESOURCE_TYPE:
        return await agents.lifecycle.onEvent(event);
      case HANDOVER_RESOURCE_TYPE:
        return await handover.onEvent(event);
      default:
        throw new Error(`Unknown ResourceType ${JSON.stringify(event.ResourceType)}: this handler serves ${ASSOCIATION_RESOURCE_TYPE}, ${AGENT_RESOURCE_TYPE}, ${HANDOVER_RESOURCE_TYPE} and ${TRANSFERS_RESOURCE_TYPE}. Nothing was changed.`);
    }
  } catch (error) {
    log('failed', { error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}

function isStackStatusChange(event: OnEventRequest | StackStatusChangeEvent): event is StackStatusChangeEvent {
  return (event as StackStatusChangeEvent).source === 'aws.cloudformation';
}
