// Everything the bench starts or creates is registered here and undone at the end, on
// failure, and on Ctrl-C: child processes killed by their id, temporary directories
// removed, PostgreSQL schemas dropped.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

type Undo = () => Promise<void> | void;

const undos: { what: string; undo: Undo }[] = [];
const children = new Set<ChildProcess>();

/** Registers an undo; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(what: string, undo: Undo): () => Promise<void> {
  const entry = { what, undo };
  undos.push(entry);
  return async () => {
    const at = undos.indexOf(entry);
    if (at === -1) return;
    undos.splice(at, 1);
    await undo();
  };
}

export function removeDirOnCleanup(dir: string): void {
  onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
}

/** A child process to kill if it is still running when the bench ends. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

function killChildrenNow(): void {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Runs every registered undo, newest first; reports failures but keeps going. */
export async function cleanUp(): Promise<void> {
  while (undos.length > 0) {
    const entry = undos.pop();
    if (entry === undefined) break;
    try {
      await entry.undo();
    } catch (error) {
      process.stderr.write(
        `bench: could not ${entry.what}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
  }
  killChildrenNow();
}

/** On Ctrl-C or SIGTERM: clean up and exit; at any exit, no child outlives the bench. */
export function cleanUpOnSignals(): void {
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('exit', killChildrenNow);
}
