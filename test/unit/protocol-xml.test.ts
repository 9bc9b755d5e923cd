import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseInstructionsRequest, parseStatus, parseDocument, parseInventory, parsePollResponse, buildStatus, buildInventory,
  ProtocolError, DEFAULT_MAX_DOCUMENT_BYTES, MAX_REPORT_BYTES, documentText,
} from '../../shared/protocol/index.js';

const REQ = (ns: string | undefined, id = 'P1'): string =>
  `<?xml version="1.0" encoding="utf-8" ?>\n<InstructionsRequest${ns === undefined ? '' : ` xmlns="${ns}"`}>\n  <Package ID="${id}" />\n</InstructionsRequest>`;

/** Every failure must be a ProtocolError whose message is `document: path: problem`. */
function fails(fn: () => unknown, document: string, pathPart: string, problem: RegExp): void {
  let caught: unknown;
  try { fn(); } catch (err) { caught = err; }
  assert.ok(caught instanceof ProtocolError, `expected a ProtocolError, got ${caught instanceof Error ? caught.stack : String(caught)}`);
  assert.equal(caught.document, document, caught.message);
  assert.equal(caught.path, pathPart, caught.message);
  assert.match(caught.problem, problem, caught.message);
}

test('the namespace may be http, https or absent; any other is refused on the root', () => {
  for (const ns of ['http://www.microsoft.com/DeviceManagement.xsd', 'https://www.microsoft.com/DeviceManagement.xsd', undefined, '']) {
    assert.deepEqual(parseInstructionsRequest(REQ(ns)), { PackageID: 'P1' }, String(ns));
  }
  fails(() => parseInstructionsRequest(REQ('urn:evil')), 'InstructionsRequest', '/InstructionsRequest',
    /namespace 'urn:evil'; expected http:\/\/www\.microsoft\.com\/DeviceManagement\.xsd/);
  // A prefixed root bound to the DM namespace is the same element.
  assert.deepEqual(parseInstructionsRequest('<dm:InstructionsRequest xmlns:dm="http://www.microsoft.com/DeviceManagement.xsd"><dm:Package ID="Q"/></dm:InstructionsRequest>'),
    { PackageID: 'Q' });
  // A child in a foreign namespace is not the DM element of that name.
  fails(() => parseInstructionsRequest('<InstructionsRequest><Package xmlns="urn:other" ID="Q"/></InstructionsRequest>'),
    'InstructionsRequest', '/InstructionsRequest', /missing required element <Package>/);
  fails(() => parseInstructionsRequest('<x:InstructionsRequest><Package ID="Q"/></x:InstructionsRequest>'),
    'InstructionsRequest', '/x:InstructionsRequest', /prefix 'x' is not declared/);
});

test('document bytes: UTF-8 with or without a BOM, UTF-16 told by its BOM or its first character; bad bytes only with fatal', () => {
  const xml = '<?xml version="1.0" encoding="utf-16"?><Status><StatusMessage packageID="Zürich-1" messageID="11030" /></Status>';
  const le = Buffer.from(xml, 'utf16le');
  const be = Buffer.from(le).swap16();
  const forms: Array<[string, Buffer]> = [
    ['utf-8', Buffer.from(xml)], ['utf-8 with BOM', Buffer.from(`\ufeff${xml}`)],
    ['utf-16le with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), le])], ['utf-16le', le],
    ['utf-16be with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), be])], ['utf-16be', be],
  ];
  for (const [name, bytes] of forms) {
    assert.equal(documentText(bytes), xml, name);
    assert.equal(parseDocument(documentText(bytes)).kind, 'Status', name);
  }
  const broken = Buffer.from([0x3c, 0x61, 0xff, 0x3e]);
  assert.equal(documentText(broken), '<a\ufffd>');
  assert.throws(() => documentText(broken, { fatal: true }), TypeError);
});

test('malformed XML is reported with line and column', () => {
  fails(() => parseInstructionsRequest('<InstructionsRequest>\n  <Package ID="a">\n</InstructionsRequest>'),
    'InstructionsRequest', '', /^not well-formed XML at line 3, column \d+: /);
  fails(() => parseInstructionsRequest('<InstructionsRequest><Package ID=a/></InstructionsRequest>'), 'InstructionsRequest', '', /not well-formed XML at line 1/);
  fails(() => parseInstructionsRequest('<InstructionsRequest><Package ID="a" ID="b"/></InstructionsRequest>'), 'InstructionsRequest', '', /repeated/);
  fails(() => parseInstructionsRequest('<InstructionsRequest>'), 'InstructionsRequest', '', /not well-formed XML.*<InstructionsRequest> is never closed/);
  fails(() => parseInstructionsRequest('<A/><B/>'), 'InstructionsRequest', '', /exactly one root element/);
  fails(() => parseInstructionsRequest('<A/>trailing'), 'InstructionsRequest', '', /not well-formed/);
  fails(() => parseInstructionsRequest(''), 'InstructionsRequest', '', /empty/);
  fails(() => parseInstructionsRequest('just text'), 'InstructionsRequest', '', /not well-formed/);
  fails(() => parseInstructionsRequest('<InstructionsRequest>\n<Package ID="a"/>\n<Package ID="b">\n</InstructionsRequest>'),
    'InstructionsRequest', '', /not well-formed XML at line 4, column 1: .*Package/);
  fails(() => parseInstructionsRequest('<InstructionsRequest><Package ID="a & b"/></InstructionsRequest>'), 'InstructionsRequest',
    '/InstructionsRequest/Package/@ID', /a bare '&' must be written as &amp;/);
});

test('the wrong root element is named', () => {
  fails(() => parseInstructionsRequest('<PollResponse><ApplicablePackages/></PollResponse>'), 'InstructionsRequest', '/PollResponse',
    /the root element is <PollResponse>; expected <InstructionsRequest>/);
});

test('DOCTYPE and entity declarations are refused: billion laughs and XXE never expand', () => {
  const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
    <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><InstructionsRequest><Package ID="&lol3;"/></InstructionsRequest>`;
  fails(() => parseInstructionsRequest(laughs), 'InstructionsRequest', '', /DOCTYPE and ENTITY declarations are refused \(line 1, column 22\)/);
  const xxe = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><InstructionsRequest><Package ID="&x;"/></InstructionsRequest>';
  fails(() => parseDocument(xxe), 'document', '', /DOCTYPE/);
  // Without a DOCTYPE, an undeclared entity is simply an error, never a lookup.
  fails(() => parseInstructionsRequest('<InstructionsRequest><Package ID="&x;"/></InstructionsRequest>'),
    'InstructionsRequest', '/InstructionsRequest/Package/@ID', /the entity &x; is not defined/);
  fails(() => parseStatus('<Status><StatusMessage packageID="p" messageID="1"><Parameter name="n">&passwd;</Parameter></StatusMessage></Status>'),
    'Status', '/Status/StatusMessage/Parameter', /&passwd; is not defined/);
});

test('entities and character references decode; CDATA is literal', () => {
  const v = parseStatus(`<Status><StatusMessage packageID="&#x41;&#66;&amp;&lt;&gt;&quot;&apos;" messageID="1" timestamp="">
    <Parameter name="n">&#x1F600; a&amp;b <![CDATA[<raw>&amp;]]></Parameter></StatusMessage></Status>`);
  const m = v.StatusMessages[0];
  assert.equal(m?.packageID, 'AB&<>"\'');
  assert.equal(m?.Parameters[0]?.value, '\u{1F600} a&b <raw>&amp;');
});

test('hostile text: control characters, raw or as references, are refused', () => {
  fails(() => parseInstructionsRequest('<InstructionsRequest><Package ID="a\u0001b"/></InstructionsRequest>'), 'InstructionsRequest', '',
    /U\+0001, which XML does not allow \(line 1, column 36\)/);
  fails(() => parseStatus('<Status>\n<StatusMessage packageID="p" messageID="1">\u001b[31m</StatusMessage></Status>'), 'Status', '',
    /U\+001B.*line 2/);
  fails(() => parseInstructionsRequest('<InstructionsRequest><Package ID="a&#0;b"/></InstructionsRequest>'), 'InstructionsRequest',
    '/InstructionsRequest/Package/@ID', /&#0; names a character XML does not allow/);
  fails(() => parseInstructionsRequest('<InstructionsRequest><Package ID="a&#x7;b"/></InstructionsRequest>'), 'InstructionsRequest',
    '/InstructionsRequest/Package/@ID', /character XML does not allow/);
  fails(() => parseInstructionsRequest('<InstructionsRequest><Package ID="\ud800"/></InstructionsRequest>'), 'InstructionsRequest', '', /U\+D800/);
  // Builders refuse them too, and escape what is merely special.
  assert.throws(() => buildStatus({ StatusMessages: [{ packageID: 'p', messageID: 1, timestamp: '', Parameters: [{ name: 'n', value: 'a\u0000' }] }] }),
    (e: unknown) => e instanceof ProtocolError && e.path === '/Status/StatusMessage/Parameter');
  const inv = buildInventory({ type: 'm"a<c>h&ine', Items: [{ name: 'tab\there\nline', Properties: [] }] });
  assert.match(inv, /type="m&quot;a&lt;c&gt;h&amp;ine"/);
  assert.deepEqual(parseInventory(inv).Items[0]?.name, 'tab\there\nline');
});

test('oversize documents are refused before parsing; the limit is a parse option', () => {
  assert.equal(DEFAULT_MAX_DOCUMENT_BYTES, 1024 * 1024);
  assert.equal(MAX_REPORT_BYTES, 32 * 1024 * 1024);
  const big = REQ(undefined, 'x'.repeat(DEFAULT_MAX_DOCUMENT_BYTES));
  fails(() => parseInstructionsRequest(big), 'InstructionsRequest', '', /larger than the 1048576-byte limit/);
  assert.equal(parseInstructionsRequest(big, { maxBytes: 2 * DEFAULT_MAX_DOCUMENT_BYTES }).PackageID.length, DEFAULT_MAX_DOCUMENT_BYTES);
  // Bytes, not characters: 400 000 three-byte characters are 1.2 MB.
  fails(() => parseInstructionsRequest(REQ(undefined, '€'.repeat(400_000))), 'InstructionsRequest', '', /larger than/);
  fails(() => parseInstructionsRequest(REQ(undefined), { maxBytes: 20 }), 'InstructionsRequest', '', /larger than the 20-byte limit/);
});

test('deep nesting is refused with a ProtocolError, not a stack overflow', () => {
  const deep = `<Inventory>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</Inventory>`;
  fails(() => parseInventory(deep), 'Inventory', '', /nested more than 200 levels/);
  fails(() => parseDocument(deep), 'Inventory', '', /nested more than 200 levels/);
});

test('nothing but ProtocolError escapes, whatever the input', () => {
  const inputs: unknown[] = [
    '<__proto__/>', '<InstructionsRequest><__proto__ ID="x"/><constructor/><Package ID="p"/></InstructionsRequest>',
    '<InstructionsRequest><Package ID="p" __proto__="1" toString="2"/></InstructionsRequest>', '<?xml version="1.0"?>',
    '<!-- only a comment -->', '<a:b xmlns:a=""/>', '<![CDATA[x]]>', '\ufeff<Status/>', '<Status><StatusMessage', '<', '&', ']]>',
    42, null, undefined, { toString: () => '<x/>' },
  ];
  for (const input of inputs) {
    for (const parse of [parseDocument, parseInstructionsRequest, parsePollResponse] as Array<(x: string) => unknown>) {
      try { parse(input as string); } catch (err) {
        assert.ok(err instanceof ProtocolError, `${String(input)} → ${err instanceof Error ? err.stack : String(err)}`);
      }
    }
  }
  // A byte order mark before the root is fine.
  assert.deepEqual(parseInstructionsRequest(`\ufeff${REQ(undefined)}`), { PackageID: 'P1' });
  // Comments and processing instructions around elements are ignored.
  assert.deepEqual(parseInstructionsRequest('<!-- a --><InstructionsRequest><?pi x?><!-- b --><Package ID="p"/></InstructionsRequest>'), { PackageID: 'p' });
});

test('error messages stay one short line even when the input is huge or hostile', () => {
  const hostile = ['<Status>' + '<'.repeat(200_000), '<Status><StatusMessage' + ' '.repeat(200_000) + 'x',
    '<Status/>' + '<!--'.repeat(50_000), `<Status>${'&amp'.repeat(50_000)}</Status>`];
  for (const xml of hostile) {
    const started = performance.now();
    assert.throws(() => parseDocument(xml), (e: unknown) => e instanceof ProtocolError && e.message.length < 400 && !e.message.includes('\n'));
    assert.ok(performance.now() - started < 5000, 'rejected in reasonable time');
  }
});

