// Authenticator devices a user links to their account.

export interface Device {
  id: string;
  userId: string;
  name: string;
  createdAt: Date;
  /** Null until the user confirms it with a code; only confirmed devices sign in. */
  confirmedAt: Date | null;
  lastUsedAt: Date | null;
  /** Wrong codes in a row since the last accepted one; kept across login attempts. */
  failedAttempts: number;
}

export const DEVICE_NAME_MAX_LENGTH = 60;

export function deviceNameProblem(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'Give the device a name you will recognise, such as "Pixel 8".';
  if ([...trimmed].length > DEVICE_NAME_MAX_LENGTH)
    return `The name must have at most ${DEVICE_NAME_MAX_LENGTH} characters.`;
  return null;
}
