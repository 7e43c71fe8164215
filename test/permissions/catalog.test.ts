import * as fs from 'fs';
import * as path from 'path';
import { SCENARIOS } from './calls';
import { EXPECTED_STATEMENTS } from './expected-statements';
import { setUp } from './support';
import * as library from '../../src';
import { ControllerPermissions } from '../../src';

/*
 * The catalog holds together: each file of src/permissions/ is one permission set, exported, with
 * a scenario of its controller's calls, pinned statements, a row in the README's table that states
 * its chart defaults and upstream version, and a docstring that names the upstream file and version.
 */

const DIR = path.join(__dirname, '..', '..', 'src', 'permissions');
const README = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const ENTRY_FILES = fs.readdirSync(DIR).filter(f => f.endsWith('.ts') && !['index.ts', 'controller-permissions.ts'].includes(f));

/** The class each entry file exports (the one extending ControllerPermissions). */
function classOf(file: string): string {
  const classes = [...fs.readFileSync(path.join(DIR, file), 'utf8').matchAll(/^export class (\w+) extends ControllerPermissions/gm)].map(m => m[1]);
  expect(classes).toHaveLength(1);
  return classes[0];
}

/** An instance of each set, as its scenario builds it. */
const instances = new Map(SCENARIOS.filter(s => !s.name.includes('(')).map(s => [s.name, setUp(s, 'created role').build.permissions] as const));

/** The README's catalog table, row by row, keyed by the class named in its second column. */
function readmeRows(): Map<string, string[]> {
  const section = README.slice(README.indexOf('### The catalog'), README.indexOf('### Where `*` remains'));
  return new Map(section.split('\n').filter(line => line.startsWith('| ') && line.includes('`'))
    .map(line => line.split(' | ').map(cell => cell.replace(/^\| |\s\|$/g, '')))
    .filter(cells => /^`\w+Permissions`$/.test(cells[1]))
    .map(cells => [cells[1].slice(1, -1), cells]));
}

test('the catalog covers the twenty controllers of terraform-aws-modules/eks-pod-identity\'s flags, with Karpenter for its pganalyze', () => {
  expect(ENTRY_FILES.map(classOf).sort()).toEqual([
    'AmazonManagedPrometheusPermissions',
    'AppMeshControllerPermissions',
    'AppMeshEnvoyProxyPermissions',
    'AwsEbsCsiDriverPermissions',
    'AwsEfsCsiDriverPermissions',
    'AwsFsxLustreCsiDriverPermissions',
    'AwsGatewayApiControllerPermissions',
    'AwsLoadBalancerControllerPermissions',
    'AwsLoadBalancerControllerTargetGroupBindingPermissions',
    'AwsNodeTerminationHandlerPermissions',
    'AwsPrivateCaIssuerPermissions',
    'AwsVpcCniPermissions',
    'CertManagerPermissions',
    'CloudWatchObservabilityPermissions',
    'ClusterAutoscalerPermissions',
    'ExternalDnsPermissions',
    'ExternalSecretsPermissions',
    'KarpenterPermissions',
    'MountpointS3CsiDriverPermissions',
    'VeleroPermissions',
  ]);
});

describe.each(ENTRY_FILES.map(file => [file, classOf(file)] as const))('%s', (file, name) => {
  test('its class is exported by the library, and is a ControllerPermissions', () => {
    expect((library as Record<string, unknown>)[name]).toBeDefined();
    expect(instances.get(name)).toBeInstanceOf(ControllerPermissions);
  });

  test('it has a scenario of its controller\'s calls and pinned statements', () => {
    expect(SCENARIOS.map(s => s.name)).toContain(name);
    expect(EXPECTED_STATEMENTS[name]?.length).toBeGreaterThan(0);
  });

  test('its docstring names the upstream repository and version it follows', () => {
    const permissions = instances.get(name)!;
    const source = fs.readFileSync(path.join(DIR, file), 'utf8');
    const docstring = source.slice(source.lastIndexOf('/**', source.indexOf(`export class ${name}`)), source.indexOf(`export class ${name}`)).replace(/\s*\n\s*\*\s*/g, ' ');
    const [repository, firstFile] = permissions.upstream.source.split(' ');
    expect(docstring).toContain(repository);
    expect(docstring).toContain(firstFile.replace(/,$/, ''));
    expect(docstring).toContain(permissions.upstream.version.split(' ')[0]);
  });

  test('its README row states its chart defaults and upstream version', () => {
    const permissions = instances.get(name)!;
    const row = readmeRows().get(name);
    expect(row).toBeDefined();
    const [, , defaults, , follows] = row!;
    expect(defaults).toEqual(permissions.defaultNamespace
      ? `\`${permissions.defaultNamespace}\` / \`${permissions.defaultServiceAccount}\``
      : expect.stringMatching(/^none: /));
    expect(follows).toContain(permissions.upstream.version);
    expect(follows).toContain(permissions.upstream.source.split(' ')[0]);
  });
});

test('the README\'s table has a row for each set, and no other', () => {
  expect([...readmeRows().keys()].sort()).toEqual(ENTRY_FILES.map(classOf).sort());
});
