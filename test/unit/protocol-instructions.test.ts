import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  parseInstructions, buildInstructions, parseDocument, ProtocolError, DOCKHAND_NAMESPACE,
  type Instructions, type PackageInstructions,
} from '../../shared/protocol/index.js';

const fixture = (name: string): string =>
  readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'protocol', name), 'utf8');
const SEED = fixture('seed-instructions.xml');
const SEED_ID = '9A437CA5-5B17-4486-9E87-260742074A72';
const DAY_MS = 24 * 60 * 60 * 1000;

/** Expects a ProtocolError whose path and problem match. */
function rejects(fn: () => unknown, pathPart: string | RegExp, problem: RegExp): ProtocolError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    if (typeof pathPart === 'string') assert.equal(err.path, pathPart, err.message);
    else assert.match(err.path, pathPart, err.message);
    assert.match(err.problem, problem, err.message);
    assert.equal(err.message, [err.document, err.path, err.problem].filter(Boolean).join(': '));
    assert.equal(err.code, 'PROTOCOL');
    return err;
  }
  assert.fail('expected a ProtocolError');
}

function onePackage(doc: Instructions): PackageInstructions {
  assert.equal(doc.Packages.length, 1);
  return doc.Packages[0] as PackageInstructions;
}

test('the seed instruction response parses to exactly its values', () => {
  const doc = parseInstructions(SEED);
  const p = onePackage(doc);
  assert.equal(p.ID, SEED_ID);
  assert.equal(p.Required, true);
  assert.equal(p.Name, 'sample directory download');
  assert.equal(p.ShortDescription, 'short of W directory');
  assert.equal(p.LongDescription, 'long of W directory');
  assert.equal(p.Flags, 3);
  assert.deepEqual(p.StartTime, { time: { year: 2002, month: 8, day: 29, hour: 0, minute: 0, second: 0 }, UTC: false });
  assert.equal(p.SourceFiles, true);
  assert.deepEqual(p.Recurrence, { Interval: DAY_MS, Behavior: 'Download and Execute' });
  assert.equal(p.LocalDestination, '\\temp');
  assert.equal(p.CommandLine, 'install.cab');
  assert.equal(p.PackageSize, 9448526);
  assert.equal(p.SHA256, undefined);
  assert.equal(doc.warnings, undefined);
  // Nothing else was invented.
  assert.deepEqual(Object.keys(p).sort(), ['CommandLine', 'Flags', 'ID', 'LocalDestination', 'LongDescription', 'Name',
    'PackageSize', 'Recurrence', 'Required', 'ShortDescription', 'SourceFiles', 'StartTime']);
});

test('the seed (https namespace) is also recognised by parseDocument', () => {
  const doc = parseDocument(SEED);
  assert.equal(doc.kind, 'Instructions');
  assert.deepEqual(doc.value, parseInstructions(SEED));
});

test('the spec example (Yes spellings, Execute Only, UTC start, no ID) parses', () => {
  const p = onePackage(parseInstructions(fixture('spec-instructions.xml')));
  assert.equal(p.ID, undefined);
  assert.equal(p.Required, true);
  assert.equal(p.SourceFiles, true);
  assert.deepEqual(p.Recurrence, { Interval: DAY_MS, Behavior: 'Execute Only' });
  assert.deepEqual(p.StartTime, { time: { year: 2002, month: 11, day: 11, hour: 10, minute: 45, second: 0 }, UTC: true });
  assert.equal(p.CommandLine, '\\Temp\\ContosoScanner\\setup.exe /q');
});

test('a missing Package/ID is filled from the requested ID', () => {
  const p = onePackage(parseInstructions(fixture('spec-instructions.xml'), 'REQ-1'));
  assert.equal(p.ID, 'REQ-1');
});

test('a Package/ID that differs from the request keeps the request and records a warning', () => {
  const doc = parseInstructions(SEED, 'OTHER-ID');
  assert.equal(onePackage(doc).ID, 'OTHER-ID');
  assert.equal(doc.warnings?.length, 1);
  assert.match(doc.warnings?.[0] ?? '', /\/Instructions\/Package\[1\]\/ID: .*9A437CA5.*OTHER-ID/);
  // The same ID in another case is the same GUID: no warning.
  assert.equal(parseInstructions(SEED, SEED_ID.toLowerCase()).warnings, undefined);
});

test('LocalDestination and CommandLine are accepted under Recurrence (errata 7); Package wins', () => {
  const moved = SEED
    .replace('<LocalDestination>\\temp</LocalDestination>', '')
    .replace('<CommandLine>install.cab</CommandLine>', '')
    .replace('</Behavior>', '</Behavior><LocalDestination>\\rec</LocalDestination><CommandLine>rec.cab</CommandLine>');
  const p = onePackage(parseInstructions(moved));
  assert.equal(p.LocalDestination, '\\rec');
  assert.equal(p.CommandLine, 'rec.cab');
  const both = SEED.replace('</Behavior>', '</Behavior><LocalDestination>\\rec</LocalDestination>');
  assert.equal(onePackage(parseInstructions(both)).LocalDestination, '\\temp');
});

test('element order, whitespace and boolean spellings do not matter', () => {
  const xml = `<Instructions><Package>
    <PackageSize> 10 </PackageSize><LocalDestination>
      \\dest
    </LocalDestination><SourceFiles>no</SourceFiles><Name>n</Name><Required>0</Required><Flags>04</Flags>
  </Package></Instructions>`;
  const p = onePackage(parseInstructions(xml));
  assert.deepEqual(p, { Required: false, Name: 'n', Flags: 4, SourceFiles: false, LocalDestination: '\\dest', PackageSize: 10 });
});

test('the Dockhand SHA-256 extension is written namespaced and read back; other unknown elements are ignored', () => {
  const base = onePackage(parseInstructions(SEED));
  const sha = 'a'.repeat(64);
  const xml = buildInstructions({ Packages: [{ ...base, SHA256: sha }] });
  assert.match(xml, new RegExp(`<dh:SHA256 xmlns:dh="${DOCKHAND_NAMESPACE}">${sha}</dh:SHA256>`));
  assert.equal(onePackage(parseInstructions(xml)).SHA256, sha);
  const upper = SEED.replace('</Package>', `<x:SHA256 xmlns:x="${DOCKHAND_NAMESPACE}">${'AB'.repeat(32)}</x:SHA256><Vendor>ignored</Vendor><o:SHA256 xmlns:o="urn:other">zz</o:SHA256></Package>`);
  assert.equal(onePackage(parseInstructions(upper)).SHA256, 'ab'.repeat(32));
  const bad = SEED.replace('</Package>', `<dh:SHA256 xmlns:dh="${DOCKHAND_NAMESPACE}">abc</dh:SHA256></Package>`);
  rejects(() => parseInstructions(bad), '/Instructions/Package[1]/SHA256', /'abc' is not a SHA-256/);
});

test('build → parse gives the same value, for one and for several packages', () => {
  const first = onePackage(parseInstructions(SEED));
  const value: Instructions = {
    Packages: [
      { ...first, SHA256: 'f'.repeat(64) },
      { ID: 'B', Required: false, Name: 'Tom & Jerry <"quoted">', LocalDestination: '\\Program Files\\x', SourceFiles: false,
        CommandLine: 'setup.exe /q "a & b"', Flags: 0x06, StartTime: { time: { year: 2030, month: 2, day: 28, hour: 23, minute: 59, second: 59 }, UTC: true },
        Recurrence: { Interval: 90 * 60 * 1000, Behavior: 'Execute Only' } },
    ],
  };
  const xml = buildInstructions(value);
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="utf-8" ?>\n<Instructions xmlns="http://www.microsoft.com/DeviceManagement.xsd">'));
  assert.doesNotMatch(xml, /CDATA|<!--/);
  assert.match(xml, /Tom &amp; Jerry &lt;"quoted"&gt;/);
  assert.match(xml, /<Required>true<\/Required>/);
  assert.match(xml, /<SourceFiles>NO<\/SourceFiles>/);
  assert.match(xml, /<Interval>0000-00-00 01:30:00<\/Interval>/);
  assert.deepEqual(parseInstructions(xml), value);
});

test('bad instruction documents name the element and the problem', () => {
  const at = '/Instructions/Package[1]';
  rejects(() => parseInstructions(SEED.replace('0000-00-01 00:00:00', '0000-00-00 00:00:00')),
    `${at}/Recurrence/Interval`, /^'0000-00-00 00:00:00' is not a positive duration$/);
  rejects(() => parseInstructions(SEED.replace('Download and Execute', 'Download Sometimes')),
    `${at}/Recurrence/Behavior`, /'Download Sometimes' is not a recurrence behavior/);
  rejects(() => parseInstructions(SEED.replace('<Behavior>Download and Execute</Behavior>', '')),
    `${at}/Recurrence`, /missing required element <Behavior>/);
  rejects(() => parseInstructions(SEED.replace('<Name>sample directory download</Name>', '')),
    at, /missing required element <Name>/);
  rejects(() => parseInstructions(SEED.replace('<LocalDestination>\\temp</LocalDestination>', '')),
    at, /missing required element <LocalDestination>/);
  rejects(() => parseInstructions(SEED.replace('<Required>true</Required>', '<Required>maybe</Required>')),
    `${at}/Required`, /'maybe' is not a yes\/no value/);
  rejects(() => parseInstructions(SEED.replace('03 00 00 00', '0x03')), `${at}/Flags`, /not a connection mask/);
  rejects(() => parseInstructions(SEED.replace('2002-08-29 00:00:00', '2002-02-30 00:00:00')), `${at}/StartTime`, /day 30/);
  rejects(() => parseInstructions(SEED.replace('UTC="false"', 'UTC="local"')), `${at}/StartTime/@UTC`, /not a yes\/no/);
  rejects(() => parseInstructions('<Instructions xmlns="http://www.microsoft.com/DeviceManagement.xsd" />'),
    '/Instructions', /no <Package> element/);
  rejects(() => parseInstructions(SEED.replace('<Name>sample', '<Name>a</Name><Name>sample')), at, /<Name> appears 2 times/);
});

test('a lying PackageSize is refused: negative, not decimal, beyond 2^53', () => {
  const at = '/Instructions/Package[1]/PackageSize';
  for (const bad of ['-1', '0x10', '1e6', '12.5', 'ten', '9007199254740992', '99999999999999999999']) {
    rejects(() => parseInstructions(SEED.replace('9448526', bad)), at, /not a non-negative decimal number|larger than 2\^53/);
  }
  assert.equal(onePackage(parseInstructions(SEED.replace('9448526', '9007199254740991'))).PackageSize, 2 ** 53 - 1);
  assert.equal(onePackage(parseInstructions(SEED.replace('9448526', '0'))).PackageSize, 0);
});

test('builders refuse values they could not write correctly', () => {
  const p = onePackage(parseInstructions(SEED));
  assert.throws(() => buildInstructions({ Packages: [] }), ProtocolError);
  rejects(() => buildInstructions({ Packages: [{ ...p, PackageSize: -5 }] }), '/Instructions/Package[1]/PackageSize', /not a whole number/);
  rejects(() => buildInstructions({ Packages: [{ ...p, Recurrence: { Interval: 0, Behavior: 'Execute Only' } }] }),
    '/Instructions/Package[1]/Recurrence/Interval', /not a positive duration/);
  rejects(() => buildInstructions({ Packages: [{ ...p, Name: 'bell\u0007' }] }), '/Instructions/Package/Name', /U\+0007/);
  rejects(() => buildInstructions({ Packages: [{ ...p, Flags: 2 ** 32 }] }), '/Instructions/Package[1]/Flags', /32-bit/);
  rejects(() => buildInstructions({ Packages: [{ ...p, SHA256: 'xyz' }] }), '/Instructions/Package[1]/SHA256', /SHA-256/);
});
