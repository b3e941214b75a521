// Deadlines are typed and shown in the organisation's time zone and stored in UTC.

/** The zone's standard spelling ("europe/amsterdam" → "Europe/Amsterdam"), or null if unknown. */
export function canonicalTimeZone(name: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone: name.trim() }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

export function isTimeZone(name: string): boolean {
  return canonicalTimeZone(name) !== null;
}

/**
 * One formatter per zone and kind, made once: a new Intl.DateTimeFormat costs far more than a
 * format, and holds ICU memory that the garbage collector, seeing only a small object,
 * frees late (a reminder run of 100,000 people made one per message and grew by gigabytes).
 * There are a few hundred zones at most.
 */
function cachedFormatter(options: Intl.DateTimeFormatOptions): (timeZone: string) => Intl.DateTimeFormat {
  const formatters = new Map<string, Intl.DateTimeFormat>();
  return (timeZone) => {
    let formatter = formatters.get(timeZone);
    if (formatter === undefined) {
      formatter = new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
      formatters.set(timeZone, formatter);
    }
    return formatter;
  };
}

const numericPartsFormatter = cachedFormatter({
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

const displayFormatter = cachedFormatter({
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function partsIn(timeZone: string, at: Date): Record<string, number> {
  const parts = numericPartsFormatter(timeZone).formatToParts(at);
  return Object.fromEntries(parts.filter((p) => p.type !== 'literal').map((p) => [p.type, Number(p.value)]));
}

function offsetMsAt(timeZone: string, at: Date): number {
  const p = partsIn(timeZone, at);
  const asUtc = Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * "2026-12-01T09:00" as wall-clock time in `timeZone`, or null when it is not such a value.
 * Like Temporal's "compatible" choice: a time repeated when clocks go back is the earlier
 * instant; a time skipped when clocks go forward is read with the offset before the
 * change, so it lands just after it (02:30 on a spring-forward night becomes 03:30).
 */
export function parseLocalDateTime(value: string, timeZone: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value.trim());
  if (!match) return null;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  if (year < 1970) return null;
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const check = new Date(wall);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59) return null;
  const before = offsetMsAt(timeZone, new Date(wall - DAY_MS));
  const after = offsetMsAt(timeZone, new Date(wall + DAY_MS));
  const fits = [wall - before, wall - after].filter(
    (instant) => offsetMsAt(timeZone, new Date(instant)) === wall - instant,
  );
  if (fits.length > 0) return new Date(Math.min(...fits));
  return new Date(wall - before);
}

/** The value a datetime-local input shows for `at` in `timeZone`. */
export function toLocalInputValue(at: Date, timeZone: string): string {
  const p = partsIn(timeZone, at);
  const two = (n: number | undefined) => String(n ?? 0).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`;
}

/** "1 Dec 2026, 09:00 (Europe/Amsterdam)" */
export function formatDateTime(at: Date, timeZone: string): string {
  return `${displayFormatter(timeZone).format(at)} (${timeZone})`;
}
