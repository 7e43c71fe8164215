import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { ControllerPermissions } from './controller-permissions';
import { CREDENTIALS_ACCOUNT, ControllerStatement, ErrorScope, URL_SUFFIX, arn, keyStatement, known, nonEmpty, secretArnOf } from './private/statements';
import { errorAt } from '../private/errors';

/**
 * Properties of `ExternalSecretsPermissions`. Name at least one secret, secret name prefix,
 * parameter or parameter path.
 */
export interface ExternalSecretsPermissionsProps {
  /**
   * Secrets Manager secrets that `ExternalSecret` resources read.
   *
   * @default - none
   */
  readonly secrets?: secretsmanager.ISecret[];

  /**
   * Prefixes of the names of the Secrets Manager secrets that External Secrets may read, in the
   * account of the credentials, in any region, e.g. `platform/` for every secret whose name starts
   * with `platform/`. Each is a wildcard you choose (`secret:platform/*`): cdk-nag reports it.
   *
   * @default - none
   */
  readonly secretNamePrefixes?: string[];

  /**
   * Parameter Store parameters that `ExternalSecret` resources read.
   *
   * @default - none
   */
  readonly parameters?: ssm.IParameter[];

  /**
   * Parameter Store hierarchies (paths starting with `/`, e.g. `/platform/`) whose parameters
   * External Secrets may read, in the account of the credentials, in any region, one by one or by
   * path (`GetParametersByPath`). Each is a wildcard you choose (`parameter/platform/*`): cdk-nag
   * reports it.
   *
   * @default - none
   */
  readonly parameterPaths?: string[];

  /**
   * The customer managed KMS keys that encrypt those secrets and SecureString parameters:
   * `kms:Decrypt`, only through Secrets Manager and Parameter Store (`kms:ViaService`).
   *
   * @default - none: secrets and parameters encrypted with the AWS managed keys, which need no permission
   */
  readonly encryptionKeys?: kms.IKey[];
}

/** What Secrets Manager allows in a secret name: letters, digits and `/_+=.@-` (Secrets Manager API reference, CreateSecret). */
const SECRET_NAME_PREFIX = /^[\w/+=.@-]{1,512}$/;
/** A Parameter Store hierarchy: `/`, then names of letters, digits and `_.-/` (Systems Manager API reference, PutParameter). */
const PARAMETER_PATH = /^\/[\w./-]{0,1010}$/;

/**
 * The permissions of External Secrets Operator's AWS providers (Secrets Manager and Parameter
 * Store), read-only.
 *
 * Follows external-secrets/external-secrets `docs/provider/aws-secrets-manager.md` and
 * `docs/provider/aws-parameter-store.md` at v2.9.0, and the calls of
 * `providers/v1/aws/secretsmanager` and `providers/v1/aws/parameterstore` there, on the secrets,
 * prefixes, parameters and paths you name: `secretsmanager:GetSecretValue`, `DescribeSecret`,
 * `GetResourcePolicy` and `ListSecretVersionIds`; `ssm:GetParameter`, `GetParameters`,
 * `GetParametersByPath` (upstream's `ssm:GetParameter*`) and `ListTagsForResource` (read for
 * `metadataPolicy: Fetch`). `secretsmanager:ListSecrets`, `secretsmanager:BatchGetSecretValue`
 * and `ssm:DescribeParameters` are on `*`, as upstream: they take no resource, and serve
 * `dataFrom.find` (BatchGetSecretValue returns only the secrets GetSecretValue allows). KMS keys
 * only as you name them, where the terraform-aws-modules policy defaults to every key. PushSecret
 * (writing secrets) is not covered. Namespace and service account `external-secrets`: the chart
 * `deploy/charts/external-secrets` at v2.9.0, release `external-secrets`, as the documentation
 * installs it.
 */
export class ExternalSecretsPermissions extends ControllerPermissions {
  private readonly props: ExternalSecretsPermissionsProps;

  public constructor(props: ExternalSecretsPermissionsProps) {
    super({
      controllerName: 'External Secrets Operator',
      defaultNamespace: 'external-secrets',
      defaultServiceAccount: 'external-secrets',
      upstream: { source: 'external-secrets/external-secrets docs/provider/aws-secrets-manager.md, aws-parameter-store.md', version: 'v2.9.0' },
    });
    this.props = props;
  }

  /** @internal */
  protected _statements(where: ErrorScope): ControllerStatement[] {
    const { secrets, secretNamePrefixes, parameters, parameterPaths, encryptionKeys } = this.props;
    const name = 'ExternalSecretsPermissions';
    if (!secrets && !secretNamePrefixes && !parameters && !parameterPaths) {
      throw errorAt(where,
        `${name}: name what External Secrets may read, got: none of \`secrets\`, \`secretNamePrefixes\`, \`parameters\`, \`parameterPaths\`. ` +
        'Pass the secrets or parameters, or a name prefix (`secretNamePrefixes: [\'platform/\']`) or path (`parameterPaths: [\'/platform/\']`) to read a group of them.');
    }
    for (const [prop, list] of [['secrets', secrets], ['secretNamePrefixes', secretNamePrefixes], ['parameters', parameters], ['parameterPaths', parameterPaths], ['encryptionKeys', encryptionKeys]] as const) {
      if (list) {
        nonEmpty(where, name, prop, list, prop === 'encryptionKeys' ? 'KMS keys' : 'secrets or parameters', `or leave \`${prop}\` out`);
      }
    }
    for (const prefix of (secretNamePrefixes ?? []).filter(known)) {
      if (!SECRET_NAME_PREFIX.test(prefix)) {
        throw errorAt(where,
          `${name}: each of \`secretNamePrefixes\` must be the start of a secret name (1 to 512 letters, digits and /_+=.@-, no wildcard), got: ${JSON.stringify(prefix)}. ` +
          'Give the prefix the names share, e.g. \'platform/\'.');
      }
    }
    for (const path of (parameterPaths ?? []).filter(known)) {
      if (!PARAMETER_PATH.test(path)) {
        throw errorAt(where,
          `${name}: each of \`parameterPaths\` must be a Parameter Store hierarchy (starting with '/', letters, digits and _.-/, no wildcard), got: ${JSON.stringify(path)}. ` +
          'Give the path the parameters share, e.g. \'/platform/\'.');
      }
    }

    const statements: ControllerStatement[] = [];
    if (secrets || secretNamePrefixes) {
      statements.push(
        {
          actions: ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'],
          resources: ['*'],
          wildcardReason: 'ListSecrets and BatchGetSecretValue take no resource (dataFrom.find); BatchGetSecretValue returns only the secrets GetSecretValue allows.',
        },
        {
          actions: ['secretsmanager:GetResourcePolicy', 'secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds'],
          resources: [
            ...(secrets ?? []).map(secretArnOf),
            ...(secretNamePrefixes ?? []).map(prefix => arn('secretsmanager', '*', CREDENTIALS_ACCOUNT, `secret:${prefix}*`)),
          ],
        },
      );
    }
    if (parameters || parameterPaths) {
      statements.push(
        {
          actions: ['ssm:DescribeParameters'],
          resources: ['*'],
          wildcardReason: 'ssm:DescribeParameters takes no resource (dataFrom.find by name or tags).',
        },
        {
          actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:ListTagsForResource'],
          resources: [
            ...(parameters ?? []).map(parameter => parameter.parameterArn),
            ...(parameterPaths ?? []).flatMap(path => {
              const trimmed = path.replace(/\/+$/, '');
              // The path itself, for GetParametersByPath, and every parameter below it.
              return [...trimmed ? [arn('ssm', '*', CREDENTIALS_ACCOUNT, `parameter${trimmed}`)] : [], arn('ssm', '*', CREDENTIALS_ACCOUNT, `parameter${trimmed}/*`)];
            }),
          ],
        },
      );
    }
    const [decrypt] = keyStatement(encryptionKeys ?? [], ['kms:Decrypt']);
    if (decrypt) {
      statements.push({
        ...decrypt,
        conditions: { StringLike: { 'kms:ViaService': [`secretsmanager.*.${URL_SUFFIX}`, `ssm.*.${URL_SUFFIX}`] } },
      });
    }
    return statements;
  }
}
