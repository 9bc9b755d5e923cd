// How long the event loop is held: a probe ticks on a 1 ms timer and records the CPU time the main thread
// spent between two ticks (process.threadCpuUsage). Several test processes share the machine and a waiting
// thread is not a working one, so this is measured in CPU time, not by the wall clock; work handed to another
// thread does not count. (A timer, not setImmediate: a probe that spins would take a core from that thread.)

/** Runs `work` while a probe records the main thread's CPU time between consecutive ticks of the event loop. */
export async function holds<T>(work: () => Promise<T>): Promise<{ result: T; ticks: number; longestCpuMs: number; longestWallMs: number }> {
  let ticks = 0;
  let longestCpuMs = 0;
  let longestWallMs = 0;
  let running = true;
  let lastCpu = process.threadCpuUsage();
  let lastWall = performance.now();
  const probe = (): void => {
    const cpu = process.threadCpuUsage(lastCpu);
    const now = performance.now();
    longestCpuMs = Math.max(longestCpuMs, (cpu.user + cpu.system) / 1000);
    longestWallMs = Math.max(longestWallMs, now - lastWall);
    ticks += 1;
    lastCpu = process.threadCpuUsage();
    lastWall = now;
    if (running) setTimeout(probe, 1);
  };
  setTimeout(probe, 1);
  try {
    const result = await work();
    probe();
    return { result, ticks, longestCpuMs, longestWallMs };
  } finally {
    running = false;
  }
}

