// Configuration, read from the environment and validated once at start-up.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { databaseLocationOf, type DatabaseLocation } from './store/db.js';
import { newSecretKeyText, parseSecretKey } from './domain/secret-box.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseLocation;
  secretKey: Buffer;
  /** Where people reach Twofold; set-password links use it, and https makes cookies Secure. */
  publicUrl: string;
  secureCookies: boolean;
  trustProxy: boolean;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  pendingLoginMinutes: number;
  logLevel: string;
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

export function loadConfig(env: Env, notice: KeyNotice = { generatedAt: null }): Config {
  const host = env.HOST || '127.0.0.1';
  const port = integerIn(env, 'PORT', 3000, 0, 65535);
  const dataDir = resolve(env.TWOFOLD_DATA_DIR || './data');
  const databaseUrl = env.DATABASE_URL || join(dataDir, 'twofold.sqlite');
  const database = databaseLocationOf(databaseUrl);
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
    secretKey: secretKeyFrom(env, dataDir, database, notice),
    publicUrl,
    secureCookies: parsedUrl.protocol === 'https:',
    trustProxy,
    sessionIdleMinutes: integerIn(env, 'TWOFOLD_SESSION_IDLE_MINUTES', 30, 1, 24 * 60),
    sessionAbsoluteHours: integerIn(env, 'TWOFOLD_SESSION_ABSOLUTE_HOURS', 12, 1, 24 * 30),
    pendingLoginMinutes: 10,
    logLevel: env.TWOFOLD_LOG_LEVEL || 'info',
  };
}
