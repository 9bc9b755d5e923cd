// The bounds on a device's answers (shared/link/answer-limits.ts, docs/link-protocol.md §6.2), and the
// agent's side of them: a listing too large for one message is cut to fit and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBody } from '../../shared/link/bodies.js';
import { MAX_LISTED_ENTRIES, MAX_LISTING_DEPTH } from '../../shared/link/answer-limits.js';
import { fitListing } from '../../agent/handlers.js';
import type { InventoryDirectory } from '../../shared/protocol/types.js';

const file = (i: number) => ({ Name: `file-${i}.dat`, Size: i, Version: '0.0.0', Company: '', Description: '', Attributes: 'ARCHIVE' });

test('listings: too many entries or folders nested deeper than a device path can be are refused as over a limit', () => {
  const wide = { report: { Directories: [{ Name: '\\A', Directories: [], Files: Array.from({ length: MAX_LISTED_ENTRIES }, (_, i) => file(i)) }] }, truncated: false, warnings: [] };
  const over = checkBody('LIST_FILES_REPLY', wide);
  assert.ok(!over.ok && over.overLimit, JSON.stringify(over).slice(0, 200));
  assert.match(over.ok ? '' : over.problem, /more than 50,000 folders and files/);
  wide.report.Directories[0]!.Files.pop();
  assert.equal(checkBody('LIST_FILES_REPLY', wide).ok, true, 'exactly at the limit is fine');

  let deep: InventoryDirectory = { Name: '\\x', Directories: [], Files: [] };
  for (let i = 0; i < 5000; i++) deep = { Name: '\\x', Directories: [deep], Files: [] }; // would exhaust a recursive schema
  const nested = checkBody('LIST_FILES_REPLY', { report: { Directories: [deep] }, truncated: false, warnings: [] });
  assert.ok(!nested.ok && nested.overLimit);
  assert.match(nested.ok ? '' : nested.problem, new RegExp(`nested more than ${MAX_LISTING_DEPTH} folders deep`));
  // A malformed answer is still malformed, not over a limit.
  const bad = checkBody('LIST_FILES_REPLY', { report: { Directories: 'nope' }, truncated: false, warnings: [] });
  assert.ok(!bad.ok && bad.overLimit === undefined);
});

test('the agent cuts a listing that would not fit in one message, last files first, and says so', () => {
  const dirs: InventoryDirectory[] = [
    { Name: '\\A', Directories: [{ Name: '\\A\\B', Directories: [], Files: Array.from({ length: 3000 }, (_, i) => file(i)) }], Files: Array.from({ length: 3000 }, (_, i) => file(i)) },
  ];
  const maxBytes = 200_000;
  const fitted = fitListing({ report: { Directories: dirs }, truncated: false, warnings: ['kept'] }, maxBytes);
  assert.ok(Buffer.byteLength(JSON.stringify(fitted)) <= maxBytes);
  assert.equal(fitted.truncated, true);
  const kept = fitted.report.Directories[0]!.Files.length + fitted.report.Directories[0]!.Directories[0]!.Files.length;
  assert.ok(kept > 1000 && kept < 6000, String(kept));
  assert.equal(fitted.warnings[0], 'kept');
  assert.match(fitted.warnings[1] ?? '', new RegExp(`the listing was cut to ${kept} of 6000 files to fit the link's`));
  const small = { report: { Directories: [{ Name: '\\A', Directories: [], Files: [file(1)] }] }, truncated: false, warnings: [] };
  assert.equal(fitListing(small, maxBytes), small, 'what fits is sent as it is');
});
