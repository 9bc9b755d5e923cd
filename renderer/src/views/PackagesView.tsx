// Packages: each package once — the station's cached copy (size, the SHA-256 it was verified against, with a
// copy button) and what became of it on every device: how many installed it, which failed and why, which
// are still on it. Never one "complete" flag for a package that failed on one device.
import type { DevicePackage, Snapshot } from '../../../shared/contract/station-api.js';
import { formatBytes, shortHash } from '../format.js';
import { placeOf } from '../state/board.js';
import { useActions } from '../ui/actions.js';
import { VerdictIcon } from '../ui/VerdictIcon.js';

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // The async clipboard needs a secure context (loopback counts); elsewhere fall back to a selection.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

interface Row {
  id: string;
  name: string;
  fileName: string | null;
  size: number | null;
  sha256: string | null;
  cached: 'complete' | 'partial' | 'none';
  /** The station itself uses the package (its own target, not a device). */
  station: boolean;
  results: Array<{ device: string; result: DevicePackage }>;
}

function rows(s: Snapshot): Row[] {
  const byId = new Map<string, Row>();
  for (const p of s.packages) {
    byId.set(p.id, {
      id: p.id, name: p.name ?? p.id, fileName: p.fileName, size: p.size, sha256: p.sha256, cached: p.complete ? 'complete' : 'partial',
      station: p.users.includes(s.station.id), results: [],
    });
  }
  for (const d of s.devices) {
    for (const r of d.packages) {
      const row = byId.get(r.id) ?? { id: r.id, name: r.name, fileName: null, size: null, sha256: r.sha256, cached: 'none' as const, station: false, results: [] };
      row.results.push({ device: `${d.name} (${placeOf(d)})`, result: r });
      byId.set(r.id, row);
    }
  }
  return [...byId.values()];
}

function Results({ row }: { row: Row }) {
  const also = row.station ? <span className="sub-inline">also used by this station</span> : null;
  if (row.results.length === 0) return row.station ? <span className="sub-inline">used by this station</span> : <span className="sub-inline">no device</span>;
  const count = (k: DevicePackage['result'][]) => row.results.filter((r) => k.includes(r.result.result)).length;
  const installed = count(['installed']);
  const failed = row.results.filter((r) => r.result.result === 'failed');
  const open = count(['working', 'waiting', 'pending']);
  return (
    <div className="pkg-results">
      <span className="result v-done"><VerdictIcon kind="done" className="small" /> {installed} installed</span>
      {failed.length ? <span className="result v-failed"><VerdictIcon kind="failed" className="small" /> {failed.length} failed</span> : null}
      {open ? <span className="result v-waiting"><VerdictIcon kind="waiting" className="small" /> {open} not yet</span> : null}
      {also}
      {failed.length ? (
        <ul className="pkg-failures">
          {failed.map((f) => <li key={f.device}><strong>{f.device}</strong>: {f.result.words}</li>)}
        </ul>
      ) : null}
    </div>
  );
}

export function PackagesView({ snapshot }: { snapshot: Snapshot }) {
  const { notify } = useActions();
  const list = rows(snapshot);
  if (list.length === 0) return <p className="empty">No packages yet. Packages are downloaded once into the station's cache and shared by every device that needs them.</p>;
  return (
    <table className="grid packages">
      <caption className="visually-hidden">Packages: the station's copy and the result on each device</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">File</th>
          <th scope="col" className="num">Size</th>
          <th scope="col">SHA-256</th>
          <th scope="col">On the devices</th>
        </tr>
      </thead>
      <tbody>
        {list.map((p) => (
          <tr key={p.id}>
            <td className="wrap">{p.name}{p.name !== p.id ? <span className="sub"><code>{p.id}</code></span> : null}</td>
            <td className="wrap">
              {p.fileName ? <code>{p.fileName}</code> : '—'}
              <span className="sub">{p.cached === 'complete' ? 'in the cache' : p.cached === 'partial' ? 'partly downloaded' : 'not downloaded'}</span>
            </td>
            <td className="num nowrap">{p.size === null ? '?' : formatBytes(p.size)}</td>
            <td className="nowrap">
              {p.sha256 ? (
                <>
                  <code title={p.sha256}>{shortHash(p.sha256)}</code>{' '}
                  <button
                    type="button"
                    className="btn small"
                    aria-label={`Copy the SHA-256 of ${p.name}`}
                    onClick={async () => {
                      const ok = await copyText(p.sha256!);
                      notify(ok, ok ? `Copied the SHA-256 of ${p.name}` : `Could not copy to the clipboard; the SHA-256 of ${p.name} is ${p.sha256!}`);
                    }}
                  >
                    Copy
                  </button>
                </>
              ) : 'not published'}
            </td>
            <td className="wrap"><Results row={p} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
