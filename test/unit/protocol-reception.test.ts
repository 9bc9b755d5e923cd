// The reception rule (docs/protocol-decisions.md): documents from real CE clients and servers are read as the
// real client reads them — what is valid applies, what is not needed and cannot be read is left out and noted
// with its path — while the parts a wrong guess would make destructive (the package list, Flags) are refused
// piece by piece. Fixtures `*-observed.xml` and `wince-mdm-server-*.xml` are documents seen with a real
// Windows CE 4.21 device and the one public server written against it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  describeAnswer, htmlPageProblem, looksLikeHtml, parseInstructions, parseInventory, parsePollRequest, parsePollResponse,
  parsePollServer, pollServerUrl, ProtocolError,
} from '../../shared/protocol/index.js';
import { serverUrlForPollServer } from '../../electron/engine/client-settings.js';

const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'protocol', name), 'utf8');
const MIN = 60_000;

test('the poll answer of the public CE server applies whole; its empty filter items in disabled blocks are noted, not fatal', () => {
  const v = parsePollResponse(fixture('wince-mdm-server-pollresponse.xml'));
  assert.deepEqual(v.Settings.ClientSettings, {
    version: '1.0', PollServer: '192.168.1.1', PollInterval: MIN, FailureRetryCount: 10, FailureRetryInterval: 10 * MIN,
  });
  assert.deepEqual(v.Settings.SoftwareInventorySettings, { Enabled: false, Interval: MIN, FileFilterItems: [] });
  assert.deepEqual(v.Settings.FileCollectionSettings, { Enabled: false, Interval: MIN, FileFilterItems: [] });
  assert.deepEqual(v.Settings.MachineInventorySettings, { Enabled: false, Interval: MIN, FileFilterItems: [] });
  assert.deepEqual(v.ApplicablePackages, []);
  assert.equal(v.packageListIncomplete, undefined, 'an empty list is a complete list');
  assert.deepEqual(v.ignored, [
    { path: '/PollResponse/Settings/SoftwareInventorySettings/FileFilterItem[1]/Filter', problem: '<Filter> is empty; this filter item is skipped' },
    { path: '/PollResponse/Settings/FileCollectionSettings/FileFilterItem[1]/Filter', problem: '<Filter> is empty; this filter item is skipped' },
  ]);
});

test('each unreadable setting is left out on its own, and the rest applies', () => {
  const doc = fixture('wince-mdm-server-pollresponse.xml')
    .replace('<PollInterval>0000-00-00 00:01:00</PollInterval>', '<PollInterval>soon</PollInterval>')
    .replace('<PollServer>192.168.1.1</PollServer>', '<PollServer>not a host/x</PollServer>')
    .replace('<Enabled>false</Enabled>\n      <Interval>0000-00-00 00:01:00</Interval>\n    </MachineInventorySettings>',
      '<Enabled>maybe</Enabled>\n      <Interval>0000-00-00 00:01:00</Interval>\n    </MachineInventorySettings>')
    .replace('<FileFilterItem><Filter></Filter><Path></Path>', '<FileFilterItem><Filter>*.log</Filter><Path>\\Logs</Path>')
    .replace('</Settings>', '<Frobnicate/></Settings>');
  const v = parsePollResponse(doc);
  assert.deepEqual(v.Settings.ClientSettings, { version: '1.0', FailureRetryCount: 10, FailureRetryInterval: 10 * MIN });
  assert.equal(v.Settings.MachineInventorySettings, undefined, 'a block whose Enabled cannot be read keeps the previous setting');
  assert.deepEqual(v.Settings.FileCollectionSettings?.FileFilterItems,
    [{ Filter: '*.log', Path: '\\Logs', Recursive: true, ExcludeCompressed: false, ExcludeEncrypted: true }]);
  const notes = new Map((v.ignored ?? []).map((i) => [i.path, i.problem]));
  assert.match(notes.get('/PollResponse/Settings/ClientSettings/PollInterval') ?? '', /'soon' is not .*; the current poll interval is kept/);
  assert.match(notes.get('/PollResponse/Settings/ClientSettings/PollServer') ?? '', /'not a host\/x' is not a host name.*; the current poll server is kept/);
  assert.match(notes.get('/PollResponse/Settings/MachineInventorySettings/Enabled') ?? '', /'maybe' is not a yes\/no value .*; the whole <MachineInventorySettings> block is skipped/);
  assert.match(notes.get('/PollResponse/Settings/Frobnicate') ?? '', /not an element Dockhand reads/);
});

test('a Package that cannot be read never lets the list remove packages; a real client\'s poll request parses', () => {
  const v = parsePollResponse(fixture('wince-mdm-server-pollresponse.xml').replace('<ApplicablePackages>\n  </ApplicablePackages>',
    '<ApplicablePackages><Package ID="9A437CA5-5B17-4486-9E87-260742074A72"/><Package id="lower-case attribute"/></ApplicablePackages>'));
  assert.deepEqual(v.ApplicablePackages, ['9A437CA5-5B17-4486-9E87-260742074A72']);
  assert.match(v.packageListIncomplete ?? '', /Package\[2\] has no ID/);
  assert.equal(v.Settings.ClientSettings?.FailureRetryCount, 10, 'the settings still apply');

  const poll = parsePollRequest(fixture('ce421-devicepoll-observed.xml'));
  assert.equal(poll.ManagementSystem.Name, 'SMS Device Management');
  assert.equal(poll.Identification.CodePage, 866);
  assert.deepEqual(poll.Identification.NetworkAdapter, { IPAddress: '192.168.1.2', IPSubnet: '255.255.255.0' });
  assert.deepEqual(poll.Connection, { AuthorizationToken: '0', Timestamp: '0' });
  const inventory = parseInventory(fixture('ce421-inventory-observed.xml'));
  const volumes = inventory.Items.filter((i) => i.name === 'Device_FileSystem');
  assert.deepEqual(volumes.map((i) => [i.Properties[0]?.name, i.Properties[0]?.value]), [['Name', 'root'], ['Name', 'Storage Card'], ['Name', 'ResidentFlash']]);
  assert.equal(inventory.Items.find((i) => i.name === 'Device_OS')?.Properties.find((p) => p.name === 'Platform')?.value, '3');
});

test('instructions: what decides where, when and over which connection is needed; descriptions are not', () => {
  const seed = fixture('seed-instructions.xml');
  const id = /<ID>([^<]+)<\/ID>/.exec(seed)?.[1] ?? '';
  // An unreadable Flags refuses the package: a guess could run a cradled-only package over any network.
  assert.throws(() => parseInstructions(seed.replace('<Flags>03 00 00 00</Flags>', '<Flags>cradled please</Flags>'), id),
    (e: unknown) => e instanceof ProtocolError && /Flags/.test(e.path));
  // A repeated description is noted and left out; the package is read.
  const twice = parseInstructions(seed.replace(/<SourceFiles>/, '<ShortDescription>a</ShortDescription><ShortDescription>b</ShortDescription><SourceFiles>'), id);
  assert.equal(twice.Packages.length, 1);
  assert.equal(twice.Packages[0]?.ShortDescription, undefined);
  assert.ok(twice.warnings?.some((w) => /ShortDescription.*appears \d times/.test(w)), String(twice.warnings));
});

test('HTML and text answers are named in words, one short line, never raw markup', () => {
  const portal = `<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi &amp; more</title><style>body{color:red}</style>
    <script>var x = "<b>not words</b>";</script></head><body><h1>Please   sign in</h1>\n<form><input name=u></form></body></html>`;
  assert.equal(looksLikeHtml(portal), true);
  const problem = htmlPageProblem(portal);
  assert.equal(problem, "the answer is an HTML page, not a Device Management document — a login or captive portal? (first words: 'Guest Wi-Fi & more — Please sign in')");
  assert.throws(() => parsePollResponse(portal), (e: unknown) => e instanceof ProtocolError && e.problem === problem);
  assert.throws(() => parsePollResponse('<html><body>Login</body></html>'), (e: unknown) => e instanceof ProtocolError && /an HTML page/.test(e.problem));
  assert.equal(describeAnswer('Unknown X-Device-Action field: Status'), "'Unknown X-Device-Action field: Status'");
  assert.equal(describeAnswer('<html><title>502 Bad Gateway</title><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>'),
    "an HTML page ('502 Bad Gateway — nginx')");
  assert.throws(() => parsePollResponse('Unknown X-Device-Action field: Poll'),
    (e: unknown) => e instanceof ProtocolError && /the answer is text, not a document \(it starts 'Unknown X-Device-Action field: Poll'\)/.test(e.problem));
  // XML that merely mentions html is not a page.
  assert.equal(looksLikeHtml('<PollResponse><html/></PollResponse>'), false);
});

test('PollServer follows SvrFmt: host → default port and the documented path; host:port; IPv6; a full URL; garbage refused', () => {
  const now = 'https://dm.example.test:8443/custom/path';
  const url = (ps: string, current = now) => serverUrlForPollServer(current, ps);
  assert.equal(url('dm2.example.test'), 'https://dm2.example.test/devicemgmt/server.aspx', 'the scheme is kept, the port is the default');
  assert.equal(url('192.168.1.1', 'http://10.0.0.1:8080/devicemgmt/server.aspx'), 'http://192.168.1.1/devicemgmt/server.aspx');
  assert.equal(url('dm2.example.test:8080'), 'https://dm2.example.test:8080/devicemgmt/server.aspx');
  assert.equal(url('[fd00::7]'), 'https://[fd00::7]/devicemgmt/server.aspx');
  assert.equal(url('[fd00::7]:9000'), 'https://[fd00::7]:9000/devicemgmt/server.aspx');
  assert.equal(url('fd00::7'), 'https://[fd00::7]/devicemgmt/server.aspx');
  assert.equal(url(' DM2.Example.Test '), 'https://dm2.example.test/devicemgmt/server.aspx');
  assert.equal(url('http://dm3.example.test:81/dm/server.aspx?site=4'), 'http://dm3.example.test:81/dm/server.aspx?site=4');
  assert.equal(url('https://[::1]:9443'), 'https://[::1]:9443/');
  assert.equal(url('dm2.example.test', ''), 'http://dm2.example.test/devicemgmt/server.aspx', 'no configured URL: http');
  for (const bad of ['', 'dm example', 'dm/x', 'dm:0', 'dm:70000', 'dm:http', 'user@dm', 'ftp://dm/', 'http://u:p@dm/', 'fe80::1%eth0',
    'javascript:alert(1)', '[zz::1]', 'dm#x', '..\\..', 'http://dm/#frag']) {
    assert.throws(() => parsePollServer(bad), ProtocolError, bad);
    assert.throws(() => url(bad), /the server's PollServer .*; the station keeps polling https:\/\/dm\.example\.test:8443\/custom\/path/, bad);
  }
  assert.deepEqual(parsePollServer('dm:8080'), { host: 'dm', port: 8080 });
  assert.equal(pollServerUrl('http://x/', { host: 'y' }), 'http://y/devicemgmt/server.aspx');
});
