import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  parsePollRequest, buildPollRequest, parsePollResponse, buildPollResponse, parseInstructionsRequest,
  buildInstructionsRequest, parsePackageLocationRequest, buildPackageLocationRequest, parsePackageLocation,
  buildPackageLocation, parseStatus, buildStatus, parseFileReport, buildFileReport, parseInventory, buildInventory,
  parseDocument, buildInstructions, ProtocolError, DM_NAMESPACE, STATUS_EXECUTION_FAILED,
  type DevicePoll, type PollResponse, type PackageLocation, type Status, type FileReport, type Inventory,
  type PackageLocationRequest, type DmDocument,
} from '../../shared/protocol/index.js';

const fixture = (name: string): string =>
  readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'protocol', name), 'utf8');
const H = 3600_000, D = 24 * H;
const ID = '9A437CA5-5B17-4486-9E87-260742074A72';

function rejects(fn: () => unknown, pathPart: string, problem: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    assert.equal(err.path, pathPart, err.message);
    assert.match(err.problem, problem, err.message);
    return true;
  });
}

// ---- DevicePoll ------------------------------------------------------------------------------

test('DevicePoll: the spec example parses', () => {
  const v = parsePollRequest(fixture('spec-devicepoll.xml'));
  assert.deepEqual(v, {
    ManagementSystem: { Name: 'SMS Device Management', Version: '2.5.0.0' },
    Identification: {
      ID: '43004500500043000000434550434B5335343934350000000000', DeviceName: 'CEPC01', UserName: 'operator', Domain: 'CONTOSO',
      Platform: 'CEPC', Processor: '586', CodePage: 1252, SystemDefaultLCID: 1033,
      NetworkAdapter: { IPAddress: '192.168.0.10', IPSubnet: '255.255.255.0', MAC: '00-03-FF-12-34-56' },
    },
    Connection: { AuthorizationToken: 'd302b047-c9a2-4a11-a392-df84195d2808', Timestamp: '11/11/2002 10:40:30 AM' },
  } satisfies DevicePoll);
});

test('DevicePoll: a real client\'s order, codePage spelling and missing Domain are accepted', () => {
  const v = parsePollRequest(fixture('ce421-devicepoll.xml'));
  assert.equal(v.Identification.CodePage, 1251);
  assert.equal(v.Identification.UserName, 'SHOP\\cashier');
  assert.equal(v.Identification.Domain, undefined);
  assert.equal(v.Identification.NetworkAdapter?.MAC, '00-08-22-05-26-CB');
  assert.deepEqual(v.Connection, { AuthorizationToken: '0', Timestamp: '0' });
});

test('DevicePoll: round-trips, with and without optional parts', () => {
  const full = parsePollRequest(fixture('spec-devicepoll.xml'));
  assert.deepEqual(parsePollRequest(buildPollRequest(full)), full);
  const bare: DevicePoll = { ManagementSystem: { Name: 'Dockhand', Version: '0.1.0' },
    Identification: { ID: 'x', DeviceName: 'd', Platform: 'p', Processor: '1', CodePage: 65001, SystemDefaultLCID: 1031 }, Connection: {} };
  const xml = buildPollRequest(bare);
  assert.match(xml, /<CodePage>65001<\/CodePage>/);
  assert.deepEqual(parsePollRequest(xml), bare);
});

test('DevicePoll: missing or bad required values are named', () => {
  const xml = fixture('spec-devicepoll.xml');
  rejects(() => parsePollRequest(xml.replace('<DeviceName>CEPC01</DeviceName>', '')), '/DevicePoll/Identification', /missing required element <DeviceName>/);
  rejects(() => parsePollRequest(xml.replace('1252', 'cp1252')), '/DevicePoll/Identification/CodePage', /'cp1252' is not a non-negative decimal/);
  rejects(() => parsePollRequest(xml.replace('<CodePage>1252</CodePage>', '<CodePage>1252</CodePage><codePage>1252</codePage>')),
    '/DevicePoll/Identification', /appears 2 times/);
  rejects(() => parsePollRequest(xml.replace(/<ManagementSystem>.*<\/ManagementSystem>/, '')), '/DevicePoll', /<ManagementSystem>/);
});

// ---- PollResponse ----------------------------------------------------------------------------

test('PollResponse: the spec example parses', () => {
  assert.deepEqual(parsePollResponse(fixture('spec-pollresponse.xml')), {
    Settings: {
      ClientSettings: { version: '1.0', PollServer: 'dmserver.contoso.com', PollInterval: H, FailureRetryCount: 5, FailureRetryInterval: 180_000 },
      SoftwareInventorySettings: { Enabled: true, Interval: D, FileFilterItems: [
        { Filter: '*.exe', Path: '\\Windows', Recursive: true, ExcludeCompressed: false, ExcludeEncrypted: true }] },
      FileCollectionSettings: { Enabled: false, Interval: 7 * D, FileFilterItems: [] },
      MachineInventorySettings: { Enabled: true, Interval: D, FileFilterItems: [] },
    },
    ApplicablePackages: [ID],
  } satisfies PollResponse);
});

test('PollResponse: lenient spellings; a block without Enabled is enabled; an empty list is fine', () => {
  const v = parsePollResponse(`<PollResponse><Settings><MachineInventorySettings version="1.0"><Interval>0000-00-01 00:00:00</Interval>
    </MachineInventorySettings><SoftwareInventorySettings><Enabled>True</Enabled><FileFilterItem><Path>\\</Path><Filter>*</Filter>
    <Recursive>YES</Recursive></FileFilterItem></SoftwareInventorySettings></Settings><ApplicablePackages/></PollResponse>`);
  assert.deepEqual(v.Settings.MachineInventorySettings, { Enabled: true, Interval: D, FileFilterItems: [] });
  assert.deepEqual(v.Settings.SoftwareInventorySettings?.FileFilterItems,
    [{ Filter: '*', Path: '\\', Recursive: true, ExcludeCompressed: false, ExcludeEncrypted: false }]);
  assert.deepEqual(v.ApplicablePackages, []);
  assert.deepEqual(v.Settings.ClientSettings, undefined);
});

test('PollResponse: a missing or unreadable package list applies the settings but removes nothing', () => {
  // Changed by issue 7 (reception rule): the document is no longer refused whole; the list is marked
  // incomplete, so the client acquires what is listed and never reads the gap as "remove everything".
  const missing = parsePollResponse('<PollResponse><Settings><ClientSettings><FailureRetryCount>2</FailureRetryCount></ClientSettings></Settings></PollResponse>');
  assert.equal(missing.Settings.ClientSettings?.FailureRetryCount, 2);
  assert.deepEqual(missing.ApplicablePackages, []);
  assert.match(missing.packageListIncomplete ?? '', /no <ApplicablePackages>/);
  const noId = parsePollResponse('<PollResponse><ApplicablePackages><Package ID="A"/><Package/><Package ID=" "/></ApplicablePackages></PollResponse>');
  assert.deepEqual(noId.ApplicablePackages, ['A']);
  assert.match(noId.packageListIncomplete ?? '', /Package\[2\] has no ID; .*Package\[3\] has no ID/);
  assert.deepEqual(noId.ignored?.map((i) => i.path), ['/PollResponse/ApplicablePackages/Package[2]', '/PollResponse/ApplicablePackages/Package[3]']);
  // A complete list says nothing.
  assert.equal(parsePollResponse('<PollResponse><ApplicablePackages/></PollResponse>').packageListIncomplete, undefined);
  // A zero PollInterval is ignored, the rest of the settings apply.
  const zero = parsePollResponse(fixture('spec-pollresponse.xml').replace('0000-00-00 01:00:00', '0000-00-00 00:00:00'));
  assert.equal(zero.Settings.ClientSettings?.PollInterval, undefined);
  assert.equal(zero.Settings.ClientSettings?.FailureRetryCount, 5);
  assert.deepEqual(zero.ignored?.map((i) => i.path), ['/PollResponse/Settings/ClientSettings/PollInterval']);
  assert.match(zero.ignored?.[0]?.problem ?? '', /not a positive duration; the current poll interval is kept/);
  assert.deepEqual(zero.ApplicablePackages, [ID]);
});

test('PollResponse: round-trips; booleans are written true/false and Enabled in every block', () => {
  const v = parsePollResponse(fixture('spec-pollresponse.xml'));
  const xml = buildPollResponse(v);
  assert.ok(xml.startsWith(`<?xml version="1.0" encoding="utf-8" ?>\n<PollResponse xmlns="${DM_NAMESPACE}">`));
  assert.equal(xml.match(/<Enabled>/g)?.length, 3);
  assert.deepEqual(parsePollResponse(xml), v);
  const empty: PollResponse = { Settings: {}, ApplicablePackages: [] };
  assert.doesNotMatch(buildPollResponse(empty), /Settings/);
  assert.deepEqual(parsePollResponse(buildPollResponse(empty)), empty);
  assert.throws(() => buildPollResponse({ Settings: { ClientSettings: { PollInterval: 0 } }, ApplicablePackages: [] }), ProtocolError);
});

// ---- InstructionsRequest ---------------------------------------------------------------------

test('InstructionsRequest: parses, round-trips, and wants exactly one Package with an ID', () => {
  assert.deepEqual(parseInstructionsRequest(fixture('spec-instructionsrequest.xml')), { PackageID: ID });
  assert.deepEqual(parseInstructionsRequest(buildInstructionsRequest({ PackageID: 'a&b' })), { PackageID: 'a&b' });
  rejects(() => parseInstructionsRequest('<InstructionsRequest/>'), '/InstructionsRequest', /missing required element <Package>/);
  rejects(() => parseInstructionsRequest('<InstructionsRequest><Package ID="a"/><Package ID="b"/></InstructionsRequest>'),
    '/InstructionsRequest', /appears 2 times/);
  rejects(() => parseInstructionsRequest('<InstructionsRequest><Package ID=""/></InstructionsRequest>'),
    '/InstructionsRequest/Package/@ID', /empty/);
});

// ---- PackageLocationRequest ------------------------------------------------------------------

test('PackageLocationRequest: parses and round-trips', () => {
  const v = parsePackageLocationRequest(fixture('spec-packagelocationrequest.xml'));
  assert.deepEqual(v, { PackageID: ID, ClientLocation: { DirectoryService: { Name: 'CONTOSO' },
    IPAddresses: [{ address: '192.168.0.10', subnet: '192.168.0.0' }] } } satisfies PackageLocationRequest);
  assert.deepEqual(parsePackageLocationRequest(buildPackageLocationRequest(v)), v);
  const bare: PackageLocationRequest = { PackageID: 'P', ClientLocation: { IPAddresses: [] } };
  assert.deepEqual(parsePackageLocationRequest(buildPackageLocationRequest(bare)), bare);
  rejects(() => parsePackageLocationRequest('<PackageLocationRequest><ClientLocation/></PackageLocationRequest>'),
    '/PackageLocationRequest', /missing required element <PackageID>/);
});

// ---- PackageLocation -------------------------------------------------------------------------

test('PackageLocation: parses the spec example; locations come sorted by metric, ties in order', () => {
  const v = parsePackageLocation(fixture('spec-packagelocation.xml'));
  assert.deepEqual(v.Locations, [{ metric: 5, SMBPath: `\\\\dmserver\\SMSPKG\\${ID}`,
    URL: `http://dmserver.contoso.com/SMSPKG/${ID}/setup.exe`, DirectoryServiceName: 'CONTOSO', Subnets: ['192.168.0.0'] }]);
  const many = parsePackageLocation(`<PackageLocation><PackageID>P</PackageID><Locations>
    <Location><HTTP><URL>http://none/</URL></HTTP></Location>
    <Location metric="9"><HTTP><URL>http://nine-a/</URL></HTTP></Location>
    <Location metric="1"><SMB><SMBPath>\\\\one\\p</SMBPath></SMB></Location>
    <Location metric="9"><HTTP><URL>http://nine-b/</URL></HTTP></Location></Locations></PackageLocation>`);
  assert.deepEqual(many.Locations.map((l) => l.URL ?? l.SMBPath), ['\\\\one\\p', 'http://nine-a/', 'http://nine-b/', 'http://none/']);
});

test('PackageLocation: round-trips and rejects unusable locations', () => {
  const v: PackageLocation = { PackageID: ID, Locations: [
    { metric: 1, URL: 'http://127.0.0.1:8080/pkg/a.cab?x=1&y=2', Subnets: [] },
    { SMBPath: '\\\\srv\\share', DirectoryServiceName: 'D', Subnets: ['10.0.0.0', '10.1.0.0'] }] };
  const xml = buildPackageLocation(v);
  assert.match(xml, /a\.cab\?x=1&amp;y=2/);
  assert.deepEqual(parsePackageLocation(xml), v);
  rejects(() => parsePackageLocation('<PackageLocation><PackageID>P</PackageID><Locations/></PackageLocation>'),
    '/PackageLocation/Locations', /no <Location>/);
  rejects(() => parsePackageLocation('<PackageLocation><PackageID>P</PackageID><Locations><Location metric="1"/></Locations></PackageLocation>'),
    '/PackageLocation/Locations/Location[1]', /neither <HTTP><URL> nor <SMB><SMBPath>/);
  // Changed by issue 7 (reception rule): an unreadable metric only costs the location its rank, and an
  // unusable location is skipped when another one is usable; both are noted in `ignored`.
  const lenient = parsePackageLocation('<PackageLocation><PackageID>P</PackageID><Locations><Location metric="-2"><HTTP><URL>u</URL></HTTP></Location>' +
    '<Location metric="1"/><Location metric="5"><HTTP><URL>v</URL></HTTP></Location></Locations></PackageLocation>');
  assert.deepEqual(lenient.Locations.map((l) => l.URL), ['v', 'u']);
  assert.deepEqual(lenient.ignored?.map((i) => i.path), ['/PackageLocation/Locations/Location[1]/@metric', '/PackageLocation/Locations/Location[2]']);
  assert.match(lenient.ignored?.[0]?.problem ?? '', /not a non-negative decimal/);
});

// ---- Status ----------------------------------------------------------------------------------

test('Status: the spec example parses and round-trips with parameters', () => {
  assert.deepEqual(parseStatus(fixture('spec-status.xml')), { StatusMessages: [
    { packageID: ID, messageID: 11031, timestamp: '2002-11-11 10:52:10', Parameters: [] }] });
  const v: Status = { StatusMessages: [
    { packageID: ID, messageID: 11030, timestamp: '2002-11-11 10:52:00', Parameters: [] },
    { packageID: ID, messageID: STATUS_EXECUTION_FAILED, timestamp: '', Parameters: [
      { name: 'ExitCode', value: '3' }, { name: 'Reason', value: 'setup said "no" & <quit>' }] }] };
  assert.deepEqual(parseStatus(buildStatus(v)), v);
});

test('Status: the schema errata (unterminated start tag, Parameter as sibling) and empty timestamps are accepted', () => {
  const expected = { StatusMessages: [{ packageID: ID, messageID: 20035, timestamp: '', Parameters: [
    { name: 'ExitCode', value: '3' }, { name: 'Reason', value: 'setup.exe returned 3' }] }] };
  assert.deepEqual(parseStatus(fixture('errata-status.xml')), expected);
  assert.deepEqual(parseDocument(fixture('errata-status.xml')), { kind: 'Status', value: expected });
  const siblings = `<Status><StatusMessage packageID="${ID}" messageID="20035"/><Parameter name="ExitCode">3</Parameter>
    <Parameter name="Reason">setup.exe returned 3</Parameter></Status>`;
  assert.deepEqual(parseStatus(siblings), expected);
  rejects(() => parseStatus('<Status><Parameter name="x">1</Parameter></Status>'), '/Status/Parameter[1]', /before any <StatusMessage>/);
  rejects(() => parseStatus('<Status/>'), '/Status', /no <StatusMessage>/);
  rejects(() => parseStatus(`<Status><StatusMessage packageID="p" messageID="11031x" timestamp=""/></Status>`),
    '/Status/StatusMessage[1]/@messageID', /not a non-negative decimal/);
});

// ---- FileReport ------------------------------------------------------------------------------

test('FileReport: the sample parses, nested, with escapes and empty attributes kept', () => {
  const v = parseFileReport(fixture('sample-filereport.xml'));
  const root = v.Directories[0];
  assert.equal(root?.Name, '\\myFolder');
  assert.equal(root?.Attributes, '');
  assert.deepEqual(root?.Files[0], { Name: 'Messenger.lnk', Version: '0.0.0', Company: '', Description: '', Size: 22,
    Created: '1999-06-01 12:00:00', LastModified: '1999-06-01 12:00:00', LastAccessed: '1999-06-01 12:00:00', Attributes: 'ARCHIVE' });
  const sub = root?.Directories[0];
  assert.equal(sub?.Attributes, 'HIDDEN|SYSTEM');
  assert.equal(sub?.Files[0]?.Company, 'Contoso & Sons');
  assert.equal(sub?.Files[0]?.Description, 'Scanner <main>');
  assert.equal(sub?.Files[0]?.Size, 104857);
});

test('FileReport: round-trips with no declaration and no namespace', () => {
  const v: FileReport = { Directories: [{ Name: '\\Windows', Directories: [{ Name: '\\Windows\\Fonts', Directories: [], Files: [] }],
    Files: [{ Name: 'a "b".exe', Size: 0 }, { Name: 'c.dll', Size: 2 ** 40, Version: '1.0', Attributes: 'READONLY|SYSTEM' }] }] };
  const xml = buildFileReport(v);
  assert.ok(xml.startsWith('<FileReport>'));
  assert.deepEqual(parseFileReport(xml), v);
  rejects(() => parseFileReport('<FileReport><Directory Name="\\"><File Name="x"/></Directory></FileReport>'),
    '/FileReport/Directory[1]/File[1]', /missing required attribute Size/);
});

// ---- Inventory -------------------------------------------------------------------------------

test('Inventory: a real-client-like report parses, repeated items kept; round-trips', () => {
  const v = parseInventory(fixture('ce421-inventory.xml'));
  assert.equal(v.type, 'machine');
  assert.deepEqual(v.Items.filter((i) => i.name === 'Device_FileSystem').map((i) => i.Properties[0]?.value), ['root', 'Storage Card']);
  assert.equal(v.Items[2]?.Properties.find((p) => p.name === 'Bandwidth')?.value, '10000000');
  const xml = buildInventory(v);
  assert.ok(xml.startsWith('<Inventory type="machine">'));
  assert.deepEqual(parseInventory(xml), v);
  const tiny: Inventory = { type: 'machine', Items: [{ name: 'Device_OS', Properties: [{ name: 'Empty', value: '' }] }] };
  assert.deepEqual(parseInventory(buildInventory(tiny)), tiny);
  assert.equal(parseInventory('<Inventory/>').type, 'machine');
});

// ---- parseDocument ---------------------------------------------------------------------------

test('parseDocument dispatches on the root element for every document', () => {
  const cases: Array<[string, DmDocument['kind']]> = [
    ['spec-devicepoll.xml', 'DevicePoll'], ['spec-pollresponse.xml', 'PollResponse'],
    ['spec-instructionsrequest.xml', 'InstructionsRequest'], ['seed-instructions.xml', 'Instructions'],
    ['spec-packagelocationrequest.xml', 'PackageLocationRequest'], ['spec-packagelocation.xml', 'PackageLocation'],
    ['spec-status.xml', 'Status'], ['sample-filereport.xml', 'FileReport'], ['ce421-inventory.xml', 'Inventory'],
  ];
  for (const [file, kind] of cases) assert.equal(parseDocument(fixture(file)).kind, kind, file);
  rejects(() => parseDocument('<Html><Body/></Html>'), '/Html', /not a Device Management document/);
  // Builders' output is recognised too.
  const built = buildInstructions({ Packages: [{ Required: true, Name: 'n', LocalDestination: '\\t', SourceFiles: true }] });
  assert.equal(parseDocument(built).kind, 'Instructions');
});

test('parseDocument keeps the 1 MiB limit for control documents but lets reports be larger', () => {
  const pad = 'x'.repeat(1024 * 1024);
  const bigStatus = `<Status><StatusMessage packageID="p" messageID="1" timestamp=""><Parameter name="n">${pad}</Parameter></StatusMessage></Status>`;
  rejects(() => parseDocument(bigStatus), '', /larger than the 1048576-byte limit/);
  assert.equal(parseDocument(bigStatus, { maxBytes: 4 * 1024 * 1024 }).kind, 'Status');
  const bigReport = `<Inventory type="machine"><InventoryItem name="i"><Property name="p">${pad}</Property></InventoryItem></Inventory>`;
  assert.equal(parseDocument(bigReport).kind, 'Inventory');
  assert.equal(parseInventory(bigReport).Items.length, 1);
});

test('builders refuse blank required values, naming the element', () => {
  const cases: Array<[() => unknown, string]> = [
    [() => buildInstructionsRequest({ PackageID: ' ' }), '/InstructionsRequest/Package/@ID'],
    [() => buildInstructions({ Packages: [{ Required: true, Name: '', LocalDestination: '\\t', SourceFiles: true }] }), '/Instructions/Package[1]/Name'],
    [() => buildPollResponse({ Settings: {}, ApplicablePackages: ['a', ''] }), '/PollResponse/ApplicablePackages/Package[2]/@ID'],
    [() => buildPollRequest({ ManagementSystem: { Name: 'n', Version: 'v' }, Connection: {},
      Identification: { ID: '', DeviceName: 'd', Platform: 'p', Processor: '1', CodePage: 1, SystemDefaultLCID: 1 } }), '/DevicePoll/Identification/ID'],
    [() => buildPackageLocationRequest({ PackageID: '', ClientLocation: { IPAddresses: [] } }), '/PackageLocationRequest/PackageID'],
    [() => buildPackageLocation({ PackageID: 'p', Locations: [{ Subnets: [] }] }), '/PackageLocation/Locations/Location[1]/HTTP/URL'],
    [() => buildStatus({ StatusMessages: [{ packageID: '', messageID: 1, timestamp: '', Parameters: [] }] }), '/Status/StatusMessage[1]/@packageID'],
    [() => buildFileReport({ Directories: [{ Name: '\\', Directories: [], Files: [{ Name: '', Size: 1 }] }] }), '/FileReport/Directory[1]/File[1]/@Name'],
    [() => buildInventory({ type: 'machine', Items: [{ name: 'i', Properties: [{ name: '', value: 'v' }] }] }), '/Inventory/InventoryItem[1]/Property[1]/@name'],
  ];
  for (const [build, at] of cases) rejects(build, at, /required value is missing or empty/);
});
