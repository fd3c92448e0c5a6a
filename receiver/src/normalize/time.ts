/**
 * Unix nanoseconds to RFC 3339 UTC text with microseconds (PostgreSQL's precision), which sorts as text.
 * The digits come from the decimal text, not BigInt division, and the date and time of day are formatted
 * once per second, as a batch's timestamps share their seconds (4x faster, measured apart).
 */
export function nanosToIso(ns: bigint): string {
  if (ns < 0n || ns >= YEAR_10000) return nanosToIsoByArithmetic(ns);
  const digits = ns.toString().padStart(10, '0');
  const seconds = digits.slice(0, -9);
  if (seconds !== cachedSeconds) {
    cachedSeconds = seconds;
    cachedDateTime = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  }
  return `${cachedDateTime}.${digits.slice(-9, -3)}Z`;
}

// Four-digit years only: toISOString writes others with a sign and six digits.
const YEAR_10000 = 253_402_300_800n * 1_000_000_000n;
let cachedSeconds = '';
let cachedDateTime = '';

/** The general form, for instants outside 1970-9999 (no sender means them, but their text must not change). */
export function nanosToIsoByArithmetic(ns: bigint): string {
  const micros = ns / 1000n;
  const millis = micros / 1000n;
  const extra = Number(micros - millis * 1000n);
  return `${new Date(Number(millis)).toISOString().slice(0, 23)}${String(extra).padStart(3, '0')}Z`;
}

/** Unix nanoseconds of an RFC 3339 timestamp (as given to the native REST API). */
export function isoToNanos(iso: string): bigint {
  const match = /\.(\d+)/.exec(iso);
  const fraction = match ? match[1]!.padEnd(9, '0').slice(0, 9) : '000000000';
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return BigInt(seconds) * 1_000_000_000n + BigInt(fraction);
}
