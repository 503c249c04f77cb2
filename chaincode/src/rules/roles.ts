/**
 * Who calls a transaction, as the rules see it (CONSENT.md "Roles"). A `medbridge.role`
 * attribute in the caller's certificate (Fabric CA enrollments) wins; otherwise the NodeOU
 * of the certificate: OU=admin -> `admin`, OU=peer -> `peer`, OU=client -> `member`.
 * contracts/tx-context.ts reads the certificate; the decisions are here, pure.
 */

export type Role = 'admin' | 'member' | 'clinician' | 'privacy-officer' | 'peer';

export interface Caller {
  mspId: string;
  /** Stable id of the calling identity: sha256 of its certificate, hex. */
  id: string;
  role: Role;
}

/** The certificate attribute that names a caller's role. */
export const ROLE_ATTRIBUTE = 'medbridge.role';

const ATTRIBUTE_ROLES: ReadonlySet<string> = new Set(['admin', 'member', 'clinician', 'privacy-officer']);

/**
 * The role of an identity from its `medbridge.role` attribute (null when absent) and the
 * organizational units of its certificate subject; undefined when neither names one.
 */
export function roleOf(attribute: string | null, ous: readonly string[]): Role | undefined {
  if (attribute !== null && ATTRIBUTE_ROLES.has(attribute)) return attribute as Role;
  if (ous.includes('admin')) return 'admin';
  if (ous.includes('peer')) return 'peer';
  if (ous.includes('client')) return 'member';
  return undefined;
}

/** Whether `role` may call what is open to `roles`: an admin of an org may do what its members may do. */
export function roleAllowed(role: Role, roles: readonly Role[]): boolean {
  return roles.includes(role) || (role === 'admin' && roles.includes('member'));
}
