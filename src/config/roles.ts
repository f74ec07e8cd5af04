/** The roles an account can have; here, below users, because boot validation checks MFA_REQUIRED_ROLES against them. */
export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];
