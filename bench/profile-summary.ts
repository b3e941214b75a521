// Summarises V8 CPU profiles (.cpuprofile, from `node --cpu-prof`): where the main thread
// spent its own time (self time), by function and by package. Work on libuv's thread pool
// (argon2id) is not sampled: it shows only as the main thread's idle time.
//   node --import tsx bench/profile-summary.ts <file.cpuprofile | directory> [top]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled wall time of the main thread, idle included. */
  totalMs: number;
  idlePercent: number;
  functions: SelfTime[];
  packages: SelfTime[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A package name for node_modules, the path for our own sources, node:... for Node's. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const path = url.replace(/^file:\/\//, '');
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (inModules?.[1] !== undefined) return inModules[1];
  return relative(ROOT, path);
}

function nameOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url === '' ? '' : ` ${areaOf(url, functionName)}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
}

function ranked(totals: Map<string, number>, totalMs: number, top: number): SelfTime[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((ms / totalMs) * 1000) / 10 }));
}

export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (node === undefined) return;
    totalMs += ms;
    if (node.callFrame.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    const name = nameOf(node);
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    packages.set(area, (packages.get(area) ?? 0) + ms);
  });
  return {
    file,
    totalMs: Math.round(totalMs),
    idlePercent: Math.round((idleMs / Math.max(totalMs, 1)) * 1000) / 10,
    functions: ranked(functions, totalMs, top),
    packages: ranked(packages, totalMs, top),
  };
}

/** The file itself, or every profile under the directory, in sub-directories too. */
export function profilesIn(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .map((name) => join(path, name));
}

export function describeSummary(summary: ProfileSummary): string {
  const list = (items: SelfTime[]) =>
    items.map((item) => `  ${String(item.percent).padStart(5)}%  ${String(item.ms).padStart(7)} ms  ${item.name}`);
  return [
    `${relative(process.cwd(), summary.file)}: ${summary.totalMs} ms sampled, ${summary.idlePercent}% idle`,
    ' Self time by function:',
    ...list(summary.functions),
    ' Self time by package:',
    ...list(summary.packages),
  ].join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [path, top] = process.argv.slice(2);
  if (path === undefined) {
    process.stderr.write('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile | directory> [top]\n');
    process.exit(2);
  }
  for (const file of profilesIn(path)) {
    process.stdout.write(`${describeSummary(summariseProfile(file, Number(top ?? 15)))}\n\n`);
  }
}
