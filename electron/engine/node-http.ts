// node:http for the ES modules that need it, loaded through require. In Node 22 an ES `import` of
// 'node:http' builds a module facade that reads every export, the lazy WebSocket getters among them, and
// those load undici and http2: a tenth of a second (more on a busy machine) added to the start of every
// station before its first byte goes out (docs/performance.md). require() leaves the getters alone.
//
// node:https and node:tls are loaded on the first https URL only: loading them costs another 5 ms of every
// start, and most stations on a bench talk plain HTTP to a server on their own network.
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type * as Tls from 'node:tls';

const require = createRequire(import.meta.url);
const http = require('node:http') as typeof Http;
export default http;

export const lazyHttps = (): typeof Https => require('node:https') as typeof Https;
export const lazyTls = (): typeof Tls => require('node:tls') as typeof Tls;
