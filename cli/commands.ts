// Each command is loaded only when asked for, so `dockhand protocol` does not open SQLite or serial ports.
export type Command = (args: string[]) => Promise<number>;

export const commandTable: Record<string, () => Promise<Command>> = {
  agent: async () => (await import('./agent.js')).agentCommand,
  protocol: async () => (await import('./protocol.js')).protocolCommand,
  server: async () => (await import('../server/cli.js')).serverCommand,
  station: async () => (await import('../electron/station/cli.js')).stationCommand,
  kit: async () => (await import('../electron/station/kit-cli.js')).kitCommand,
  start: async () => (await import('./start.js')).startCommand,
};
