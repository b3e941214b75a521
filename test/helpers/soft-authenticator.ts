// A software security key for integration tests: it makes and uses WebAuthn credentials
// (ES256, "none" attestation) exactly as a browser passes an authenticator's answers on,
// so that the server's checks run on real signatures. Its signature counter, backup flags,
// origin and relying party can be set, to play a passkey that keeps no counter, a synced
// passkey, a cloned key, or a phishing site. (End-to-end tests use Chromium's own virtual
// authenticator instead.)
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array) => Buffer.from(data).toString('base64url');

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

export interface SoftKeyOptions {
  /** 'counting' adds one at every use; 'none' stays at 0, as many passkeys do. */
  counter?: 'counting' | 'none';
  /** A synced passkey: backup eligible and backed up. */
  backedUp?: boolean;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  signCount = 0;
  backedUp: boolean;
  private readonly counter: 'counting' | 'none';

  constructor(options: SoftKeyOptions = {}) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.counter = options.counter ?? 'counting';
    this.backedUp = options.backedUp ?? false;
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  private flags(extra: number): number {
    return FLAG_UP | FLAG_UV | (this.backedUp ? FLAG_BE | FLAG_BS : 0) | extra;
  }

  private counterBytes(): Buffer {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(this.signCount);
    return bytes;
  }

  /** The public key as the authenticator hands it over (COSE), which Twofold keeps sealed: for seeding a linked key. */
  coseKey(): Uint8Array {
    const jwk = this.publicKey.export({ format: 'jwk' });
    const map = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, Buffer.from(jwk.x ?? '', 'base64url')],
      [-3, Buffer.from(jwk.y ?? '', 'base64url')],
    ]);
    return isoCBOR.encode(map);
  }

  /** navigator.credentials.create's answer, as the browser library sends it. */
  create(
    options: PublicKeyCredentialCreationOptionsJSON,
    at: { origin: string; rpId?: string } = { origin: '' },
  ): RegistrationResponseJSON {
    const rpId = at.rpId ?? options.rp.id ?? '';
    const credentialIdLength = Buffer.alloc(2);
    credentialIdLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([this.flags(FLAG_AT)]),
      this.counterBytes(),
      Buffer.alloc(16), // AAGUID
      credentialIdLength,
      this.credentialId,
      this.coseKey(),
    ]);
    const attestation = new Map<string, string | Map<string, string> | Uint8Array>();
    attestation.set('fmt', 'none');
    attestation.set('attStmt', new Map<string, string>());
    attestation.set('authData', new Uint8Array(authData));
    const attestationObject = isoCBOR.encode(attestation);
    const clientData = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: at.origin });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(Buffer.from(clientData)),
        attestationObject: b64url(attestationObject),
        transports: ['usb'],
      },
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get's answer to `options` (or to a challenge of one's own). */
  get(
    options: Pick<PublicKeyCredentialRequestOptionsJSON, 'challenge' | 'rpId'>,
    at: { origin: string; rpId?: string },
  ): AuthenticationResponseJSON {
    if (this.counter === 'counting') this.signCount += 1;
    const rpId = at.rpId ?? options.rpId ?? '';
    const authData = Buffer.concat([sha256(rpId), Buffer.from([this.flags(0)]), this.counterBytes()]);
    const clientData = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: at.origin }),
    );
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
      },
      clientExtensionResults: {},
    };
  }
}

/**
 * The browser's options a page of Twofold carries in its key form's data-options attribute
 * (HTML-escaped JSON), or null when the page has none.
 */
export function keyOptionsIn<T>(html: string): T | null {
  const raw = /data-options="([^"]*)"/.exec(html)?.[1];
  if (raw === undefined) return null;
  const json = raw
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  return JSON.parse(json) as T;
}
