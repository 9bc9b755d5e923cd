// node:http for the ES modules that need it, loaded through require. In Node 22 an ES `import` of
// 'node:http' builds a module facade that reads every export, the lazy WebSocket getters among them, and
// those load undici and http2: a tenth of a second (more on a busy machine) added to the start of every
// station before its first byte goes out (docs/performance.md). require() leaves the getters alone.
import { createRequire } from 'node:module';
import type * as Http from 'node:http';

const http = createRequire(import.meta.url)('node:http') as typeof Http;
export default http;
