import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { ExternalSecretsPermissions } from '../../../src';
import { arnOf, REGION, Scenario, ScenarioBuild } from '../support';

/*
 * External Secrets Operator v2.9.0, providers/v1/aws: secretsmanager.go fetch() calls
 * GetSecretValue (and DescribeSecret for metadataPolicy: Fetch), GetAllSecrets() with a path
 * BatchGetSecretValue, with a name regexp ListSecrets; parameterstore.go GetSecret() calls
 * GetParameter (WithDecryption) and ListTagsForResource for metadataPolicy: Fetch, findByName()
 * GetParametersByPath, findByTags() DescribeParameters. Secrets Manager and Parameter Store decrypt
 * with the customer managed key on the operator's behalf (kms:ViaService).
 */
export const externalSecrets: Scenario = {
  name: 'ExternalSecretsPermissions',
  build: ({ landing, account }): ScenarioBuild => {
    const secret = (name: string, owner = account) => arnOf('secretsmanager', REGION, owner, `secret:${name}`);
    const parameter = (name: string) => arnOf('ssm', REGION, account, `parameter${name}`);
    const key = arnOf('kms', REGION, account, 'key/0a1b2c3d-1111-2222-3333-444455556666');
    const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com`, 'kms:CallerAccount': account };
    return {
      permissions: new ExternalSecretsPermissions({
        secrets: [secretsmanager.Secret.fromSecretCompleteArn(landing, 'DatabasePassword', secret('db/password-AbCdEf'))],
        secretNamePrefixes: ['platform/'],
        parameters: [ssm.StringParameter.fromStringParameterName(landing, 'ApiUrl', '/shared/api-url')],
        parameterPaths: ['/platform/'],
        encryptionKeys: [kms.Key.fromKeyArn(landing, 'Key', key)],
      }),
      reported: [
        'Resource::arn:<AWS::Partition>:secretsmanager:*:<AWS::AccountId>:secret:platform/*',
        'Resource::arn:<AWS::Partition>:ssm:*:<AWS::AccountId>:parameter/platform/*',
        // The path itself, for GetParametersByPath, in any region.
        'Resource::arn:<AWS::Partition>:ssm:*:<AWS::AccountId>:parameter/platform',
      ],
      allowed: [
        { action: 'secretsmanager:GetSecretValue', resource: secret('db/password-AbCdEf') },
        { action: 'secretsmanager:DescribeSecret', resource: secret('db/password-AbCdEf') },
        { action: 'secretsmanager:GetSecretValue', resource: secret('platform/grafana/admin-x1Y2z3') },
        { action: 'secretsmanager:ListSecretVersionIds', resource: secret('platform/grafana/admin-x1Y2z3') },
        { action: 'secretsmanager:BatchGetSecretValue', resource: '*' },
        { action: 'secretsmanager:ListSecrets', resource: '*' },
        { action: 'ssm:GetParameter', resource: parameter('/shared/api-url') },
        { action: 'ssm:GetParameter', resource: parameter('/platform/grafana/url') },
        { action: 'ssm:ListTagsForResource', resource: parameter('/platform/grafana/url') },
        { action: 'ssm:GetParametersByPath', resource: parameter('/platform') },
        { action: 'ssm:GetParametersByPath', resource: parameter('/platform/grafana') },
        { action: 'ssm:DescribeParameters', resource: '*' },
        { action: 'kms:Decrypt', resource: key, context: viaSecretsManager },
        { action: 'kms:Decrypt', resource: key, context: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com`, 'kms:CallerAccount': account } },
      ],
      denied: [
        { action: 'secretsmanager:GetSecretValue', resource: secret('payments/stripe-key-AbCdEf') },
        { action: 'secretsmanager:GetSecretValue', resource: secret('platformx/token-AbCdEf') },
        { action: 'secretsmanager:PutSecretValue', resource: secret('platform/grafana/admin-x1Y2z3') },
        { action: 'ssm:GetParameter', resource: parameter('/payments/db-url') },
        { action: 'ssm:GetParametersByPath', resource: parameter('/payments') },
        { action: 'ssm:PutParameter', resource: parameter('/platform/grafana/url') },
        // The key only through Secrets Manager and Parameter Store.
        { action: 'kms:Decrypt', resource: key },
        { action: 'kms:Decrypt', resource: key, context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
        { action: 'kms:Decrypt', resource: arnOf('kms', REGION, account, 'key/9f9f9f9f-1111-2222-3333-444455556666'), context: viaSecretsManager },
      ],
    };
  },
};
