import { Stack } from 'aws-cdk-lib';
import { SCENARIOS } from './calls';
import { EXPECTED_STATEMENTS } from './expected-statements';
import { documentsOf, grant, statementsOf } from './support';

/*
 * What each permission set synthesizes, pinned statement by statement (test/permissions/expected-statements.ts),
 * and where it lands: the role whose credentials the pods receive.
 */

const actionsOf = (statements: Array<Record<string, unknown>>) => statements.map(s => [s.Action].flat().sort().join(' '));

describe.each(SCENARIOS.map(s => [s.name, s] as const))('%s', (name, scenario) => {
  test('granted to a role the association creates: the pinned statements, in order', () => {
    // GIVEN / WHEN
    const granted = grant(scenario, 'created role');
    // THEN
    expect(statementsOf(granted.documents)).toEqual(EXPECTED_STATEMENTS[name]);
  });

  test('granted through a given role: the same statements, on that role', () => {
    const granted = grant(scenario, 'given role');

    expect(statementsOf(granted.documents)).toEqual(EXPECTED_STATEMENTS[name]);
    expect(granted.association.role).toBe(granted.role);
  });

  test('granted through a target role in another account: the same actions, on the target role; the association role may only assume it', () => {
    const granted = grant(scenario, 'target role in another account');

    expect(Stack.of(granted.role).account).toBe('444455556666');
    expect(actionsOf(statementsOf(granted.documents))).toEqual(actionsOf(EXPECTED_STATEMENTS[name]));
    expect(statementsOf(documentsOf(granted.association.role))).toEqual([
      { Action: ['sts:AssumeRole', 'sts:TagSession'], Effect: 'Allow', Resource: expect.stringMatching(/^arn:aws:iam::444455556666:role\/datadatatargetrole/) },
    ]);
  });
});

test('every scenario has pinned statements, and every pin a scenario', () => {
  expect(Object.keys(EXPECTED_STATEMENTS).sort()).toEqual(SCENARIOS.map(s => s.name).sort());
});
