// Configuration, read from the environment and validated once at start-up.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { databaseLocationOf, DEFAULT_POOL_SIZE, type DatabaseLocation } from './store/db.js';
import { keyringOf, newSecretKeyText, parseSecretKey, type SecretKeyring } from './domain/secret-box.js';
import { emailProblem } from './domain/users.js';
import type { MailSettings, MailTransportSetting } from './services/mail-transport.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseLocation;
  /** TWOFOLD_SECRET_KEY seals; TWOFOLD_PREVIOUS_SECRET_KEYS still open, during a key rotation. */
  secretKey: SecretKeyring;
  /** Where people reach Twofold; set-password links use it, and https makes cookies Secure. */
  publicUrl: string;
  secureCookies: boolean;
  /**
   * TWOFOLD_COOKIE_DOMAIN: the Domain of Twofold's cookies, so that the browser sends the
   * session to the sites under it that a proxy protects; null for Twofold's host alone.
   */
  cookieDomain: string | null;
  trustProxy: boolean;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  pendingLoginMinutes: number;
  logLevel: string;
  /** Serve Prometheus metrics at /metrics, on the same port: never to be reachable publicly. */
  metrics: boolean;
  /** TWOFOLD_SMTP_URL and TWOFOLD_MAIL_FROM; without an SMTP server, .eml files in <data dir>/outbox. */
  mail: MailSettings;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integerIn(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

function yesOrNo(env: Env, name: string): boolean {
  const text = env[name];
  if (text === undefined || text === '' || text === 'false') return false;
  if (text === 'true') return true;
  throw new ConfigError(`${name} must be true or false, not "${text}"`);
}

export interface KeyNotice {
  generatedAt: string | null;
}

/**
 * The secret key comes from TWOFOLD_SECRET_KEY, or, on the embedded SQLite default, from a
 * key file generated in the data directory on first start (reported in `notice`).
 */
function secretKeyFrom(env: Env, dataDir: string, database: DatabaseLocation, notice: KeyNotice): Buffer {
  const text = env.TWOFOLD_SECRET_KEY;
  if (text !== undefined && text !== '') {
    const key = parseSecretKey(text);
    if (key === null) throw new ConfigError('TWOFOLD_SECRET_KEY must be 32 bytes, as 64 hex digits or base64');
    return key;
  }
  if (database.kind === 'postgres') {
    throw new ConfigError('TWOFOLD_SECRET_KEY is required with PostgreSQL (every instance must share it)');
  }
  const keyFile = join(dataDir, 'secret.key');
  if (!existsSync(keyFile)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(keyFile, `${newSecretKeyText()}\n`, { mode: 0o600, flag: 'wx' });
    notice.generatedAt = keyFile;
  }
  const key = parseSecretKey(readFileSync(keyFile, 'utf8'));
  if (key === null) throw new ConfigError(`${keyFile} does not hold a 32-byte key`);
  return key;
}

/** Keys retired from sealing, comma-separated. */
function previousKeysFrom(env: Env): Buffer[] {
  const text = env.TWOFOLD_PREVIOUS_SECRET_KEYS;
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((part, index) => {
    const key = parseSecretKey(part);
    // Its position only: a key never goes into a message.
    if (key === null) {
      throw new ConfigError(
        `TWOFOLD_PREVIOUS_SECRET_KEYS: key ${index + 1} must be 32 bytes, as 64 hex digits or base64 (keys separated by commas)`,
      );
    }
    return key;
  });
}

const DOMAIN_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * A domain name with at least two labels (a browser refuses a cookie for "com" or an
 * address), and Twofold's own host or a domain above it: a browser refuses a cookie set
 * for any other.
 */
function cookieDomainFrom(env: Env, publicHost: string): string | null {
  const text = env.TWOFOLD_COOKIE_DOMAIN;
  if (text === undefined || text.trim() === '') return null;
  const domain = text.trim().toLowerCase().replace(/^\./, '');
  if (!DOMAIN_NAME.test(domain) || /^[\d.]+$/.test(domain)) {
    throw new ConfigError(`TWOFOLD_COOKIE_DOMAIN must be a domain name such as example.com, not "${text}"`);
  }
  if (publicHost !== domain && !publicHost.endsWith(`.${domain}`)) {
    throw new ConfigError(
      `TWOFOLD_COOKIE_DOMAIN must be the host of TWOFOLD_PUBLIC_URL (${publicHost}) or a domain it is under, not "${text}"`,
    );
  }
  return domain;
}

/** The previous keys are read first, so that a refused setting generates no key file. */
function keyringFrom(env: Env, dataDir: string, database: DatabaseLocation, notice: KeyNotice): SecretKeyring {
  const previous = previousKeysFrom(env);
  const current = secretKeyFrom(env, dataDir, database, notice);
  const retired = previous.filter((key, i) => !key.equals(current) && previous.findIndex((k) => k.equals(key)) === i);
  return keyringOf(current, retired);
}

/**
 * TWOFOLD_SMTP_URL: smtp:// (STARTTLS when the server offers it) or smtps://, with a host,
 * and credentials if the server asks for them. The value is never repeated in a message:
 * it may hold a password.
 */
function mailTransportFrom(env: Env, dataDir: string): MailTransportSetting {
  const text = env.TWOFOLD_SMTP_URL;
  if (text === undefined || text.trim() === '') return { kind: 'files', dir: join(dataDir, 'outbox') };
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new ConfigError('TWOFOLD_SMTP_URL must be a URL such as smtps://user:password@smtp.example.com');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new ConfigError('TWOFOLD_SMTP_URL must start with smtp:// or smtps://');
  }
  if (url.hostname === '') throw new ConfigError('TWOFOLD_SMTP_URL must name the SMTP server’s host');
  return { kind: 'smtp', url: text.trim() };
}

/** TWOFOLD_MAIL_FROM: an address; twofold@<the public URL's host> unless set. */
function mailFromOf(env: Env, publicHost: string): string {
  const text = env.TWOFOLD_MAIL_FROM;
  if (text === undefined || text.trim() === '') return `twofold@${publicHost.replace(/^\[|\]$/g, '')}`;
  if (emailProblem(text) !== null) {
    throw new ConfigError(`TWOFOLD_MAIL_FROM must be an email address such as twofold@example.com, not "${text}"`);
  }
  return text.trim();
}

export function loadConfig(env: Env, notice: KeyNotice = { generatedAt: null }): Config {
  const host = env.HOST || '127.0.0.1';
  const port = integerIn(env, 'PORT', 3000, 0, 65535);
  const dataDir = resolve(env.TWOFOLD_DATA_DIR || './data');
  const databaseUrl = env.DATABASE_URL || join(dataDir, 'twofold.sqlite');
  const poolSize = integerIn(env, 'TWOFOLD_DATABASE_POOL_SIZE', DEFAULT_POOL_SIZE, 1, 100);
  const database = databaseLocationOf(databaseUrl, poolSize);
  const publicUrl = (env.TWOFOLD_PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(
    /\/+$/,
    '',
  );
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(publicUrl);
  } catch {
    throw new ConfigError(`TWOFOLD_PUBLIC_URL must be a URL such as https://2fa.example.com, not "${publicUrl}"`);
  }
  if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') {
    throw new ConfigError('TWOFOLD_PUBLIC_URL must start with http:// or https://');
  }
  const trustProxy = env.TWOFOLD_TRUST_PROXY === 'true' || env.TWOFOLD_TRUST_PROXY === '1';
  return {
    host,
    port,
    dataDir,
    database,
    secretKey: keyringFrom(env, dataDir, database, notice),
    publicUrl,
    secureCookies: parsedUrl.protocol === 'https:',
    cookieDomain: cookieDomainFrom(env, parsedUrl.hostname),
    trustProxy,
    sessionIdleMinutes: integerIn(env, 'TWOFOLD_SESSION_IDLE_MINUTES', 30, 1, 24 * 60),
    sessionAbsoluteHours: integerIn(env, 'TWOFOLD_SESSION_ABSOLUTE_HOURS', 12, 1, 24 * 30),
    pendingLoginMinutes: 10,
    logLevel: env.TWOFOLD_LOG_LEVEL || 'info',
    metrics: yesOrNo(env, 'TWOFOLD_METRICS'),
    mail: { from: mailFromOf(env, parsedUrl.hostname), transport: mailTransportFrom(env, dataDir) },
  };
}
