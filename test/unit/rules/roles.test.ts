/**
 * rules/roles.ts: a caller's role from its certificate (CONSENT.md "Roles"): the
 * medbridge.role attribute wins, else the NodeOU; an admin may do what its members may.
 */
import { roleAllowed, roleOf } from '../../../chaincode/src/rules/roles';

describe('roles', () => {
  it('takes the role from the medbridge.role attribute first', () => {
    expect(roleOf('clinician', ['client'])).toBe('clinician');
    expect(roleOf('privacy-officer', ['admin'])).toBe('privacy-officer');
  });

  it('ignores an attribute that names no medbridge role and falls back to the NodeOU', () => {
    expect(roleOf('peer', ['client'])).toBe('member');
    expect(roleOf('superuser', ['admin'])).toBe('admin');
  });

  it('maps OU=admin to admin, OU=peer to peer, OU=client to member, and anything else to no role', () => {
    expect(roleOf(null, ['admin', 'client'])).toBe('admin');
    expect(roleOf(null, ['peer'])).toBe('peer');
    expect(roleOf(null, ['client'])).toBe('member');
    expect(roleOf(null, ['orderer'])).toBeUndefined();
  });

  it('lets an admin do what members may, and nothing else it is not named for', () => {
    expect(roleAllowed('admin', ['member'])).toBe(true);
    expect(roleAllowed('admin', ['clinician'])).toBe(false);
    expect(roleAllowed('member', ['admin'])).toBe(false);
    expect(roleAllowed('clinician', ['member', 'clinician'])).toBe(true);
  });
});
