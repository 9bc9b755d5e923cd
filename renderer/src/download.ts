// Saving a file from the page: a Blob and a temporary object URL, so an export never needs the station.
/** Offers text as a file download, entirely in the page (no round trip to the station). */
export function downloadText(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
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
