/** Unix nanoseconds to RFC 3339 UTC text with microseconds (PostgreSQL's precision), which sorts as text. */
export function nanosToIso(ns: bigint): string {
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
