/**
 * The two stacks the benchmark compares, built the same way in the timing children and in the
 * parent (which reads their templates).
 *
 * - `construct`: N `PodIdentityAssociation`s with their default (created) role.
 * - `baseline`: what a user writes by hand instead: per association an `iam.Role` with the trust
 *   the construct gives its default role (`pods.eks.amazonaws.com` for `sts:AssumeRole` +
 *   `sts:TagSession`, conditioned on the association's `aws:RequestTag/eks-cluster-arn`,
 *   `kubernetes-namespace` and `kubernetes-service-account`, as the EKS User Guide documents) and a
 *   `CfnPodIdentityAssociation` with clusterName, namespace, serviceAccount, roleArn. run.ts checks
 *   that both roles' trust policies are identical and warns when the construct's changes.
 *
 * Both live in a stack with a fixed environment, on the same imported `aws-eks-v2` cluster, and
 * use the same construct ids (`Assoc0000/Role`, `Assoc0000/Resource`), so the logical ids have
 * the same length and only what each variant writes differs.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { CfnPodIdentityAssociation } from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PodIdentityAssociation } from '../src';

export type Variant = 'construct' | 'baseline';
export const VARIANTS: readonly Variant[] = ['construct', 'baseline'];

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const STACK_NAME = 'Bench';
export const CLUSTER_NAME = 'prod';
/** The unique part of the stack id CloudFormation gives the stack (any UUID: the handler reads it, the policies name it). */
export const STACK_UUID = '2f0e6b50-8c3a-11ef-9f6b-0a1b2c3d4e5f';
/** `AWS::StackId` of the deployed stack, as CloudFormation would resolve it. */
export const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK_NAME}/${STACK_UUID}`;
export const PODS_SERVICE_PRINCIPAL = 'pods.eks.amazonaws.com';

/**
 * The context `cdk synth` / `cdk deploy` set by default (--path-metadata, --asset-metadata,
 * --version-reporting), so the templates are the ones the CLI uploads.
 */
export const CLI_DEFAULT_CONTEXT: Record<string, boolean> = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:version-reporting': true,
};

/** Builds one stack's associations into `stack`. */
export type AssociationsBuilder = (stack: Stack, cluster: eksv2.ICluster, count: number) => void;

/** The id of association `i`; every variant uses it, so logical ids have equal lengths. */
export function associationId(i: number): string {
  return `Assoc${String(i).padStart(4, '0')}`;
}

/** The namespace of association `i` (service accounts are all `app`). */
export function associationNamespace(i: number): string {
  return `team-${String(i).padStart(4, '0')}`;
}

/**
 * The builder of a variant. Both variants' modules are loaded with this file, so a timed run
 * measures build + synth only, never module loading.
 */
export function variantBuilder(variant: Variant): AssociationsBuilder {
  if (variant === 'construct') {
    return (stack, cluster, count) => {
      for (let i = 0; i < count; i++) {
        new PodIdentityAssociation(stack, associationId(i), { cluster, namespace: associationNamespace(i), serviceAccount: 'app' });
      }
    };
  }
  return (stack, cluster, count) => {
    for (let i = 0; i < count; i++) {
      const scope = new Construct(stack, associationId(i));
      const namespace = associationNamespace(i);
      // The construct's default trust: pods.eks.amazonaws.com for sts:AssumeRole + sts:TagSession,
      // only with this association's cluster, namespace and service account session tags.
      const role = new iam.Role(scope, 'Role', {
        assumedBy: new iam.ServicePrincipal(PODS_SERVICE_PRINCIPAL).withSessionTags().withConditions({
          StringEquals: {
            'aws:RequestTag/eks-cluster-arn': cluster.clusterArn,
            'aws:RequestTag/kubernetes-namespace': namespace,
            'aws:RequestTag/kubernetes-service-account': 'app',
          },
        }),
      });
      new CfnPodIdentityAssociation(scope, 'Resource', {
        clusterName: cluster.clusterName,
        namespace,
        serviceAccount: 'app',
        roleArn: role.roleArn,
      });
    }
  };
}

/**
 * Not a timed variant: N `PodIdentityAssociation`s, each given its own role (`role:`, an `iam.Role`
 * of the same stack), to measure what roles given as `role` add to the handler's policies (one
 * `AWS::IAM::Policy` per role).
 */
export function givenRolesBuilder(): AssociationsBuilder {
  return (stack, cluster, count) => {
    for (let i = 0; i < count; i++) {
      const scope = new Construct(stack, `Given${String(i).padStart(4, '0')}`);
      const role = new iam.Role(scope, 'Role', { assumedBy: new iam.ServicePrincipal(PODS_SERVICE_PRINCIPAL) });
      new PodIdentityAssociation(stack, associationId(i), { cluster, namespace: associationNamespace(i), serviceAccount: 'app', role });
    }
  };
}

/** Timings of one build + synth, in milliseconds. */
export interface SynthTiming {
  /** `new App` through the last association. */
  readonly buildMs: number;
  /** `app.synth()`, which includes staging the handler asset into the output directory. */
  readonly synthMs: number;
}

export interface SynthResult extends SynthTiming {
  readonly template: CfnTemplate;
}

/** A CloudFormation template, as far as the benchmark reads it. */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResourceJson>;
  readonly [section: string]: unknown;
}

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/**
 * Builds a stack of `count` associations in a fresh App whose output directory is a new temporary
 * directory (removed afterwards), synthesizes it and returns the timings and the template.
 */
export function buildAndSynth(builder: AssociationsBuilder, count: number): SynthResult {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-eks-pod-identity-bench-'));
  try {
    const t0 = performance.now();
    const app = new App({ outdir, context: CLI_DEFAULT_CONTEXT });
    const stack = new Stack(app, STACK_NAME, { env: { account: ACCOUNT, region: REGION } });
    const cluster = eksv2.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: CLUSTER_NAME });
    builder(stack, cluster, count);
    const t1 = performance.now();
    const assembly = app.synth();
    const t2 = performance.now();
    const template = assembly.getStackByName(STACK_NAME).template as CfnTemplate;
    return { buildMs: t1 - t0, synthMs: t2 - t1, template };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
