/** Renders a timestamptz column as RFC 3339 UTC text with microseconds, which sorts as text. */
export const TIMESTAMP_TEXT = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
