// Authenticator secrets at rest: AES-256-GCM under the instance key, bound to the row
// they belong to (additional data) so a ciphertext moved to another device fails.
// A sealed value names the key that sealed it (`v2.<key id>.<payload>`), so the key can
// change without downtime: any key of the ring opens, only the current one seals.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_KEY_BYTES = 32;
const KEY_ID = /^[0-9a-f]{16}$/;

/** The key that seals, and the keys retired from sealing whose values may still be stored. */
export interface SecretKeyring {
  readonly current: Buffer;
  readonly previous: readonly Buffer[];
}

export function keyringOf(current: Buffer, previous: readonly Buffer[] = []): SecretKeyring {
  return { current, previous };
}

export class WrongSecretKeyError extends Error {
  override readonly name = 'WrongSecretKeyError';
  constructor() {
    super('TWOFOLD_SECRET_KEY is not the key the stored secrets were encrypted with');
  }
}

/** Names a key in a sealed value: the start of its SHA-256, which tells nothing of the key. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export function sealSecret(key: Buffer, plaintext: Uint8Array, boundTo: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(boundTo, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `v2.${keyIdOf(key)}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** `v1.<payload>` was written before values named their key; any key of the ring may open it. */
function parseSealed(sealed: string): { keyId: string | null; payload: string } {
  const parts = sealed.split('.');
  const [version, first, second] = parts;
  if (version === 'v1' && parts.length === 2 && first) return { keyId: null, payload: first };
  if (version === 'v2' && parts.length === 3 && first !== undefined && KEY_ID.test(first) && second) {
    return { keyId: first, payload: second };
  }
  throw new Error('unknown sealed secret format');
}

function openWith(key: Buffer, payload: string, boundTo: string): Uint8Array | null {
  const raw = Buffer.from(payload, 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) return null;
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(boundTo, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return new Uint8Array(
      Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]),
    );
  } catch {
    return null;
  }
}

/**
 * Opens with the ring's key the value names (a `v1.` value: the first key that opens it).
 * Throws WrongSecretKeyError when no key of the ring (or not the binding) matches: never garbage.
 */
export function openSecret(keys: SecretKeyring, sealed: string, boundTo: string): Uint8Array {
  const { keyId, payload } = parseSealed(sealed);
  for (const key of [keys.current, ...keys.previous]) {
    if (keyId !== null && keyIdOf(key) !== keyId) continue;
    const opened = openWith(key, payload, boundTo);
    if (opened !== null) return opened;
  }
  throw new WrongSecretKeyError();
}

/** Whether the value names this key; says nothing of whether it opens. */
export function isSealedWith(key: Buffer, sealed: string): boolean {
  return sealed.startsWith(`v2.${keyIdOf(key)}.`);
}

/** 32 bytes, as 64 hex digits or as standard base64 (44 characters, one "=" of padding). */
export function parseSecretKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) return Buffer.from(trimmed, 'base64');
  return null;
}

export function newSecretKeyText(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64');
}
