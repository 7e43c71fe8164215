export * from './pod-identity-association';
export * from './session-tags';
export * from './target-role';
export * from './provider';
