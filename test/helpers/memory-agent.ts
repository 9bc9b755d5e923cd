// The reference agent served in-process on the device end of an in-memory cable (electron/link/link-memory.ts,
// a named double of a serial line), stopped with its cable when the test ends.
import type { TestContext } from 'node:test';
import { serveTransport } from '../../agent/agent.js';
import type { AgentContext } from '../../agent/context.js';
import type { MemoryCable } from '../../electron/link/link-memory.js';

export function serveOnCable(t: TestContext, ctx: AgentContext, cable: MemoryCable): { stop: AbortController; served: Promise<string> } {
  const stop = new AbortController();
  const served = serveTransport(ctx, cable.b, stop.signal);
  t.after(async () => {
    cable.unplug('the test ended');
    stop.abort();
    await served;
  });
  return { stop, served };
}
