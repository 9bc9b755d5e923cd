// The station's processor in the numbers a CE client reports (spec §4 Processor, §12.3 Device_System).
//
// - ProcessorType is SYSTEM_INFO.dwProcessorType: x64 → 8664 (PROCESSOR_AMD_X8664), ia32 → 586
//   (PROCESSOR_INTEL_PENTIUM), arm → 2577 (PROCESSOR_STRONGARM, what ARM CE devices report). arm64 has no
//   dwProcessorType of its own; we report 2577 as well, so a server grouping by processor puts the station with
//   the ARM family, and ProcessorArchitecture (12 = ARM64) tells the two apart. Anything else → 0.
// - ProcessorArchitecture is wProcessorArchitecture: 0 Intel, 1 MIPS, 3 PPC, 5 ARM, 9 AMD64, 12 ARM64,
//   65535 unknown.
// - ISA is CE's instruction-set code, PROCESSOR_INSTRUCTION_CODE(architecture, core, feature) =
//   architecture << 24 | core << 16 | feature. x86 hosts run CE's x86 code (32-bit core with FP: 65537);
//   ARM hosts run ARMv4I code with FP (5 << 24 | 2 << 16 | 1); others 0.
// - ProcessorLevel / ProcessorRevision follow Windows on x86: the CPU family, and model << 8 | stepping,
//   read from /proc/cpuinfo; 0 where the host does not say.
import fs from 'node:fs';
import os from 'node:os';

export function processorType(arch: string = os.arch()): number {
  switch (arch) {
    case 'x64':
      return 8664;
    case 'ia32':
      return 586;
    case 'arm':
    case 'arm64':
      return 2577;
    default:
      return 0;
  }
}

export function processorArchitecture(arch: string = os.arch()): number {
  const codes: Record<string, number> = { ia32: 0, x64: 9, arm: 5, arm64: 12, mips: 1, mipsel: 1, ppc: 3, ppc64: 3 };
  return codes[arch] ?? 0xffff;
}

export function instructionSet(arch: string = os.arch()): number {
  if (arch === 'x64' || arch === 'ia32') return (0 << 24) | (1 << 16) | 1;
  if (arch === 'arm' || arch === 'arm64') return (5 << 24) | (2 << 16) | 1;
  return 0;
}

/** Family, and model << 8 | stepping, of the first CPU in `/proc/cpuinfo` (x86 wording); 0 when absent. */
export function processorLevelAndRevision(cpuinfoPath = '/proc/cpuinfo'): { level: number; revision: number } {
  let text = '';
  try {
    text = fs.readFileSync(cpuinfoPath, 'utf8');
  } catch {
    return { level: 0, revision: 0 };
  }
  const field = (name: string): number => {
    const m = new RegExp(`^${name}\\s*:\\s*(\\d+)`, 'm').exec(text);
    return m ? Number.parseInt(m[1] as string, 10) : 0;
  };
  return { level: field('cpu family'), revision: ((field('model') & 0xff) << 8) | (field('stepping') & 0xff) };
}
