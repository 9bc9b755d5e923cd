// The WinCE-DM protocol codecs: one module per document (parse + build), plus DM time, Flags, booleans and
// the X-Device-* headers. Every parse* takes an optional last `{ maxBytes }` and throws only ProtocolError.
export * from './types.js';
export { ProtocolError } from './errors.js';
export { DEFAULT_MAX_DOCUMENT_BYTES, MAX_REPORT_BYTES, DM_NAMESPACES, type ParseOptions } from './xml.js';
export { parsePollServer, pollServerUrl, DM_SERVER_PATH, type PollServerAddress } from './poll-server.js';
export { describeAnswer, htmlPageProblem, htmlPageWords, looksLikeHtml, oneLine } from './answer-text.js';
export {
  parseDmTime, formatDmTime, dmTimeToDate, dateToDmTime, formatDmTimestamp, parseDmDuration, formatDmDuration,
} from './dmtime.js';
export {
  FLAG_LOW_BANDWIDTH, FLAG_HIGH_BANDWIDTH, FLAG_CRADLED, parseFlags, formatFlags, flagsAllow, describeFlags,
  type ConnectionState,
} from './flags.js';
export {
  HEADER, DEVICE_ACTIONS, REPORT_TYPES, buildDeviceHeaders, readDeviceHeaders, normalizeDevicePath,
  type DeviceAction, type ReportType, type DeviceHeaders,
} from './headers.js';
export { parseBooleanText } from './booleans.js';
export { parsePollRequest, buildPollRequest } from './poll-request.js';
export { parsePollResponse, buildPollResponse, MAX_POLL_RESPONSE_BYTES } from './poll-response.js';
export { parseInstructionsRequest, buildInstructionsRequest } from './instructions-request.js';
export { parseInstructions, buildInstructions, DOCKHAND_NAMESPACE } from './instructions.js';
export { parsePackageLocationRequest, buildPackageLocationRequest } from './package-location-request.js';
export { parsePackageLocation, buildPackageLocation } from './package-location.js';
export { parseStatus, buildStatus } from './status.js';
export { parseFileReport, buildFileReport, buildFileReportAsync } from './file-report.js';
export { parseInventory, buildInventory, buildInventoryAsync } from './inventory.js';
export { parseDocument, DOCUMENT_KINDS } from './document.js';
export { documentText, documentEncoding, type DocumentEncoding } from './document-text.js';
