// `twofold key ...`: a new secret key, and re-encrypting every stored secret under it so
// the old one can be retired, without stopping sign-ins.
import { newSecretKeyText } from '../domain/secret-box.js';
import { defineCommand, done, refused, type Command } from './command.js';

const PROCEDURE = [
  'Changing the key without downtime:',
  '  1. Make a new key ("twofold key generate"). On every instance set TWOFOLD_SECRET_KEY',
  '     to the new key and TWOFOLD_PREVIOUS_SECRET_KEYS to the old one (with the generated',
  '     key file, the old key is what DATA_DIR/secret.key holds), and restart the instances',
  '     one by one. Sign-ins keep working: secrets sealed with either key open, and new',
  '     ones are sealed with the new key.',
  '  2. Run "twofold key rotate" once, with the same two settings. It re-encrypts every',
  '     secret under the new key, one row at a time, while Twofold keeps serving.',
  '  3. Remove the old key from TWOFOLD_PREVIOUS_SECRET_KEYS. Keep it with any backup of',
  '     the database taken before step 2: that backup needs it.',
].join('\n');

const rotate = defineCommand({
  path: 'key rotate',
  summary: 'Re-encrypt every authenticator secret under the current key.',
  options: {},
  notes: [
    'Reads the new key from TWOFOLD_SECRET_KEY and the old one(s) from\n' +
      'TWOFOLD_PREVIOUS_SECRET_KEYS. Running it again re-encrypts nothing more. If a secret\n' +
      'opens with none of these keys, it is left as it is, the command says how many and\n' +
      'exits with 1: the old key is still needed then.',
    PROCEDURE,
  ],
  async run(_options, io) {
    if ((io.env.TWOFOLD_PREVIOUS_SECRET_KEYS ?? '').trim() === '') {
      return refused('set TWOFOLD_PREVIOUS_SECRET_KEYS to the old key, and TWOFOLD_SECRET_KEY to the new one');
    }
    const { rotateSecretKey } = await import('./rotate-key.js');
    return rotateSecretKey(io);
  },
});

const generate = defineCommand({
  path: 'key generate',
  summary: 'Print a new random secret key (32 bytes, base64).',
  options: {},
  notes: ['It changes nothing by itself; see "twofold key rotate --help" for how to put it to use.'],
  run() {
    return Promise.resolve(done(newSecretKeyText()));
  },
});

export const keyCommands: { summary: string; commands: Command[] } = {
  summary: 'Manage the secret key that encrypts authenticator secrets.',
  commands: [generate, rotate],
};
