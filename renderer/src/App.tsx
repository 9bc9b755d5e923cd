// The console's shell: header, the tab list of views, the open view, and the live regions for results.
// The open view is kept in the address's #fragment so a reload (or a bookmark) returns to it.
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { Command, Snapshot } from '../../shared/contract/station-api.js';
import type { StationStore } from './state/station-store.js';
import { ActionsContext, type Actions } from './ui/actions.js';
import { shownState } from './state/transfer-state.js';
import { queueAttention } from './state/board.js';
import { Header } from './ui/Header.js';
import { Notices, type Notice } from './ui/Notices.js';
import { Tabs, panelId, tabId, type TabItem } from './ui/Tabs.js';
import { applyTheme, storedTheme, type ThemeChoice } from './theme.js';
import { DevicesView } from './views/DevicesView.js';
import { QueueView } from './views/QueueView.js';
import { TransfersView } from './views/TransfersView.js';
import { PackagesView } from './views/PackagesView.js';
import { ActivityView } from './views/ActivityView.js';
import { SettingsView } from './views/SettingsView.js';

const VIEWS = ['devices', 'queue', 'transfers', 'packages', 'activity', 'settings'] as const;
type ViewId = (typeof VIEWS)[number];

const viewFromHash = (): ViewId => {
  const h = window.location.hash.replace(/^#/, '');
  return (VIEWS as readonly string[]).includes(h) ? (h as ViewId) : 'devices';
};

function tabItems(s: Snapshot | null): TabItem[] {
  const n = (x: number) => (x > 0 ? String(x) : undefined);
  const items: Array<TabItem & { badge?: string | undefined }> = [
    { id: 'devices', label: 'Devices', badge: s ? n(s.devices.filter((d) => d.state === 'docked').length) : undefined },
    { id: 'queue', label: 'Queue', badge: s ? n(queueAttention(s.tasks)) : undefined },
    { id: 'transfers', label: 'Transfers', badge: s ? n(s.transfers.filter((t) => shownState(t) === 'active').length) : undefined },
    { id: 'packages', label: 'Packages' },
    { id: 'activity', label: 'Activity', badge: s ? n(s.activity.filter((a) => a.level === 'error').length) : undefined },
    { id: 'settings', label: 'Settings' },
  ];
  return items.map(({ badge, ...rest }) => (badge ? { ...rest, badge } : rest));
}

function View({ id, snapshot, stale }: { id: ViewId; snapshot: Snapshot; stale: boolean }) {
  switch (id) {
    case 'devices': return <DevicesView snapshot={snapshot} stale={stale} />;
    case 'queue': return <QueueView snapshot={snapshot} />;
    case 'transfers': return <TransfersView snapshot={snapshot} />;
    case 'packages': return <PackagesView snapshot={snapshot} />;
    case 'activity': return <ActivityView snapshot={snapshot} />;
    case 'settings': return <SettingsView snapshot={snapshot} />;
  }
}

export function App({ store, via }: { store: StationStore; via: 'electron' | 'websocket' }) {
  const { snapshot, connection, problem } = useSyncExternalStore(store.subscribe, store.getView);
  const [view, setView] = useState<ViewId>(viewFromHash);
  const [theme, setTheme] = useState<ThemeChoice>(storedTheme);
  const [notices, setNotices] = useState<Notice[]>([]);

  useEffect(() => store.start(), [store]);
  useEffect(() => applyTheme(theme), [theme]);
  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const select = (id: string) => {
    const next = id as ViewId;
    setView(next);
    window.history.replaceState(null, '', `#${next}`);
  };

  // Results that went well fade after a while; problems stay until dismissed.
  const notify = useCallback((ok: boolean, text: string, topic = text) => {
    const id = Date.now() + Math.random();
    setNotices((list) => [...list.filter((n) => n.topic !== topic).slice(-2), { id, ok, text, topic }]);
    if (ok) setTimeout(() => setNotices((list) => list.filter((n) => n.id !== id)), 8000);
  }, []);

  const actions = useMemo<Actions>(() => ({
    notify,
    run: async (command: Command, what: string) => {
      const result = await store.execute(command);
      const topic = command.type === 'updateSettings' ? 'settings' : what;
      notify(result.ok, result.ok ? `${what}: ${result.message || 'done'}` : `${what} failed: ${result.message}`, topic);
      return result;
    },
  }), [store, notify]);

  return (
    <ActionsContext.Provider value={actions}>
      <div className="app">
        <Header station={snapshot?.station ?? null} connection={connection} via={via} theme={theme} onTheme={setTheme} />
        <Tabs items={tabItems(snapshot)} selected={view} onSelect={select} />
        {snapshot && connection !== 'open' ? (
          <p className="banner warn" role="alert">
            Lost the station: the views show its last known state while the console reconnects. {problem.charAt(0).toUpperCase() + problem.slice(1)}
          </p>
        ) : null}
        {snapshot && connection === 'open' && problem ? <p className="banner warn" role="alert">{problem}</p> : null}
        {snapshot?.station.storageProblem ? <p className="banner bad" role="alert">{snapshot.station.storageProblem}</p> : null}
        <main className="content">
          {/* Every tab's panel exists (so each tab's aria-controls names a real element); only the open one is filled. */}
          {VIEWS.map((id) => (
            <section key={id} role="tabpanel" id={panelId(id)} aria-labelledby={tabId(id)} tabIndex={0} className="panel" hidden={id !== view}>
              {id !== view ? null : snapshot ? <View id={id} snapshot={snapshot} stale={connection !== 'open'} /> : (
                <p className="empty" role={problem ? 'alert' : 'status'}>{problem || 'Connecting to the station…'}</p>
              )}
            </section>
          ))}
        </main>
        <Notices notices={notices} onDismiss={(id) => setNotices((list) => list.filter((n) => n.id !== id))} />
      </div>
    </ActionsContext.Provider>
  );
}
