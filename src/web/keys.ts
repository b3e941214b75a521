// Keys derived from the instance key for one purpose each, so that none is used twice.
import { hkdfSync } from 'node:crypto';

export function keyFor(secretKey: Buffer, purpose: string): string {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), `twofold ${purpose}`, 32)).toString('base64');
}
