// What a technician can do about a problem the station logged, matched on the words of the message.
// The engine's messages already say what happened; this adds the next step for the Activity view.
const RULES: Array<[RegExp, string]> = [
  [/--allow-commands|commands are not allowed/, 'Allow commands in Settings (or start the station with --allow-commands) if this station may run the server\'s command lines.'],
  [/refused the connection|could not be reached|could not be found \(DNS\)|did not answer in time|dropped the connection|offline/, 'Check the network and that the management server is running; the station keeps its queue and retries by itself.'],
  [/not docked|undocked|was unplugged|disconnected/, 'Dock the device again; its work resumes from where it stopped.'],
  [/outside the station's folder|climbs up|refused|PATH_REFUSED/, 'Fix the package\'s LocalDestination or file name on the server; the station will not write outside its folder.'],
  [/SHA-256|sha256|hash/i, 'Republish the package on the server; the next attempt downloads it again from the beginning.'],
  [/bytes .* (expected|announced)|size/i, 'Check the package size published on the server, then retry.'],
  [/exited with code|was stopped by|could not run/, 'Read the command output in the log; fix the package\'s command line or the program, then retry.'],
  [/answered (4|5)\d\d/, 'Check the server\'s log for this request; fix the server side, then retry.'],
  [/is not valid|not a Device Management document|PollResponse|Instructions|PackageLocation/, 'The server sent a document the station cannot read; check the server version and its logs.'],
];

export function nextStepFor(message: string): string {
  for (const [pattern, step] of RULES) if (pattern.test(message)) return step;
  return '';
}

const PHASE_STEPS: Record<string, string> = {
  location: 'Check the package\'s download location on the server (an HTTP URL the station can reach), then retry.',
  download: 'Check the network and the server, then retry; the download resumes from its checkpoint.',
  verify: 'Republish the package on the server; the next attempt downloads it again from the beginning.',
  install: 'Check the package\'s LocalDestination and the free space on the station, then retry.',
  push: 'Check the cable and the device\'s free space, dock it again and retry; the push resumes from the byte the device holds.',
  command: 'Read the command output in the device\'s activity; fix the package\'s command line or the program on the server, then retry.',
};

/** The next step for a package that failed in `phase`: the message's own rule when one matches, else the phase's. */
export function nextStepForFailure(phase: string, reason: string): string {
  const byMessage = nextStepFor(reason);
  // A command's output may mention a size or a hash; for a command failure the phase decides.
  if (phase === 'command') return /--allow-commands|commands are not allowed/.test(reason) ? byMessage : PHASE_STEPS.command!;
  return byMessage || PHASE_STEPS[phase] || '';
}
