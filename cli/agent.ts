// `dockhand agent --port PATH [--baud N] [--data-bits 8] [--parity none] [--stop-bits 1] --root DIR
//  [--state DIR] [--id ID] [--name NAME]`: the reference device agent on a serial port. Runs until SIGTERM or
// SIGINT, then ends its session politely and exits 0.
import { parseArgs } from 'node:util';
import { runAgentOnPort, prepareAgent } from '../agent/agent.js';
import { DEFAULT_BAUD_RATE, type Parity, type SerialSettings } from '../electron/link/serial.js';
import { describeError } from '../shared/model/errors.js';
import { argProblem } from './arg-problems.js';

const usage = `usage: dockhand agent --port PATH --root DIR [options]

  --port PATH        the serial port to serve (e.g. /dev/ttyGS0 on a USB gadget device)
  --root DIR         the folder that plays the device's file system (\\)
  --baud N           line speed (default ${DEFAULT_BAUD_RATE})
  --data-bits N      5, 6, 7 or 8 (default 8)
  --parity P         none, even, odd, mark or space (default none)
  --stop-bits N      1, 1.5 or 2 (default 1)
  --state DIR        where the identity, part-file records and installed record live (default ROOT/.dockhand-agent)
  --id ID            the device ID the station polls with (default: generated once and kept)
  --name NAME        the device name (default: kept, or the host name)
`;

function fail(message: string): number {
  process.stderr.write(`dockhand agent: ${message}\n${usage}`);
  return 2;
}

export async function agentCommand(args: string[]): Promise<number> {
  const options = {
    port: { type: 'string' }, root: { type: 'string' }, baud: { type: 'string' }, 'data-bits': { type: 'string' },
    parity: { type: 'string' }, 'stop-bits': { type: 'string' }, state: { type: 'string' }, id: { type: 'string' },
    name: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  } as const;
  let values;
  try {
    ({ values } = parseArgs({ args, options, strict: true }));
  } catch (err) {
    return fail(argProblem(err, Object.keys(options)));
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!values.port) return fail('--port is required');
  if (!values.root) return fail('--root is required');
  const serial: SerialSettings = {
    baudRate: values.baud === undefined ? DEFAULT_BAUD_RATE : Number(values.baud),
    dataBits: (values['data-bits'] === undefined ? 8 : Number(values['data-bits'])) as SerialSettings['dataBits'],
    parity: (values.parity ?? 'none') as Parity,
    stopBits: (values['stop-bits'] === undefined ? 1 : Number(values['stop-bits'])) as SerialSettings['stopBits'],
  };
  if (!Number.isInteger(serial.baudRate) || serial.baudRate <= 0) return fail(`--baud must be a positive whole number (got '${values.baud}')`);
  if (![5, 6, 7, 8].includes(serial.dataBits!)) return fail(`--data-bits must be 5, 6, 7 or 8 (got '${values['data-bits']}')`);
  if (!['none', 'even', 'odd', 'mark', 'space'].includes(serial.parity!)) return fail(`--parity must be none, even, odd, mark or space (got '${values.parity}')`);
  if (![1, 1.5, 2].includes(serial.stopBits!)) return fail(`--stop-bits must be 1, 1.5 or 2 (got '${values['stop-bits']}')`);

  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    const ctx = await prepareAgent({ root: values.root, stateDir: values.state, id: values.id, name: values.name });
    await runAgentOnPort(ctx, { port: values.port, serial, signal: controller.signal });
    ctx.log('stopped');
    return 0;
  } catch (err) {
    process.stderr.write(`dockhand agent: ${describeError(err)}\n`);
    return 1;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
