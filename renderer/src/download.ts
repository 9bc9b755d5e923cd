// Saving a file from the page: a Blob and a temporary object URL (no second round trip to the station).
import type { CommandFile } from '../../shared/contract/station-api.js';

export function downloadBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // Browsers read the Blob asynchronously after the click; revoking at once can cancel a slow save.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Offers text as a file download, entirely in the page. */
export function downloadText(fileName: string, text: string, type: string): void {
  downloadBlob(fileName, new Blob([text], { type }));
}

/** Offers a file a station command returned (CSV text, or PDF bytes in base64). */
export function downloadCommandFile(file: CommandFile): void {
  if (file.encoding === 'utf8') {
    downloadText(file.name, file.data, file.contentType);
    return;
  }
  const bin = atob(file.data);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i += 1) bytes[i] = bin.charCodeAt(i);
  downloadBlob(file.name, new Blob([bytes], { type: file.contentType }));
}
