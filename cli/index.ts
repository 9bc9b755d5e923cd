// `dockhand <command> …`: one entry point, a module per command. Each command returns its exit code.
import { commandTable } from './commands.js';
import { didYouMean } from '../shared/model/did-you-mean.js';

const usage = `usage: dockhand <command> [options]

commands:
  station     run the headless station (the device-management client engine)
  kit         the station's field kit: status, refresh, export and import (provisioning without a network)
  server      run or administer the reference management server
  agent       run the reference device agent on a serial port (the device side of the link)
  protocol    parse a Device Management document (protocol parse FILE)
  start       run the desktop app, or the headless station with the web console when Electron is unavailable

'dockhand COMMAND --help' explains each command.
`;

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage);
    process.exitCode = name ? 0 : 2;
    return;
  }
  const load = commandTable[name];
  if (!load) {
    const near = didYouMean(name, Object.keys(commandTable));
    process.stderr.write(`dockhand: unknown command '${name}'${near ? `; did you mean 'dockhand ${near}'?` : ''}\n${usage}`);
    process.exitCode = 2;
    return;
  }
  const run = await load();
  process.exitCode = await run(rest);
}
