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
