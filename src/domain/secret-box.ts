// Authenticator secrets at rest: AES-256-GCM under the instance key, bound to the row
// they belong to (additional data) so a ciphertext moved to another device fails.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_KEY_BYTES = 32;

export class WrongSecretKeyError extends Error {
  override readonly name = 'WrongSecretKeyError';
  constructor() {
    super('TWOFOLD_SECRET_KEY is not the key the stored secrets were encrypted with');
  }
}

export function sealSecret(key: Buffer, plaintext: Uint8Array, boundTo: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(boundTo, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** Throws WrongSecretKeyError when the key (or the binding) does not match: never garbage. */
export function openSecret(key: Buffer, sealed: string, boundTo: string): Uint8Array {
  const [version, payload] = sealed.split('.');
  if (version !== VERSION || payload === undefined) throw new Error('unknown sealed secret format');
  const raw = Buffer.from(payload, 'base64url');
  const iv = raw.subarray(0, IV_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(boundTo, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch {
    throw new WrongSecretKeyError();
  }
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
