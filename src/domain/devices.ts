// Authenticator devices a user links to their account.

export interface Device {
  id: string;
  userId: string;
  name: string;
  createdAt: Date;
  /** Null until the user confirms it with a code; only confirmed devices sign in. */
  confirmedAt: Date | null;
  /** The last sign-in or confirmation of identity with it; null if never used since it was linked. */
  lastUsedAt: Date | null;
}

export const DEVICE_NAME_MAX_LENGTH = 60;

export type DeviceNameProblem = 'device_name_missing' | 'device_name_too_long';

export function deviceNameProblem(name: string): DeviceNameProblem | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'device_name_missing';
  if ([...trimmed].length > DEVICE_NAME_MAX_LENGTH) return 'device_name_too_long';
  return null;
}
