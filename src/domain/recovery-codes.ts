// Recovery codes: look-up secrets a person keeps for when their devices are gone (ASVS 5.0,
// V6.5). Ten per set, each 120 random bits from the CSPRNG, written as 24 base32 letters
// and digits in groups of four. With more than 112 bits a salted SHA-256 is enough to store
// them (no guessing reaches 2^120, online or offline), so checking one costs ten SHA-256
// computations and no password hash. Each works once.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const RECOVERY_CODES_PER_SET = 10;
/** From this many left down, the person is warned to make a new set. */
export const FEW_RECOVERY_CODES_LEFT = 3;

/**
 * Whether linking a device hands the person a new set: only their first device
 * (`confirmedDevices` counts it), and never over codes they still hold: someone who removed
 * their last device keeps their codes, and linking again must not void them unseen.
 */
export function getsRecoveryCodesWithDevice(confirmedDevices: number, unusedCodes: number): boolean {
  return confirmedDevices === 1 && unusedCodes === 0;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const CODE_LETTERS = 24;
const GROUP = 4;
const SALT_BYTES = 16;

/** A new code, as shown: "abcd-efgh-ijkl-mnop-qrst-uvwx" (120 bits). */
export function newRecoveryCode(): string {
  const bytes = randomBytes(15);
  let bits = 0;
  let value = 0;
  let letters = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      letters += ALPHABET[(value >> bits) & 31] ?? '';
    }
    value &= (1 << bits) - 1;
  }
  return (letters.match(new RegExp(`.{${GROUP}}`, 'g')) ?? []).join('-');
}

/** What the person typed, as a code: case, spaces and dashes do not matter; null when it cannot be one. */
export function normaliseRecoveryCode(given: string): string | null {
  const letters = given.toLowerCase().replace(/[\s-]/g, '');
  return letters.length === CODE_LETTERS && [...letters].every((c) => ALPHABET.includes(c)) ? letters : null;
}

export interface StoredRecoveryCode {
  id: string;
  salt: string;
  hash: string;
}

function hashOf(salt: string, normalised: string): string {
  return createHash('sha256').update(Buffer.from(salt, 'base64url')).update(normalised).digest('base64url');
}

/** What is stored of a code: a random salt and the SHA-256 of salt and code. */
export function storedFormOf(code: string): { salt: string; hash: string } {
  const normalised = normaliseRecoveryCode(code);
  if (normalised === null) throw new Error('not a recovery code');
  const salt = randomBytes(SALT_BYTES).toString('base64url');
  return { salt, hash: hashOf(salt, normalised) };
}

/** Pure: the stored code the given one is, compared in constant time; null when none. */
export function matchingRecoveryCode(
  stored: readonly StoredRecoveryCode[],
  normalised: string,
): StoredRecoveryCode | null {
  let found: StoredRecoveryCode | null = null;
  for (const code of stored) {
    const expected = Buffer.from(code.hash, 'base64url');
    const actual = Buffer.from(hashOf(code.salt, normalised), 'base64url');
    if (expected.length === actual.length && timingSafeEqual(expected, actual)) found ??= code;
  }
  return found;
}

/** The text of the file a person downloads: the codes, and how to use them. */
export function recoveryCodesFile(
  codes: readonly string[],
  account: string,
  organisation: string,
  made: string,
): string {
  return [
    `Twofold recovery codes for ${account} (${organisation})`,
    `Made ${made}. Each code works once. Keep them somewhere safe, away from your phone.`,
    '',
    ...codes,
    '',
    'At the code step of signing in, choose "Use a recovery code instead" and type one.',
    '',
  ].join('\n');
}
