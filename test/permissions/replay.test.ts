import { SCENARIOS } from './calls';
import { MODES, allows, grant } from './support';

/*
 * Each permission set, granted to a created role, a given role, and a target role in another
 * account, allows every call its controller makes on the resources the user named, and denies the
 * calls outside them. The calls come from each controller's source or docs (test/permissions/calls/).
 */

const replayed = { allowed: 0, denied: 0 };

describe.each(SCENARIOS.map(s => [s.name, s] as const))('%s', (_name, scenario) => {
  test.each(MODES)('through a %s: every call of the controller allowed, every call outside its scope denied', async mode => {
    // GIVEN the permission set granted to the association
    const granted = grant(scenario, mode);
    // WHEN the controller's calls are evaluated against the policies its credentials carry
    const allowed = await Promise.all(granted.build.allowed.map(async call => ({ call, allowed: await allows(granted, call) })));
    const denied = await Promise.all(granted.build.denied.map(async call => ({ call, allowed: await allows(granted, call) })));
    // THEN
    expect(allowed.filter(r => !r.allowed).map(r => r.call)).toEqual([]);
    expect(denied.filter(r => r.allowed).map(r => r.call)).toEqual([]);
    expect(granted.build.allowed.length).toBeGreaterThan(0);
    expect(granted.build.denied.length).toBeGreaterThan(0);
    replayed.allowed += allowed.length;
    replayed.denied += denied.length;
  });
});

afterAll(() => {
  console.log(`replayed ${replayed.allowed} calls allowed and ${replayed.denied} denied, over ${SCENARIOS.length} permission sets x ${MODES.length} grantees`);
});
