import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDateTime, isTimeZone, parseLocalDateTime, toLocalInputValue } from '../../src/domain/time-zones.js';

const HOUR = 60 * 60 * 1000;

function utc(iso: string): Date {
  return new Date(iso);
}

describe('parseLocalDateTime', () => {
  test('in UTC the typed time is the stored time', () => {
    assert.deepEqual(parseLocalDateTime('2026-06-01T12:00', 'UTC'), utc('2026-06-01T12:00:00Z'));
  });

  test('9:00 in Amsterdam in winter is 8:00 UTC', () => {
    assert.deepEqual(parseLocalDateTime('2026-01-15T09:00', 'Europe/Amsterdam'), utc('2026-01-15T08:00:00Z'));
  });

  test('9:00 in Amsterdam in summer is 7:00 UTC', () => {
    assert.deepEqual(parseLocalDateTime('2026-07-15T09:00', 'Europe/Amsterdam'), utc('2026-07-15T07:00:00Z'));
  });

  test('noon in New York is 17:00 UTC before the spring change and 16:00 UTC after it', () => {
    assert.deepEqual(parseLocalDateTime('2026-03-07T12:00', 'America/New_York'), utc('2026-03-07T17:00:00Z'));
    assert.deepEqual(parseLocalDateTime('2026-03-09T12:00', 'America/New_York'), utc('2026-03-09T16:00:00Z'));
  });

  test('in New York 1:59 and 3:00 on the night of the spring change are one minute apart', () => {
    const before = parseLocalDateTime('2026-03-08T01:59', 'America/New_York');
    const after = parseLocalDateTime('2026-03-08T03:00', 'America/New_York');
    assert.deepEqual(before, utc('2026-03-08T06:59:00Z'));
    assert.deepEqual(after, utc('2026-03-08T07:00:00Z'));
  });

  test('noon in New York is 16:00 UTC before the autumn change and 17:00 UTC after it', () => {
    assert.deepEqual(parseLocalDateTime('2026-10-31T12:00', 'America/New_York'), utc('2026-10-31T16:00:00Z'));
    assert.deepEqual(parseLocalDateTime('2026-11-02T12:00', 'America/New_York'), utc('2026-11-02T17:00:00Z'));
  });

  test('a time that happens twice in New York in autumn is read as one of its two moments', () => {
    const parsed = parseLocalDateTime('2026-11-01T01:30', 'America/New_York');
    assert.ok(parsed);
    assert.ok(
      [utc('2026-11-01T05:30:00Z').getTime(), utc('2026-11-01T06:30:00Z').getTime()].includes(parsed.getTime()),
      parsed.toISOString(),
    );
  });

  test('zones with half-hour and quarter-hour offsets are read exactly', () => {
    assert.deepEqual(parseLocalDateTime('2026-06-01T12:00', 'Asia/Kolkata'), utc('2026-06-01T06:30:00Z'));
    assert.deepEqual(parseLocalDateTime('2026-06-01T12:00', 'Asia/Kathmandu'), utc('2026-06-01T06:15:00Z'));
  });

  test('29 February exists only in leap years', () => {
    assert.deepEqual(parseLocalDateTime('2028-02-29T10:00', 'UTC'), utc('2028-02-29T10:00:00Z'));
    assert.equal(parseLocalDateTime('2026-02-29T10:00', 'UTC'), null);
  });

  test('dates that do not exist are refused rather than rolled over into the next month', () => {
    for (const value of [
      '2026-02-30T10:00',
      '2026-04-31T10:00',
      '2026-13-01T10:00',
      '2026-00-10T10:00',
      '2026-01-00T10:00',
    ]) {
      assert.equal(parseLocalDateTime(value, 'Europe/Amsterdam'), null, value);
    }
  });

  test('hours past 23 and minutes past 59 are refused', () => {
    assert.equal(parseLocalDateTime('2026-01-15T24:00', 'UTC'), null);
    assert.equal(parseLocalDateTime('2026-01-15T10:60', 'UTC'), null);
  });

  test('anything not shaped like a date-time input value is refused', () => {
    const values = [
      '',
      'garbage',
      'next Tuesday',
      '2026-01-15',
      '2026-01-15 09:00',
      '2026-1-5T09:00',
      '2026-01-15T09:00:00',
      '2026-01-15T09:00Z',
      '15/01/2026 09:00',
    ];
    for (const value of values) {
      assert.equal(parseLocalDateTime(value, 'UTC'), null, JSON.stringify(value));
    }
  });

  test('spaces around the value are ignored', () => {
    assert.deepEqual(parseLocalDateTime(' 2026-01-15T09:00 ', 'Europe/Amsterdam'), utc('2026-01-15T08:00:00Z'));
  });

  test('a time skipped by the spring change lands just after the change, in every zone', () => {
    // 02:30 does not exist on these nights; it is read with the offset before the change: 03:30.
    assert.deepEqual(parseLocalDateTime('2026-03-08T02:30', 'America/New_York'), utc('2026-03-08T07:30:00Z'));
    assert.deepEqual(parseLocalDateTime('2026-03-29T02:30', 'Europe/Amsterdam'), utc('2026-03-29T01:30:00Z'));
  });

  test('a time repeated by the autumn change is its first occurrence, in every zone', () => {
    assert.deepEqual(parseLocalDateTime('2026-11-01T01:30', 'America/New_York'), utc('2026-11-01T05:30:00Z'));
    assert.deepEqual(parseLocalDateTime('2026-10-25T02:30', 'Europe/Amsterdam'), utc('2026-10-25T00:30:00Z'));
  });

  test('a year before 1970 is refused rather than misread', () => {
    assert.equal(parseLocalDateTime('0026-03-01T09:00', 'UTC'), null);
    assert.equal(parseLocalDateTime('1969-12-31T23:59', 'UTC'), null);
  });
});

describe('toLocalInputValue', () => {
  test('shows a stored UTC time as the wall-clock time of the organisation', () => {
    assert.equal(toLocalInputValue(utc('2026-01-15T08:00:00Z'), 'Europe/Amsterdam'), '2026-01-15T09:00');
    assert.equal(toLocalInputValue(utc('2026-07-15T07:00:00Z'), 'Europe/Amsterdam'), '2026-07-15T09:00');
    assert.equal(toLocalInputValue(utc('2026-03-09T16:00:00Z'), 'America/New_York'), '2026-03-09T12:00');
  });

  test('midnight is shown as 00:00 of the new day, never 24:00', () => {
    assert.equal(toLocalInputValue(utc('2026-01-14T23:00:00Z'), 'Europe/Amsterdam'), '2026-01-15T00:00');
    assert.equal(toLocalInputValue(utc('2026-01-01T00:00:00Z'), 'UTC'), '2026-01-01T00:00');
  });

  test('seconds are dropped, not rounded up', () => {
    assert.equal(toLocalInputValue(utc('2026-01-15T08:00:59.999Z'), 'Europe/Amsterdam'), '2026-01-15T09:00');
  });

  test('each of the two moments of a repeated autumn hour shows the same wall-clock time', () => {
    assert.equal(toLocalInputValue(utc('2026-11-01T05:30:00Z'), 'America/New_York'), '2026-11-01T01:30');
    assert.equal(toLocalInputValue(utc('2026-11-01T06:30:00Z'), 'America/New_York'), '2026-11-01T01:30');
  });

  const minute = fc
    .integer({ min: Date.UTC(2000, 0, 1) / 60_000, max: Date.UTC(2100, 0, 1) / 60_000 })
    .map((m) => new Date(m * 60_000));

  test('in zones without daylight saving a stored minute survives the round trip through the form', () => {
    fc.assert(
      fc.property(minute, fc.constantFrom('UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Tokyo'), (at, zone) => {
        assert.deepEqual(parseLocalDateTime(toLocalInputValue(at, zone), zone), at);
      }),
    );
  });

  // Daylight-saving changes of 2026 (Lord Howe moves by half an hour), so that the property
  // below spends most of its runs in the hours around a change.
  const CHANGES = [
    { zone: 'Europe/Amsterdam', at: ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z'] },
    { zone: 'America/New_York', at: ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z'] },
    { zone: 'Australia/Sydney', at: ['2026-04-04T16:00:00Z', '2026-10-03T16:00:00Z'] },
    { zone: 'Australia/Lord_Howe', at: ['2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z'] },
  ];
  const nearAChange = fc
    .record({
      change: fc.constantFrom(...CHANGES.flatMap(({ zone, at }) => at.map((iso) => ({ zone, at: utc(iso) })))),
      minutes: fc.integer({ min: -180, max: 180 }),
    })
    .map(({ change, minutes }) => ({ zone: change.zone, at: new Date(change.at.getTime() + minutes * 60_000) }));
  const anywhere = fc.record({ zone: fc.constantFrom(...CHANGES.map((c) => c.zone)), at: minute });

  test('in zones with daylight saving the form shows back the very wall-clock time that was typed', () => {
    fc.assert(
      fc.property(fc.oneof(nearAChange, anywhere), ({ at, zone }) => {
        const shown = toLocalInputValue(at, zone);
        const parsed = parseLocalDateTime(shown, zone);
        assert.ok(parsed);
        assert.equal(toLocalInputValue(parsed, zone), shown);
        assert.ok(Math.abs(parsed.getTime() - at.getTime()) <= HOUR, `${shown} in ${zone}`);
      }),
      { numRuns: 500 },
    );
  });

  test('outside the repeated autumn hour a stored minute survives the round trip in New York', () => {
    const times = [
      '2026-01-15T14:00:00Z',
      '2026-03-08T06:59:00Z',
      '2026-03-08T07:00:00Z',
      '2026-07-04T16:00:00Z',
      '2026-11-01T07:00:00Z',
    ];
    for (const iso of times) {
      const at = utc(iso);
      assert.deepEqual(parseLocalDateTime(toLocalInputValue(at, 'America/New_York'), 'America/New_York'), at, iso);
    }
  });
});

describe('formatDateTime', () => {
  test('shows the day, the wall-clock time and the name of the zone', () => {
    const text = formatDateTime(utc('2026-12-01T08:00:00Z'), 'Europe/Amsterdam');
    assert.match(text, /\b1 Dec 2026\b/);
    assert.match(text, /\b09:00\b/);
    assert.ok(text.endsWith('(Europe/Amsterdam)'), text);
  });

  test('the same instant reads differently in each zone, each labelled with its zone', () => {
    const at = utc('2026-07-15T07:00:00Z');
    const amsterdam = formatDateTime(at, 'Europe/Amsterdam');
    const newYork = formatDateTime(at, 'America/New_York');
    assert.match(amsterdam, /15 Jul 2026, 09:00 \(Europe\/Amsterdam\)$/);
    assert.match(newYork, /15 Jul 2026, 03:00 \(America\/New_York\)$/);
  });

  test('UTC is named too', () => {
    assert.match(formatDateTime(utc('2026-01-01T00:05:00Z'), 'UTC'), /1 Jan 2026, 00:05 \(UTC\)$/);
  });
});

describe('isTimeZone', () => {
  test('recognises IANA zone names and UTC', () => {
    assert.equal(isTimeZone('Europe/Amsterdam'), true);
    assert.equal(isTimeZone('America/New_York'), true);
    assert.equal(isTimeZone('UTC'), true);
  });

  test('refuses names that are not zones', () => {
    assert.equal(isTimeZone('Mars/Olympus_Mons'), false);
    assert.equal(isTimeZone('Amsterdam'), false);
  });
});
