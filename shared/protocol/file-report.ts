// §11 Software Inventory Report (`FileReport`, device → server): a Directory/File tree. No XML declaration and
// no namespace, as real clients send it. Times and attribute lists are kept as written: they are shown to a
// technician, never computed with, and a device with a wrong clock should not lose its whole report.
import type { FileReport, InventoryDirectory, InventoryFile } from './types.js';
import { El, openDocument } from './element.js';
import { formatDecimal, parseDecimal } from './numbers.js';
import { need, serialize, serializeAsync, type XNode } from './writer.js';
import { MAX_REPORT_BYTES, type ParseOptions } from './xml.js';

const DOC = 'FileReport';

export function parseFileReport(xml: string, options?: ParseOptions): FileReport {
  return readFileReport(openDocument(xml, DOC, options, MAX_REPORT_BYTES));
}

export function readFileReport(root: El): FileReport {
  return { Directories: root.all('Directory').map(readDirectory) };
}

function optionalAttrs<T extends object>(e: El, target: T, names: ReadonlyArray<keyof T & string>): void {
  for (const name of names) {
    const value = e.attr(name);
    if (value !== undefined) (target as Record<string, unknown>)[name] = value;
  }
}

function readDirectory(d: El): InventoryDirectory {
  const dir: InventoryDirectory = { Name: d.requireAttr('Name'), Directories: [], Files: [] };
  optionalAttrs(d, dir, ['Created', 'LastAccessed', 'Attributes']);
  dir.Directories = d.all('Directory').map(readDirectory);
  dir.Files = d.all('File').map(readFile);
  return dir;
}

function readFile(f: El): InventoryFile {
  const size = f.readAttr('Size', parseDecimal);
  if (size === undefined) f.fail('missing required attribute Size');
  const file: InventoryFile = { Name: f.requireAttr('Name'), Size: size };
  optionalAttrs(f, file, ['Version', 'Company', 'Description', 'Created', 'LastModified', 'LastAccessed', 'Attributes']);
  return file;
}

export function buildFileReport(v: FileReport): string {
  return serialize(fileReportNode(v), OPTIONS);
}

/** buildFileReport, giving the event loop back between slices (a report may list 100,000 files). */
export function buildFileReportAsync(v: FileReport): Promise<string> {
  return serializeAsync(fileReportNode(v), OPTIONS);
}

const OPTIONS = { declaration: false, namespace: false };

function fileReportNode(v: FileReport): XNode {
  return { name: DOC, more: { count: v.Directories.length, make: (i) => directoryNode(v.Directories[i] as InventoryDirectory, `/${DOC}/Directory[${i + 1}]`) } };
}

/** A Directory whose sub-directories and files are made only when the writer reaches them. */
function directoryNode(d: InventoryDirectory, at: string): XNode {
  const dirs = d.Directories.length;
  return {
    name: 'Directory',
    attrs: [['Name', need(d.Name, DOC, `${at}/@Name`)], ['Created', d.Created], ['LastAccessed', d.LastAccessed], ['Attributes', d.Attributes]],
    more: {
      count: dirs + d.Files.length,
      make: (i) => (i < dirs
        ? directoryNode(d.Directories[i] as InventoryDirectory, `${at}/Directory[${i + 1}]`)
        : fileNode(d.Files[i - dirs] as InventoryFile, `${at}/File[${i - dirs + 1}]`)),
    },
  };
}

function fileNode(f: InventoryFile, at: string): XNode {
  return {
    name: 'File',
    attrs: [
      ['Name', need(f.Name, DOC, `${at}/@Name`)], ['Version', f.Version], ['Company', f.Company], ['Description', f.Description],
      ['Size', formatDecimal(f.Size, DOC, `${at}/@Size`)],
      ['Created', f.Created], ['LastModified', f.LastModified], ['LastAccessed', f.LastAccessed], ['Attributes', f.Attributes],
    ],
  };
}
