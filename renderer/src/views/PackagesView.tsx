// Packages: the station's shared cache — each package once, with the SHA-256 it was verified against
// (shortened, with a copy button for the full value) and the targets that use it.
import type { Snapshot } from '../../../shared/contract/station-api.js';
import { formatBytes, shortHash } from '../format.js';
import { targetNamer } from '../state/names.js';
import { useActions } from '../ui/actions.js';

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

export function PackagesView({ snapshot }: { snapshot: Snapshot }) {
  const { notify } = useActions();
  const target = targetNamer(snapshot);
  if (snapshot.packages.length === 0) return <p className="empty">The package cache is empty. Packages are downloaded once and shared by every target that needs them.</p>;
  return (
    <table className="grid packages">
      <caption className="visually-hidden">Packages in the station's cache</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">File</th>
          <th scope="col" className="num">Size</th>
          <th scope="col">SHA-256</th>
          <th scope="col">Complete</th>
          <th scope="col">Used by</th>
        </tr>
      </thead>
      <tbody>
        {snapshot.packages.map((p) => {
          const name = p.name ?? p.id;
          return (
            <tr key={p.id}>
              <td className="wrap">{name}{p.name ? <span className="sub"><code>{p.id}</code></span> : null}</td>
              <td className="wrap"><code>{p.fileName}</code></td>
              <td className="num nowrap">{p.size === null ? '?' : formatBytes(p.size)}</td>
              <td className="nowrap">
                {p.sha256 ? (
                  <>
                    <code title={p.sha256}>{shortHash(p.sha256)}</code>{' '}
                    <button
                      type="button"
                      className="btn small"
                      aria-label={`Copy the SHA-256 of ${name}`}
                      onClick={async () => {
                        const ok = await copyText(p.sha256!);
                        notify(ok, ok ? `Copied the SHA-256 of ${name}` : `Could not copy to the clipboard; the SHA-256 of ${name} is ${p.sha256!}`);
                      }}
                    >
                      Copy
                    </button>
                  </>
                ) : 'not published'}
              </td>
              <td>{p.complete ? <span className="pill good">Yes</span> : <span className="pill warn">Partial</span>}</td>
              <td className="wrap">{p.users.length ? p.users.map(target).join(', ') : 'no target'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
