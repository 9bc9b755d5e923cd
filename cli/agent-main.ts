// The device agent's own entry point, for the agent-only bundle (dist/agent/dockhand-agent.mjs, see
// scripts/build-cli.ts): `node dockhand-agent.mjs [agent options]` is `dockhand agent [agent options]`.
import { agentCommand } from './agent.js';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`dockhand-agent needs Node 22 or newer (this is ${process.version})\n`);
  process.exitCode = 2;
} else {
  process.exitCode = await agentCommand(process.argv.slice(2));
}
