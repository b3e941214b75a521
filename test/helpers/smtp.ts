// A real SMTP server for the tests (smtp-server, from the nodemailer project) on 127.0.0.1,
// keeping every message it accepts as mailparser reads it. On demand it refuses messages
// with a 4xx or 5xx answer, or stalls (accepts the data and never answers), and it can be
// stopped and started again on the same port, as an SMTP server that goes down and comes back.
import type { TestContext } from 'node:test';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { MailSettings } from '../../src/services/mail-transport.js';
import { reservePort } from './ports.js';

export interface ReceivedMail {
  /** The envelope's recipients. */
  to: string[];
  parsed: ParsedMail;
  raw: string;
}

export type SmtpBehaviour =
  /** Takes every message, answering after `delayMs` when given (a slow server). */
  | { kind: 'accept'; delayMs?: number }
  /** Answers every message with this code (4xx: try later; 5xx: refused for good). */
  | { kind: 'refuse'; code: number; message?: string }
  /** Takes the message and never answers, until stopped. */
  | { kind: 'stall' };

export interface TestSmtpServer {
  port: number;
  /** smtp://127.0.0.1:PORT */
  url: string;
  received: ReceivedMail[];
  /** Messages taken while stalling, never answered. */
  stalledMessages: ReceivedMail[];
  behave(behaviour: SmtpBehaviour): void;
  /** Waits until `count` messages have arrived (at most `ms`). */
  waitFor(count: number, ms?: number): Promise<ReceivedMail[]>;
  /** Resolves once a message has started to be sent to a stalling server. */
  stalled(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Mail settings that send through this server, from `from`. */
export function smtpMailSettings(server: TestSmtpServer, from = 'twofold@example.com'): MailSettings {
  return { from, transport: { kind: 'smtp', url: server.url } };
}

export async function startSmtpServer(t: TestContext): Promise<TestSmtpServer> {
  const port = await reservePort();
  const received: ReceivedMail[] = [];
  const stalledMessages: ReceivedMail[] = [];
  let behaviour: SmtpBehaviour = { kind: 'accept' };
  let server: SMTPServer | null = null;
  let onStall: (() => void) | null = null;
  let stalledOnce = new Promise<void>((resolve) => (onStall = resolve));

  const create = () =>
    new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      // Any user and password: the tests check where credentials go, not the login.
      onAuth(auth, _session, callback) {
        callback(null, { user: auth.username });
      },
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const now = behaviour;
          if (now.kind === 'stall') {
            void simpleParser(raw).then((parsed) => {
              stalledMessages.push({ to: session.envelope.rcptTo.map((r) => r.address), parsed, raw });
              onStall?.();
            });
            return;
          }
          if (now.kind === 'refuse') {
            callback(Object.assign(new Error(now.message ?? 'refused by the test'), { responseCode: now.code }));
            return;
          }
          const delay = new Promise((resolve) => setTimeout(resolve, now.delayMs ?? 0));
          Promise.all([simpleParser(raw), delay]).then(
            ([parsed]) => {
              received.push({ to: session.envelope.rcptTo.map((r) => r.address), parsed, raw });
              callback();
            },
            (error: Error) => callback(error),
          );
        });
      },
    });

  const start = async () => {
    const created = create();
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject);
      created.listen(port, '127.0.0.1', () => resolve());
    });
    created.on('error', () => {});
    server = created;
  };
  const stop = async () => {
    const running = server;
    server = null;
    if (running === null) return;
    // Connections left open (a stalled one) would hold close() up.
    const connections = (running as unknown as { connections?: Set<{ close(): void }> }).connections;
    for (const connection of connections ?? []) connection.close();
    await new Promise<void>((resolve) => running.close(() => resolve()));
  };

  await start();
  t.after(stop);
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    stalledMessages,
    behave(next) {
      behaviour = next;
      if (next.kind === 'stall') stalledOnce = new Promise<void>((resolve) => (onStall = resolve));
    },
    async waitFor(count, ms = 10_000) {
      const until = Date.now() + ms;
      while (received.length < count) {
        if (Date.now() > until) throw new Error(`${received.length} messages arrived, not ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return received;
    },
    stalled: () => stalledOnce,
    stop,
    start,
  };
}
