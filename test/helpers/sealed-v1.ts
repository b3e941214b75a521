// What the first version of secret-box.ts stored, before sealed texts named their key:
// `v1.<base64url(nonce | ciphertext | tag)>`, AES-256-GCM bound to the row's id. Written out
// here, not borrowed from the code under test, so that old data stays readable for real.
import { createCipheriv, randomBytes } from 'node:crypto';

export function sealedAsV1(key: Buffer, plaintext: Uint8Array, boundTo: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(boundTo, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `v1.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}
