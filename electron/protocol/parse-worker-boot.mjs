// The parse worker when Dockhand runs from its TypeScript sources (development, tests): a worker thread
// does not inherit the tsx hooks its parent registered with tsx's register(), so it registers them itself
// before loading the worker module. Bundled builds start their own bundled worker instead (see
// parse-off-thread.ts, scripts/parse-worker-bundle.ts).
import { register } from 'tsx/esm/api';

register();
await import('./parse-worker.ts');
