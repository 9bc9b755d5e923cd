// A TCP proxy for tests that stands between a client and a real server on loopback and misbehaves on
// purpose: it cuts, stalls or corrupts the server's answer at a chosen byte, or refuses a connection.
// Each accepted connection takes the next plan from a queue (no plan = pass everything through).
//
// Byte positions count everything the server sent downstream, HTTP headers included (…ResponseBytes),
// or only the message bodies (…BodyBytes). Bodies are found by following the HTTP/1.1 framing of each
// response on the connection (status line, headers, Content-Length or chunked or until close; HEAD,
// 1xx, 204 and 304 carry none); chunked bodies count their payload, not the chunk framing. That lets a
// test prove "the download resumed at the interrupted byte" from what the server really delivered.

import net from 'node:net';

export interface FaultPlan {
  /** Forward this many response bytes, then close the connection (FIN) when more would flow. */
  cutAfterResponseBytes?: number;
  /** Forward this many response bytes, then hold the connection open and forward nothing more. */
  stallAfterResponseBytes?: number;
  /** Flip every bit of the response byte at this 0-based position. */
  corruptAtResponseByte?: number;
  /** The same three, counted over body bytes only (summed over the responses on the connection). */
  cutAfterBodyBytes?: number;
  stallAfterBodyBytes?: number;
  corruptAtBodyByte?: number;
  /** Accept, then reset the connection at once (the client sees ECONNRESET). */
  refuse?: boolean;
}

export interface MessageStats {
  startLine: string; // "GET /pkg HTTP/1.1" or "HTTP/1.1 206 Partial Content"
  method: string | null; // requests
  status: number | null; // responses
  headers: Record<string, string>; // lower-case names
  headerBytes: number;
  bodyBytes: number;
  complete: boolean;
}

export interface ConnectionStats {
  id: number;
  plan: FaultPlan;
  requestBytes: number;
  responseBytes: number; // forwarded downstream, headers included
  responseBodyBytes: number;
  requests: MessageStats[];
  responses: MessageStats[];
  fault: 'refused' | 'cut' | 'stalled' | null;
  corrupted: number; // bytes flipped
  bodyCountReliable: boolean; // false if the traffic could not be followed as HTTP/1.1
  open: boolean;
}

export interface ProxyStats {
  connections: ConnectionStats[];
  totalResponseBytes: number;
  totalResponseBodyBytes: number;
}

export interface FaultProxy {
  readonly url: string; // http://127.0.0.1:<port>
  readonly port: number;
  setPlans(plans: FaultPlan[]): void;
  stats(): ProxyStats;
  close(): Promise<void>;
}

type State = 'head' | 'fixed' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'opaque';

/** Follows HTTP/1.1 message framing in one direction of a connection, byte by byte as it flows. */
export class HttpMeter {
  readonly messages: MessageStats[] = [];
  reliable = true;
  bodyBytes = 0;
  #state: State = 'head';
  #line = ''; // head, chunk-size line or trailer being collected (latin1)
  #remaining = 0;
  #current: MessageStats | null = null;

  constructor(private readonly kind: 'request' | 'response', private readonly methods: string[]) {}

  /**
   * Consumes bytes from `buf` until it ends or until the next byte would be body beyond `bodyBudget`.
   * Returns how many bytes were consumed and whether it stopped because of the budget.
   */
  push(buf: Buffer, bodyBudget = Infinity): { consumed: number; blocked: boolean } {
    let pos = 0;
    let budget = bodyBudget;
    while (pos < buf.length) {
      const s = this.#state;
      if (s === 'opaque') return { consumed: buf.length, blocked: false };
      if (s === 'fixed' || s === 'chunk-data' || s === 'until-close') {
        const avail = buf.length - pos;
        const want = s === 'until-close' ? avail : Math.min(avail, this.#remaining);
        const take = Math.min(want, budget);
        if (take === 0) return { consumed: pos, blocked: true };
        this.#body(take);
        budget -= take;
        pos += take;
        this.#remaining -= take;
        if (s === 'fixed' && this.#remaining === 0) this.#done();
        if (s === 'chunk-data' && this.#remaining === 0) {
          this.#state = 'chunk-end';
          this.#remaining = 2;
        }
        continue;
      }
      if (s === 'chunk-end') {
        const take = Math.min(this.#remaining, buf.length - pos);
        pos += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = 'chunk-size';
        continue;
      }
      // head, chunk-size, trailers: collect a line (or a whole head) up to its terminator
      const byte = buf[pos] as number;
      pos += 1;
      this.#line += String.fromCharCode(byte);
      if (this.#current && s === 'head') this.#current.headerBytes += 1;
      if (this.#line.length > 65536) this.#giveUp();
      else if (byte === 0x0a) this.#lineEnded();
    }
    return { consumed: pos, blocked: false };
  }

  /** The peer closed: a body that runs until close is complete now. */
  end(): void {
    if (this.#state === 'until-close') this.#done();
  }

  #body(n: number): void {
    this.bodyBytes += n;
    if (this.#current) this.#current.bodyBytes += n;
  }

  #giveUp(): void {
    this.reliable = false;
    this.#state = 'opaque';
  }

  #done(): void {
    if (this.#current) this.#current.complete = true;
    this.#current = null;
    this.#state = 'head';
    this.#line = '';
  }

  #lineEnded(): void {
    const s = this.#state;
    if (s === 'head') {
      if (this.#line === '\r\n' && !this.#current) return void (this.#line = ''); // stray CRLF between messages
      if (!this.#current) this.#current = { startLine: '', method: null, status: null, headers: {}, headerBytes: this.#line.length, bodyBytes: 0, complete: false };
      if (!this.#line.endsWith('\r\n\r\n')) return;
      return this.#headEnded();
    }
    const line = this.#line.trim();
    this.#line = '';
    if (s === 'chunk-size') {
      const size = Number.parseInt(line.split(';')[0] ?? '', 16);
      if (!Number.isFinite(size) || size < 0) return this.#giveUp();
      if (size === 0) this.#state = 'trailers';
      else {
        this.#state = 'chunk-data';
        this.#remaining = size;
      }
    } else if (s === 'trailers' && line === '') this.#done();
  }

  #headEnded(): void {
    const msg = this.#current as MessageStats;
    const [first = '', ...rest] = this.#line.split('\r\n');
    this.#line = '';
    msg.startLine = first;
    for (const h of rest) {
      const at = h.indexOf(':');
      if (at > 0) msg.headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
    }
    this.messages.push(msg);
    const chunked = /\bchunked\b/i.test(msg.headers['transfer-encoding'] ?? '');
    const length = msg.headers['content-length'];
    let noBody: boolean;
    if (this.kind === 'request') {
      msg.method = first.split(' ')[0] ?? '';
      this.methods.push(msg.method);
      if (msg.method === 'CONNECT') return this.#giveUp();
      noBody = !chunked && length === undefined;
    } else {
      const status = Number(first.split(' ')[1]);
      if (!/^HTTP\/1\.[01]$/.test(first.split(' ')[0] ?? '') || !Number.isInteger(status)) return this.#giveUp();
      msg.status = status;
      if (status === 101) return this.#giveUp(); // protocol switch: the rest is not HTTP
      if (status < 200) return this.#done(); // interim answer; the request's final answer follows
      const method = this.methods.shift();
      noBody = method === 'HEAD' || status === 204 || status === 304;
      if (!noBody && !chunked && length === undefined) {
        this.#state = 'until-close';
        return;
      }
    }
    if (noBody) return this.#done();
    if (chunked) {
      this.#state = 'chunk-size';
      return;
    }
    const n = Number(length);
    if (!/^\d+$/.test(length ?? '')) return this.#giveUp();
    if (n === 0) return this.#done();
    this.#state = 'fixed';
    this.#remaining = n;
  }
}

export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1';
  let plans: FaultPlan[] = [];
  const conns: ConnectionStats[] = [];
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): net.Socket => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined); // a reset is an expected outcome here, never a crash
    return s;
  };

  const server = net.createServer((client) => {
    track(client);
    const plan = plans.shift() ?? {};
    const st: ConnectionStats = {
      id: conns.length + 1, plan, requestBytes: 0, responseBytes: 0, responseBodyBytes: 0, requests: [], responses: [],
      fault: null, corrupted: 0, bodyCountReliable: true, open: true,
    };
    conns.push(st);
    client.on('close', () => (st.open = false));
    if (plan.refuse) {
      st.fault = 'refused';
      client.resetAndDestroy();
      return;
    }
    const methods: string[] = [];
    const reqMeter = new HttpMeter('request', methods);
    const resMeter = new HttpMeter('response', methods);
    st.requests = reqMeter.messages;
    st.responses = resMeter.messages;
    const upstream = track(net.connect(target.port, host));
    const pending = { corruptRaw: plan.corruptAtResponseByte, corruptBody: plan.corruptAtBodyByte };

    client.on('data', (d: Buffer) => {
      st.requestBytes += d.length;
      reqMeter.push(d);
      if (!upstream.write(d)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    client.on('drain', () => st.fault === null && upstream.resume());
    client.on('end', () => upstream.end());
    client.on('close', () => upstream.destroy());
    upstream.on('end', () => {
      resMeter.end();
      if (st.fault === null) client.end();
    });
    upstream.on('close', () => st.fault !== 'stalled' && client.destroySoon());

    const halt = (fault: 'cut' | 'stalled'): void => {
      st.fault = fault;
      if (fault === 'cut') {
        client.end(); // FIN after every forwarded byte, so the client really receives them
        upstream.destroy();
      } else {
        upstream.pause(); // a black hole: the server's further bytes go nowhere
      }
    };

    upstream.on('data', (chunk: Buffer) => {
      if (st.fault !== null) return;
      const buf = pending.corruptRaw !== undefined || pending.corruptBody !== undefined ? Buffer.from(chunk) : chunk;
      let pos = 0;
      while (pos < buf.length && st.fault === null) {
        // Stop at the nearest planned raw position or body position, then see which one was reached.
        let room = buf.length - pos;
        for (const t of [plan.cutAfterResponseBytes, plan.stallAfterResponseBytes, pending.corruptRaw]) {
          if (t !== undefined && t >= st.responseBytes) room = Math.min(room, t - st.responseBytes);
        }
        let budget = Infinity;
        for (const t of [plan.cutAfterBodyBytes, plan.stallAfterBodyBytes, pending.corruptBody]) {
          if (t !== undefined && t >= resMeter.bodyBytes) budget = Math.min(budget, t - resMeter.bodyBytes);
        }
        const { consumed, blocked } = resMeter.push(buf.subarray(pos, pos + room), budget);
        if (consumed > 0 && !client.write(buf.subarray(pos, pos + consumed))) upstream.pause();
        pos += consumed;
        st.responseBytes += consumed;
        st.responseBodyBytes = resMeter.bodyBytes;
        st.bodyCountReliable = resMeter.reliable;
        if (pos >= buf.length) break;
        const atBody = (t: number | undefined): boolean => blocked && t === resMeter.bodyBytes;
        if (st.responseBytes === plan.cutAfterResponseBytes || atBody(plan.cutAfterBodyBytes)) halt('cut');
        else if (st.responseBytes === plan.stallAfterResponseBytes || atBody(plan.stallAfterBodyBytes)) halt('stalled');
        else if (st.responseBytes === pending.corruptRaw || atBody(pending.corruptBody)) {
          buf[pos] = (buf[pos] as number) ^ 0xff;
          st.corrupted += 1;
          if (st.responseBytes === pending.corruptRaw) pending.corruptRaw = undefined;
          else pending.corruptBody = undefined;
        }
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setPlans(next) {
      plans = [...next];
    },
    stats() {
      const connections = conns.map((c) => structuredClone(c));
      return {
        connections,
        totalResponseBytes: connections.reduce((n, c) => n + c.responseBytes, 0),
        totalResponseBodyBytes: connections.reduce((n, c) => n + c.responseBodyBytes, 0),
      };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
