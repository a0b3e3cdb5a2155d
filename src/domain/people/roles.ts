/**
 * Who may do what is decided by role. A person has exactly one; staff and unit heads also belong
 * to one unit. Anyone the bot does not know yet is a citizen.
 */
export const ROLES = ["citizen", "staff", "unit_head", "office", "leader", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Officials of the Department, as opposed to the public. */
export const OFFICIALS: readonly Role[] = ["staff", "unit_head", "office", "leader", "admin"];
/** Everyone, for commands anybody may use. */
export const EVERYONE: readonly Role[] = ROLES;
