import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseDmTime, formatDmTime, dmTimeToDate, dateToDmTime, formatDmTimestamp, parseDmDuration, formatDmDuration,
  parseFlags, formatFlags, flagsAllow, describeFlags, FLAG_LOW_BANDWIDTH, FLAG_HIGH_BANDWIDTH, FLAG_CRADLED,
  parseBooleanText, ProtocolError, type ConnectionState,
} from '../../shared/protocol/index.js';

const S = 1000, M = 60 * S, H = 60 * M, D = 24 * H;

test('DM time parses leniently and validates ranges', () => {
  assert.deepEqual(parseDmTime('2002-08-29 00:00:00'), { year: 2002, month: 8, day: 29, hour: 0, minute: 0, second: 0 });
  assert.deepEqual(parseDmTime(' 2002-8-9  7:5:3 '), { year: 2002, month: 8, day: 9, hour: 7, minute: 5, second: 3 });
  assert.equal(parseDmTime('2024-02-29 12:00:00').day, 29);
  for (const bad of ['2023-02-29 00:00:00', '2002-13-01 00:00:00', '2002-00-10 00:00:00', '2002-01-01 24:00:00',
    '2002-01-01 00:60:00', '2002-01-01 00:00:60', '0000-00-01 00:00:00', '02-01-01 00:00:00', '2002-01-01', '', 'soon',
    '2002-01-01T00:00:00Z']) {
    assert.throws(() => parseDmTime(bad), (e: unknown) => e instanceof ProtocolError && e.document === 'DM time', bad);
  }
  assert.throws(() => parseDmTime('2002-02-30 00:00:00'), /day 30 \(must be 1–28 in that month\)/);
});

test('DM time is written zero-padded and round-trips', () => {
  const t = { year: 987, month: 1, day: 2, hour: 3, minute: 4, second: 5 };
  assert.equal(formatDmTime(t), '0987-01-02 03:04:05');
  assert.deepEqual(parseDmTime(formatDmTime(t)), t);
  assert.throws(() => formatDmTime({ ...t, hour: 25 }), ProtocolError);
});

test('DM time binds to UTC or to host local time', () => {
  const t = parseDmTime('2002-08-29 13:14:15');
  assert.equal(dmTimeToDate(t, true).toISOString(), '2002-08-29T13:14:15.000Z');
  const local = dmTimeToDate(t, false);
  assert.deepEqual([local.getFullYear(), local.getMonth(), local.getDate(), local.getHours(), local.getMinutes(), local.getSeconds()],
    [2002, 7, 29, 13, 14, 15]);
  assert.deepEqual(dateToDmTime(local, false), t);
  assert.deepEqual(dateToDmTime(new Date('2002-08-29T13:14:15Z'), true), t);
  assert.equal(dmTimeToDate({ year: 50, month: 1, day: 1, hour: 0, minute: 0, second: 0 }, true).getUTCFullYear(), 50);
  assert.equal(formatDmTimestamp(new Date('2010-01-06T05:04:03Z'), true), '2010-01-06 05:04:03');
  const now = new Date();
  assert.deepEqual(parseDmTime(formatDmTimestamp(now)), dateToDmTime(now, false));
  assert.throws(() => dateToDmTime(new Date(NaN), true), ProtocolError);
});

test('DM durations: days/hours/minutes/seconds, 30-day months, 365-day years, overflow and registry form', () => {
  assert.equal(parseDmDuration('0000-00-01 00:00:00'), D);
  assert.equal(parseDmDuration('0000-00-00 01:00:00'), H);
  assert.equal(parseDmDuration('0000-00-00 00:03:00'), 3 * M);
  assert.equal(parseDmDuration('0000-01-00 00:00:00'), 30 * D);
  assert.equal(parseDmDuration('0001-00-00 00:00:00'), 365 * D);
  assert.equal(parseDmDuration('0000-00-00 36:00:00'), 36 * H);
  assert.equal(parseDmDuration('0000-00-00 00:90:75'), 90 * M + 75 * S);
  assert.equal(parseDmDuration('0000-00-00 1:2:3'), H + 2 * M + 3 * S);
  assert.equal(parseDmDuration('00-00-00 00:03:00'), 3 * M);
  assert.equal(parseDmDuration('00-00-00 00-03-00'), 3 * M);
  assert.equal(parseDmDuration('0000-00-00 00:00:00'), 0);
  for (const bad of ['1 hour', '-0000-00-01 00:00:00', '0000-00-01', '0000-00-0x 00:00:00', '', '0000-00-00 00:00:00.5']) {
    assert.throws(() => parseDmDuration(bad), (e: unknown) => e instanceof ProtocolError && e.document === 'DM duration', bad);
  }
});

test('DM durations are written with hh ≤ 23 and whole days, never months or years', () => {
  assert.equal(formatDmDuration(0), '0000-00-00 00:00:00');
  assert.equal(formatDmDuration(3 * M), '0000-00-00 00:03:00');
  assert.equal(formatDmDuration(36 * H), '0000-00-01 12:00:00');
  assert.equal(formatDmDuration(45 * D + 1 * S), '0000-00-45 00:00:01');
  assert.equal(formatDmDuration(400 * D), '0000-00-400 00:00:00');
  for (const ms of [0, S, 59 * S, H + M + S, 23 * H, D, 7 * D, 365 * D + 5 * H]) assert.equal(parseDmDuration(formatDmDuration(ms)), ms);
  assert.throws(() => formatDmDuration(-1), ProtocolError);
  assert.throws(() => formatDmDuration(Number.NaN), ProtocolError);
});

test('Flags are a little-endian byte dump, with lenient spacing', () => {
  assert.equal(parseFlags('03 00 00 00'), 3);
  assert.equal(parseFlags('06 00 00 00'), 6);
  assert.equal(parseFlags('00 01 00 00'), 0x100);
  assert.equal(parseFlags('ff ff ff ff'), 0xffffffff);
  assert.equal(parseFlags('03000000'), 3);
  assert.equal(parseFlags('04'), 4);
  assert.equal(parseFlags(' 02  00\t00 00 '), 2);
  for (const bad of ['', '0x03', '3', '03 00 00 00 00', '030', 'zz 00 00 00', '03,00,00,00', '-1']) {
    assert.throws(() => parseFlags(bad), ProtocolError, bad);
  }
  assert.equal(formatFlags(3), '03 00 00 00');
  assert.equal(formatFlags(0x0a0b0c0d), '0D 0C 0B 0A');
  assert.equal(parseFlags(formatFlags(0xdeadbeef)), 0xdeadbeef);
  assert.throws(() => formatFlags(-1), ProtocolError);
  assert.throws(() => formatFlags(1.5), ProtocolError);
});

test('flagsAllow follows spec A8: 0 = any connection, unknown bits ignored, cradled needs the cradle', () => {
  const low: ConnectionState = { bandwidth: 'low', cradled: false };
  const high: ConnectionState = { bandwidth: 'high', cradled: false };
  const none: ConnectionState = { bandwidth: 'none', cradled: false };
  const cradledOnly: ConnectionState = { bandwidth: 'none', cradled: true };
  const cradledHigh: ConnectionState = { bandwidth: 'high', cradled: true };
  for (const flags of [undefined, 0, 0x100]) {
    assert.equal(flagsAllow(flags, low), true);
    assert.equal(flagsAllow(flags, cradledOnly), true);
    assert.equal(flagsAllow(flags, none), false);
  }
  assert.equal(flagsAllow(FLAG_LOW_BANDWIDTH, low), true);
  assert.equal(flagsAllow(FLAG_LOW_BANDWIDTH, high), false);
  assert.equal(flagsAllow(FLAG_HIGH_BANDWIDTH, high), true);
  assert.equal(flagsAllow(FLAG_HIGH_BANDWIDTH, low), false);
  assert.equal(flagsAllow(3, low), true);
  assert.equal(flagsAllow(3, high), true);
  assert.equal(flagsAllow(3, cradledOnly), false);
  assert.equal(flagsAllow(FLAG_CRADLED, high), false);
  assert.equal(flagsAllow(FLAG_CRADLED, cradledOnly), true);
  assert.equal(flagsAllow(FLAG_CRADLED | 0x80, cradledHigh), true);
  assert.equal(flagsAllow(6, cradledOnly), true);
  assert.equal(flagsAllow(6, low), false);
  assert.equal(flagsAllow(7, none), false);
});

test('describeFlags gives a technician words', () => {
  assert.equal(describeFlags(undefined), 'any connection');
  assert.equal(describeFlags(3), 'low or high bandwidth');
  assert.equal(describeFlags(4), 'cradled only');
  assert.equal(describeFlags(6), 'high bandwidth or cradled');
  assert.equal(describeFlags(1), 'low bandwidth only');
  assert.equal(describeFlags(0x14), 'cradled only (unknown bits 0x10 ignored)');
});

test('booleans accept true/false/1/0/yes/no in any case and name the place of a bad one', () => {
  for (const t of ['true', 'TRUE', ' True ', '1', 'yes', 'YES', 'Yes']) assert.equal(parseBooleanText(t, 'D', '/D/x'), true, t);
  for (const f of ['false', 'False', '0', 'no', 'NO', '\nNo\t']) assert.equal(parseBooleanText(f, 'D', '/D/x'), false, f);
  assert.throws(() => parseBooleanText('y', 'PollResponse', '/PollResponse/Settings/X/Enabled'),
    { message: "PollResponse: /PollResponse/Settings/X/Enabled: 'y' is not a yes/no value (use true/false, yes/no or 1/0)" });
});
