// Settings: the station's configuration as a form. Nothing is sent until Save; then the difference goes as
// commands (see settings-draft) and each result is announced. While the form is untouched it follows the
// station's values; once edited, a change from elsewhere does not overwrite what is being typed.
import { useEffect, useState, type ReactNode } from 'react';
import type { Snapshot, StationSettings } from '../../../shared/contract/station-api.js';
import { formatBytes, formatDuration } from '../format.js';
import { draftCommands, draftFrom, profileProblem, usbFilterProblem, validateDraft, type DraftErrors, type SettingsDraft } from '../state/settings-draft.js';
import { useActions } from '../ui/actions.js';
import { ListEditor } from '../ui/ListEditor.js';

function Field({ id, label, hint, error, children }: { id: string; label: string; hint?: string; error?: string | undefined; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? <p className="hint" id={`${id}-hint`}>{hint}</p> : null}
      {error ? <p className="field-error" id={`${id}-err`}>{error}</p> : null}
    </div>
  );
}

const describedBy = (id: string, hint: boolean, error: string | undefined) =>
  [hint ? `${id}-hint` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;

export function SettingsView({ snapshot }: { snapshot: Snapshot }) {
  const { run, notify } = useActions();
  const settings = snapshot.settings;
  const [draft, setDraft] = useState<SettingsDraft>(() => draftFrom(settings));
  const [dirty, setDirty] = useState(false);
  const [errors, setErrors] = useState<DraftErrors>({});
  const [saving, setSaving] = useState(false);
  // After a successful save the form keeps what was typed until the station's new settings arrive, so
  // it never flashes the old values in between.
  const [savedFrom, setSavedFrom] = useState<StationSettings | null>(null);

  useEffect(() => {
    if (!saving && savedFrom && settings !== savedFrom) {
      setSavedFrom(null);
      setDirty(false);
    }
  }, [settings, saving, savedFrom]);

  useEffect(() => {
    if (!dirty) setDraft(draftFrom(settings));
  }, [settings, dirty]);

  // A station that accepted a command but reports unchanged values (e.g. a port it already watched) sends
  // no settings change; the form then stops waiting after a few seconds.
  useEffect(() => {
    if (saving || !savedFrom) return;
    const timer = setTimeout(() => {
      setSavedFrom(null);
      setDirty(false);
    }, 4000);
    return () => clearTimeout(timer);
  }, [saving, savedFrom]);

  const edit = <K extends keyof SettingsDraft>(key: K, value: SettingsDraft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setErrors((e) => {
      if (!(key in e)) return e;
      const rest = { ...e };
      delete rest[key];
      return rest;
    });
    setDirty(true);
  };

  const save = async () => {
    const found = validateDraft(draft);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      notify(false, `Settings not saved: ${Object.values(found)[0]}`, 'settings');
      return;
    }
    const commands = draftCommands(settings, draft);
    if (commands.length === 0) {
      notify(true, 'Settings unchanged; nothing to save', 'settings');
      setDirty(false);
      return;
    }
    setSaving(true);
    setSavedFrom(settings);
    let allOk = true;
    for (const c of commands) {
      const what = c.type === 'addSerialPort' ? `Watch serial port ${c.path}` : c.type === 'forgetSerialPort' ? `Forget serial port ${c.path}` : 'Save settings';
      const result = await run(c, what);
      allOk &&= result.ok;
    }
    setSaving(false);
    if (!allOk) setSavedFrom(null);
  };

  const rate = Number(draft.rateLimitKiB);
  const syncing = !saving && savedFrom !== null;
  const err = errors;
  return (
    <form
      className="settings"
      aria-label="Station settings"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="settings-columns">
        <div>
          <Field id="set-server" label="Management server" hint="The address of the WinCE-DM server this station polls." error={err.server}>
            <input id="set-server" type="url" value={draft.server} onChange={(e) => edit('server', e.target.value)}
              aria-invalid={err.server ? true : undefined} aria-describedby={describedBy('set-server', true, err.server)} />
          </Field>
          <div className="field">
            <span className="label" id="set-poll-label">Poll interval</span>
            <output aria-labelledby="set-poll-label">every {formatDuration(settings.pollIntervalMs / 1000)}</output>
            <p className="hint">Set by the server in its poll response.</p>
          </div>
          <Field id="set-rate" label="Download rate limit (KiB/s)" hint={rate > 0 ? `At most ${formatBytes(Math.round(rate * 1024))}/s over all transfers.` : '0 means no limit.'} error={err.rateLimitKiB}>
            <input id="set-rate" type="number" min={0} step={1} inputMode="decimal" value={draft.rateLimitKiB} onChange={(e) => edit('rateLimitKiB', e.target.value)}
              aria-invalid={err.rateLimitKiB ? true : undefined} aria-describedby={describedBy('set-rate', true, err.rateLimitKiB)} />
          </Field>
          <Field id="set-concurrency" label="Concurrent device sessions" hint="How many targets the station serves at once (1–64)." error={err.concurrency}>
            <input id="set-concurrency" type="number" min={1} max={64} step={1} value={draft.concurrency} onChange={(e) => edit('concurrency', e.target.value)}
              aria-invalid={err.concurrency ? true : undefined} aria-describedby={describedBy('set-concurrency', true, err.concurrency)} />
          </Field>
          <div className="field check-field">
            <label className="check">
              <input type="checkbox" checked={draft.allowCommands} onChange={(e) => edit('allowCommands', e.target.checked)} aria-describedby="set-allow-hint" />
              {' '}Allow commands
            </label>
            <p className="hint" id="set-allow-hint">Let packages run their command lines on this station. Devices run theirs on the device.</p>
          </div>
        </div>
        <div>
          <ListEditor label="Serial ports" items={draft.serialPorts} onChange={(v) => edit('serialPorts', v)} removeWord="Forget"
            placeholder="/dev/ttyUSB0 or COM3" hint="Ports the station watches for docking devices." />
          <Field id="set-baud" label="Serial baud rate" error={err.baudRate}>
            <input id="set-baud" type="number" min={1} step={1} value={draft.baudRate} onChange={(e) => edit('baudRate', e.target.value)}
              aria-invalid={err.baudRate ? true : undefined} aria-describedby={describedBy('set-baud', false, err.baudRate)} />
          </Field>
          <ListEditor label="USB filters" items={draft.usb} onChange={(v) => edit('usb', v)} removeWord="Remove" placeholder="1209:d0c4"
            check={usbFilterProblem} error={err.usb} hint="VID:PID of USB devices (and USB serial adapters) to dock." />
          <ListEditor label="Field-kit profiles" items={draft.profiles} onChange={(v) => edit('profiles', v)} removeWord="Remove" placeholder="scanner=SCANNER-01"
            check={profileProblem} error={err.profiles}
            hint="NAME=DEVICE-ID: a device identity the server knows, kept in the field kit for provisioning without a network. None: every device docked here is its own profile." />
          <Field id="set-default-profile" label="Default field-kit profile" hint="New devices are provisioned from it when the server cannot be reached. Empty: the first." error={err.defaultProfile}>
            <input id="set-default-profile" value={draft.defaultProfile} onChange={(e) => edit('defaultProfile', e.target.value)}
              list="kit-profile-names" aria-invalid={err.defaultProfile ? true : undefined} aria-describedby={describedBy('set-default-profile', true, err.defaultProfile)} />
            <datalist id="kit-profile-names">
              {snapshot.station.fieldKit.profiles.map((p) => <option key={p.deviceId} value={p.name} />)}
            </datalist>
          </Field>
        </div>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn primary" disabled={saving || !dirty || syncing} aria-busy={saving}>{saving ? 'Saving…' : 'Save'}</button>
        <button type="button" className="btn" disabled={saving || !dirty || syncing} onClick={() => {
          setDraft(draftFrom(settings));
          setErrors({});
          setDirty(false);
        }}>
          Discard changes
        </button>
        {dirty ? <span className="hint">{syncing ? 'Saved; waiting for the station to confirm…' : 'Unsaved changes.'}</span> : null}
      </div>
    </form>
  );
}
