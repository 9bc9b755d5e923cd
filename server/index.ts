// The reference management server as a library: start it, and administer its data folder. The CLI
// (server/cli.ts), the tests and the station's embedded demo mode all go through these.
export { startServer, checkPublicUrl, DEVICE_ENDPOINT, type ServerOptions, type RunningServer } from './http-server.js';
export {
  addPackage, listPackages, getPackage, removePackage, assignPackage, unassignPackage, setSettings, getSettings, readLog,
  type AddPackageOptions, type PackageListing,
} from './admin.js';
export { startDemoServer, seedDemoCatalog, readDemoCatalog, DEMO_DIR } from './demo.js';
export { InputError } from './input-error.js';
export { etagOf, type CatalogPackage } from './catalog.js';
export type { EffectiveSettings, SettingsChange } from './settings.js';
export type { LogEntry } from './received-log.js';
export { DEFAULT_COLLECTED_FILE_BYTES } from './context.js';
