import type { AssociationResponseData } from '../src/private/contract';

/**
 * The request the custom-resource Provider framework passes to its onEvent handler: the
 * CloudFormation custom resource request, without the response URL.
 */
export interface OnEventRequest {
  readonly RequestType: string;
  readonly RequestId: string;
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType: string;
  /** Sent with Update and Delete. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly [key: string]: unknown };
  /** Sent with Update. */
  readonly OldResourceProperties?: { readonly [key: string]: unknown };
}

/** What onEvent returns to the Provider framework, which reports it to CloudFormation. */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: AssociationResponseData;
}

/** The part of the Lambda context the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

/**
 * The event EventBridge delivers when the stack's operation ends (CloudFormation User Guide, "Stack
 * Status Change event detail"): the handler then makes the operation's ownership transfers final.
 */
export interface StackStatusChangeEvent {
  readonly 'source': 'aws.cloudformation';
  readonly 'detail-type': 'CloudFormation Stack Status Change';
  /** When the status changed. */
  readonly 'time': string;
  readonly 'detail': {
    readonly 'stack-id': string;
    readonly 'status-details': { readonly status: string };
  };
}
