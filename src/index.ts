export * from './pod-identity-association';
