export * from './pod-identity-association';
export * from './pod-identity-agent';
export * from './session-tags';
export * from './target-role';
export * from './provider';
export * from './addons';
export * from './permissions';
