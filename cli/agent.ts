// `dockhand agent …`: the reference device agent, on a serial port or as a USB device (a FunctionFS
// gadget), and the configfs work that makes a Linux board such a device. Runs until SIGTERM or SIGINT,
// then ends its session politely and exits 0. The agent's modules are loaded only once the arguments are
// understood, so `--help` and mistakes answer at once (on a small board too).
import { parseArgs } from 'node:util';
import { DEFAULT_BAUD_RATE as DEFAULT_BAUD, type SerialSettings } from '../electron/link/serial.js';
import { DockhandError, describeError } from '../shared/model/errors.js';
import { argProblem } from './arg-problems.js';

const DEFAULT_FFS = '/dev/ffs-dockhand';

const usage = `usage: dockhand agent --port PATH --root DIR [options]          serve the link on a serial port
       dockhand agent --usb-gadget --root DIR [options]         serve it as a USB device (FunctionFS)
       dockhand agent gadget setup [gadget options]             make this board a USB gadget (configfs; root)
       dockhand agent gadget teardown [--name NAME] [--ffs DIR]  undo it

  --root DIR         the folder that plays the device's file system (\\)
  --state DIR        where the identity, part-file records and installed record live (default ROOT/.dockhand-agent)
  --id ID            the device ID the station polls with (default: generated once and kept)
  --name NAME        the device name (default: kept, or the host name)
 serial:
  --port PATH        the serial port to serve (e.g. /dev/ttyGS0 on a board with a gadget serial function)
  --baud N           line speed (default ${DEFAULT_BAUD})
  --data-bits N      5, 6, 7 or 8 (default 8)
  --parity P         none, even, odd, mark or space (default none)
  --stop-bits N      1, 1.5 or 2 (default 1)
 USB gadget:
  --usb-gadget       serve the vendor-class function mounted at --ffs (bulk IN + bulk OUT)
  --ffs DIR          its FunctionFS mount (default ${DEFAULT_FFS})
  --gadget NAME      the configfs gadget to bind once the function is ready (default dockhand; none: leave
                     binding to the system)
  --udc NAME         the USB device controller to bind it to (default: the first in /sys/class/udc)
 gadget setup (defaults in brackets; use your own VID:PID in a product):
  --name NAME        gadget and FunctionFS name [dockhand]     --ffs DIR  mount point [/dev/ffs-NAME]
  --usb-id VID:PID   [1209:d0c4]     --manufacturer TEXT [Dockhand]     --product TEXT [Dockhand device]
  --serial TEXT      [the machine ID]     --configfs DIR  [/sys/kernel/config]
`;

function fail(message: string): number {
  process.stderr.write(`dockhand agent: ${message}\n${usage}`);
  return 2;
}

export async function agentCommand(args: string[]): Promise<number> {
  if (args[0] === 'gadget') return gadgetCommand(args.slice(1));
  const options = {
    port: { type: 'string' }, root: { type: 'string' }, baud: { type: 'string' }, 'data-bits': { type: 'string' },
    parity: { type: 'string' }, 'stop-bits': { type: 'string' }, state: { type: 'string' }, id: { type: 'string' },
    name: { type: 'string' }, 'usb-gadget': { type: 'boolean' }, ffs: { type: 'string' }, gadget: { type: 'string' },
    udc: { type: 'string' }, help: { type: 'boolean', short: 'h' },
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
  const gadget = values['usb-gadget'] === true;
  if (gadget && values.port) return fail('--port and --usb-gadget exclude each other: one agent serves one link');
  if (!gadget && !values.port) return fail('--port (a serial link) or --usb-gadget (a USB device) is required');
  if (!values.root) return fail('--root is required');
  const serial: Required<Omit<SerialSettings, 'rtscts'>> = {
    baudRate: values.baud === undefined ? DEFAULT_BAUD : Number(values.baud),
    dataBits: (values['data-bits'] === undefined ? 8 : Number(values['data-bits'])) as SerialSettings['dataBits'] & number,
    parity: (values.parity ?? 'none') as NonNullable<SerialSettings['parity']>,
    stopBits: (values['stop-bits'] === undefined ? 1 : Number(values['stop-bits'])) as NonNullable<SerialSettings['stopBits']>,
  };
  if (!Number.isInteger(serial.baudRate) || serial.baudRate <= 0) return fail(`--baud must be a positive whole number (got '${values.baud}')`);
  if (![5, 6, 7, 8].includes(serial.dataBits)) return fail(`--data-bits must be 5, 6, 7 or 8 (got '${values['data-bits']}')`);
  if (!['none', 'even', 'odd', 'mark', 'space'].includes(serial.parity)) return fail(`--parity must be none, even, odd, mark or space (got '${values.parity}')`);
  if (![1, 1.5, 2].includes(serial.stopBits)) return fail(`--stop-bits must be 1, 1.5 or 2 (got '${values['stop-bits']}')`);
  if (!gadget) {
    // The agent-only bundle ships without node_modules: say what a serial link needs, once, up front.
    try {
      await import('serialport');
    } catch {
      process.stderr.write('dockhand agent: serial links need the `serialport` package (npm install serialport@13 next to the agent); ' +
        'a USB gadget (--usb-gadget) does not\n');
      return 1;
    }
  }

  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    const { prepareAgent, runAgentOnPort } = await import('../agent/agent.js');
    const ctx = await prepareAgent({ root: values.root, stateDir: values.state, id: values.id, name: values.name });
    if (gadget) {
      const { runAgentOnGadget } = await import('../agent/usb-gadget.js');
      const { DEFAULT_GADGET_NAME, gadgetDir } = await import('../agent/usb-gadget-setup.js');
      const name = values.gadget ?? DEFAULT_GADGET_NAME;
      const released = await runAgentOnGadget(ctx, {
        ffs: values.ffs ?? DEFAULT_FFS, signal: controller.signal,
        ...(name === 'none' ? {} : { bind: { gadgetDir: gadgetDir('/sys/kernel/config', name), udc: values.udc ?? 'auto' } }),
      });
      if (!released) {
        // A FunctionFS read is still waiting in the kernel (the gadget was never bound), and Node cannot
        // exit past a blocked thread-pool read: end the way `kill` would.
        ctx.log('stopped (a FunctionFS read could not be ended; terminating)');
        process.off('SIGTERM', stop);
        process.kill(process.pid, 'SIGTERM');
        await new Promise(() => undefined); // the signal ends the process
      }
      ctx.log('stopped');
      return 0;
    }
    await runAgentOnPort(ctx, { port: values.port!, serial, signal: controller.signal });
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

async function gadgetCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(usage);
    return 0;
  }
  if (sub !== 'setup' && sub !== 'teardown') return fail(sub === undefined ? 'gadget needs setup or teardown' : `unknown gadget subcommand '${sub}'`);
  const options = {
    name: { type: 'string' }, ffs: { type: 'string' }, 'usb-id': { type: 'string' }, manufacturer: { type: 'string' },
    product: { type: 'string' }, serial: { type: 'string' }, configfs: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  } as const;
  let values;
  try {
    ({ values } = parseArgs({ args: rest, strict: true, options }));
  } catch (err) {
    return fail(argProblem(err, Object.keys(options)));
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const { DEFAULT_GADGET_NAME, DEFAULT_USB_ID, setupGadget, teardownGadget } = await import('../agent/usb-gadget-setup.js');
  const name = values.name ?? DEFAULT_GADGET_NAME;
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) return fail(`--name must be 1–32 letters, digits, '-' or '_' (got '${name}')`);
  const where = { name, ffs: values.ffs ?? `/dev/ffs-${name}`, configfs: values.configfs ?? '/sys/kernel/config' };
  try {
    let done: string[];
    if (sub === 'teardown') done = teardownGadget(where);
    else {
      let id = DEFAULT_USB_ID;
      if (values['usb-id'] !== undefined) {
        const { parseUsbId } = await import('../electron/link/discovery-usb-id.js');
        id = parseUsbId(values['usb-id']);
      }
      done = setupGadget({
        ...where, ...id, manufacturer: values.manufacturer ?? 'Dockhand', product: values.product ?? 'Dockhand device',
        serialNumber: values.serial ?? (await machineSerial()),
      });
    }
    for (const line of done) process.stdout.write(`${line}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`dockhand agent gadget ${sub}: ${describeError(err)}\n`);
    return err instanceof DockhandError || (err as Error).name === 'UsbIdFormatError' ? 1 : 2;
  }
}

/** A serial number that stays the same across boots: the machine ID's first 16 hex digits. */
async function machineSerial(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const id = await readFile('/etc/machine-id', 'utf8').catch(() => '');
  return id.trim().slice(0, 16) || 'dockhand-0001';
}
