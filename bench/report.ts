// The results: one row per figure with its target (or none, for a figure given for
// comparison), printed as a Markdown table (so that docs/benchmarks.md can quote it as is)
// and written as JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from './machine.js';

/** INFO: a figure without a target, given for comparison; never a PASS or a MISS. */
export type Verdict = 'PASS' | 'MISS' | 'SKIPPED' | 'INFO';

export interface Row {
  figure: string;
  measured: string;
  target: string;
  verdict: Verdict;
  /** How it was obtained: the numbers behind a ratio, the sample counts, failed requests. */
  detail: string;
}

function failedNote(failures: number): string {
  return failures === 0 ? '' : `; ${failures} requests FAILED`;
}

/** A measured value against an upper or lower bound; failed requests make any figure a MISS. */
export function judged(
  figure: string,
  value: number,
  unit: string,
  bound: { atMost?: number; below?: number; atLeast?: number },
  detail: string,
  failures = 0,
): Row {
  const ok =
    failures === 0 &&
    Number.isFinite(value) &&
    (bound.atMost === undefined || value <= bound.atMost) &&
    (bound.below === undefined || value < bound.below) &&
    (bound.atLeast === undefined || value >= bound.atLeast);
  const target =
    bound.atMost !== undefined
      ? `<= ${bound.atMost}${unit}`
      : bound.below !== undefined
        ? `< ${bound.below}${unit}`
        : `>= ${bound.atLeast ?? 0}${unit}`;
  return {
    figure,
    measured: `${value}${unit}`,
    target,
    verdict: ok ? 'PASS' : 'MISS',
    detail: `${detail}${failedNote(failures)}`,
  };
}

/** A measured value given for comparison, without a target: INFO, whatever it is; failed requests are said in the detail. */
export function informative(figure: string, value: number, unit: string, detail: string, failures = 0): Row {
  return {
    figure,
    measured: `${value}${unit}`,
    target: '-',
    verdict: 'INFO',
    detail: `${detail}${failedNote(failures)}`,
  };
}

export function skipped(figure: string, target: string, why: string): Row {
  return { figure, measured: '-', target, verdict: 'SKIPPED', detail: why };
}

export function markdownTable(rows: Row[]): string {
  const header = ['Figure', 'Measured', 'Target', 'Result', 'Detail'];
  const cells = rows.map((r) => [r.figure, r.measured, r.target, r.verdict, r.detail]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function machineLines(machine: Machine, command: string, date: Date): string[] {
  return [
    `Date:    ${date.toISOString()}`,
    `Command: ${command}`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGib} GiB, ${machine.os}`,
    `Node:    ${machine.node}, ${machine.threadPool}; load average at start ${machine.loadAverage.join(' ')}`,
  ];
}

export function writeResults(dir: string, stamp: string, content: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}
