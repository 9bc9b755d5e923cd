// Who the station is when it polls as its own managed client (spec §4 Identification, §8 IPAddresses) and
// which bandwidth class its connection has (§3.3 Flags, §15.4).
//
// - DeviceName is the host name; Platform is `<os> <major.minor> <arch>`, e.g. `linux 6.1 x64`; Processor is
//   the decimal dwProcessorType (host-processor.ts).
// - CodePage is 65001: Dockhand writes its XML in UTF-8.
// - SystemDefaultLCID comes from the host locale as Intl resolves it, mapped for common locales (exact
//   language-region first, then the language's main locale), 1033 (en-US) when unknown.
// - NetworkAdapter is the first active non-internal IPv4 adapter (host-network.ts), IPSubnet being the mask
//   as real clients send it; the location request instead sends the network ID (spec A13).
// - UserName and Domain are left out: they would name whoever runs the station, which the server has no
//   use for and which is not the station's identity.
import os from 'node:os';
import type { ClientIPAddress, Identification } from '../../../shared/protocol/types.js';
import { activeIPv4Adapters, linkSpeedBitsPerSecond, networkId } from './host-network.js';
import { processorType } from './host-processor.js';

const LCID: Record<string, number> = {
  'ar-SA': 1025, 'bg-BG': 1026, 'ca-ES': 1027, 'zh-TW': 1028, 'cs-CZ': 1029, 'da-DK': 1030, 'de-DE': 1031,
  'el-GR': 1032, 'en-US': 1033, 'es-ES': 3082, 'fi-FI': 1035, 'fr-FR': 1036, 'he-IL': 1037, 'hu-HU': 1038,
  'is-IS': 1039, 'it-IT': 1040, 'ja-JP': 1041, 'ko-KR': 1042, 'nl-NL': 1043, 'nb-NO': 1044, 'pl-PL': 1045,
  'pt-BR': 1046, 'ro-RO': 1048, 'ru-RU': 1049, 'hr-HR': 1050, 'sk-SK': 1051, 'sv-SE': 1053, 'th-TH': 1054,
  'tr-TR': 1055, 'id-ID': 1057, 'uk-UA': 1058, 'sl-SI': 1060, 'et-EE': 1061, 'lv-LV': 1062, 'lt-LT': 1063,
  'vi-VN': 1066, 'hi-IN': 1081, 'ms-MY': 1086, 'zh-CN': 2052, 'de-CH': 2055, 'en-GB': 2057, 'es-MX': 2058,
  'fr-BE': 2060, 'it-CH': 2064, 'nl-BE': 2067, 'pt-PT': 2070, 'sr-RS': 9242, 'zh-HK': 3076, 'de-AT': 3079,
  'en-AU': 3081, 'fr-CA': 3084, 'zh-SG': 4100, 'en-CA': 4105, 'fr-CH': 4108, 'en-NZ': 5129, 'en-IE': 6153,
  'en-ZA': 7177, 'en-IN': 16393, 'es-AR': 11274, 'es-CO': 9226, 'es-CL': 13322, 'es-US': 21514,
};

// The locale a bare language (or an unlisted region) falls back to.
const LANGUAGE_DEFAULT: Record<string, string> = {
  ar: 'ar-SA', bg: 'bg-BG', ca: 'ca-ES', cs: 'cs-CZ', da: 'da-DK', de: 'de-DE', el: 'el-GR', en: 'en-US', es: 'es-ES',
  fi: 'fi-FI', fr: 'fr-FR', he: 'he-IL', hu: 'hu-HU', is: 'is-IS', it: 'it-IT', ja: 'ja-JP', ko: 'ko-KR', nl: 'nl-NL',
  nb: 'nb-NO', no: 'nb-NO', pl: 'pl-PL', pt: 'pt-BR', ro: 'ro-RO', ru: 'ru-RU', hr: 'hr-HR', sk: 'sk-SK', sv: 'sv-SE',
  th: 'th-TH', tr: 'tr-TR', id: 'id-ID', uk: 'uk-UA', sl: 'sl-SI', et: 'et-EE', lv: 'lv-LV', lt: 'lt-LT', vi: 'vi-VN',
  hi: 'hi-IN', ms: 'ms-MY', zh: 'zh-CN', sr: 'sr-RS',
};

/** The Windows LCID of a BCP 47 tag (`de-AT` → 3079, `de` → 1031, `zh-Hant-TW` → 1028); 1033 when unknown. */
export function lcidForLocale(tag: string): number {
  let locale: Intl.Locale;
  try {
    locale = new Intl.Locale(tag);
  } catch {
    return 1033;
  }
  const language = locale.language;
  const region = locale.region ?? (language === 'zh' && locale.script === 'Hant' ? 'TW' : undefined);
  const exact = region === undefined ? undefined : LCID[`${language}-${region}`];
  return exact ?? LCID[LANGUAGE_DEFAULT[language] ?? ''] ?? 1033;
}

function platformString(): string {
  const [major = '0', minor = '0'] = os.release().split(/[.-]/);
  return `${os.platform()} ${Number.parseInt(major, 10) || 0}.${Number.parseInt(minor, 10) || 0} ${os.arch()}`;
}

/**
 * The host's default locale. Asked with no locale, any Intl service answers with it; plural rules are asked
 * because they load almost nothing: the first `Intl.DateTimeFormat()` of a process loads ICU's calendar
 * data, 25-30 ms of every station start (0.5 ms for PluralRules; the two gave the same tag for every LANG in
 * Debian's list of supported locales). Not with a tag: `new Intl.PluralRules('zh-TW')` resolves to `zh`.
 */
function hostLocale(): string {
  return new Intl.PluralRules().resolvedOptions().locale;
}

/** The Identification block of the station's own poll request. */
export function hostIdentification(id: string): Identification {
  const adapter = activeIPv4Adapters()[0];
  return {
    ID: id,
    DeviceName: os.hostname(),
    Platform: platformString(),
    Processor: String(processorType()),
    CodePage: 65001,
    SystemDefaultLCID: lcidForLocale(hostLocale()),
    ...(adapter ? { NetworkAdapter: { IPAddress: adapter.address, IPSubnet: adapter.netmask, MAC: adapter.mac } } : {}),
  };
}

/** Every active IPv4 address of the station with its network ID, for PackageLocationRequest (spec A13). */
export function hostIPAddresses(): ClientIPAddress[] {
  return activeIPv4Adapters().map((a) => ({ address: a.address, subnet: networkId(a.address, a.netmask) }));
}

export type BandwidthClass = 'low' | 'high';

/** Spec §3.3/A8: below 128 Kbps is low, and exactly 128 000 bit/s counts as low too; unknown is high. */
export function classifyBandwidth(bitsPerSecond: number | undefined): BandwidthClass {
  if (bitsPerSecond === undefined || !Number.isFinite(bitsPerSecond) || bitsPerSecond <= 0) return 'high';
  return bitsPerSecond <= 128_000 ? 'low' : 'high';
}

/**
 * The automatic bandwidth class of the station: the link speed of the first active adapter, as Linux reports
 * it in /sys/class/net/<if>/speed. Hosts and adapters that report no speed (macOS, Windows, Wi-Fi, virtual
 * links) count as high bandwidth, the class a wired or Wi-Fi station practically always has; a technician
 * who knows better sets the class by hand. `sysRoot` exists for tests.
 */
export function detectBandwidthClass(sysRoot = '/sys'): BandwidthClass {
  const adapter = activeIPv4Adapters()[0];
  return classifyBandwidth(adapter ? linkSpeedBitsPerSecond(adapter.name, sysRoot) : undefined);
}
