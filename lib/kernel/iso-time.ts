/**
 * ISO-8601 timestamps without `Date`.
 *
 * The kernel takes time as an integer number of milliseconds and may not touch `Date` (a lint
 * rule forbids it, so that no decision can depend on the machine's clock). Signed records still
 * carry human-readable times, so this file formats and parses the one spelling the kernel uses:
 * exactly what `Date.prototype.toISOString` prints (`2025-01-31T12:00:00.000Z`, and `+YYYYYY` /
 * `-YYYYYY` outside years 0..9999). Tests compare it with `Date` over the whole range.
 */

/** Thrown by formatIso for a time the kernel cannot represent (never by the parsers). */
export class IsoTimeError extends Error {
  readonly code = "INVALID_TIME";
  constructor(message: string) {
    super(message);
    this.name = "IsoTimeError";
  }
}

const MS_PER_DAY = 86_400_000;
/** ECMAScript's time range: ±100,000,000 days around the epoch. */
export const MAX_TIME_MS = 8.64e15;

// Howard Hinnant's days <-> civil algorithms (proleptic Gregorian, exact for every integer).
function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/**
 * Formats `ms` (milliseconds since the Unix epoch, UTC) exactly as `new Date(ms).toISOString()`.
 * Throws IsoTimeError when `ms` is not an integer within ±8.64e15 — a time the kernel cannot
 * represent is a caller bug, not something to round.
 */
export function formatIso(ms: number): string {
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_TIME_MS) {
    throw new IsoTimeError("time must be an integer number of milliseconds within ±8.64e15");
  }
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  const { year, month, day } = civilFromDays(days);
  const yearText =
    year >= 0 && year <= 9999 ? pad(year, 4) : (year < 0 ? "-" : "+") + pad(Math.abs(year), 6);
  return `${yearText}-${pad(month, 2)}-${pad(day, 2)}T${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(millis, 3)}Z`;
}

const LENIENT =
  /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:\d{2})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Parses an RFC 3339 timestamp with seconds: `YYYY-MM-DDTHH:MM:SS[.f{1,3}](Z|±HH:MM)`, also the
 * `±YYYYYY` extended years. Returns milliseconds, or undefined for anything else (out-of-range
 * fields, 24:00, leap seconds, `-000000`, more than millisecond precision). Never throws.
 */
export function parseIsoLenient(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const m = LENIENT.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (y === "-000000") return undefined;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hours = Number(h);
  const minutes = Number(mi);
  const seconds = Number(s);
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, "0"));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== undefined && zone !== "Z") {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om);
  }
  const ms =
    daysFromCivil(year, month, day) * MS_PER_DAY +
    hours * 3_600_000 +
    minutes * 60_000 +
    seconds * 1000 +
    millis -
    offsetMinutes * 60_000;
  if (Math.abs(ms) > MAX_TIME_MS) return undefined;
  return ms;
}

/**
 * Parses the kernel's own spelling (the output of formatIso) and nothing else, so a signed time
 * has exactly one text. Returns milliseconds, or undefined for any other text. Never throws.
 */
export function parseIso(text: unknown): number | undefined {
  const ms = parseIsoLenient(text);
  if (ms === undefined || formatIso(ms) !== text) return undefined;
  return ms;
}
