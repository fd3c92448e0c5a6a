/** The HTTP statuses an OTLP exporter may retry (OTLP spec); every other failure status is final. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export type PostOutcome =
  | { kind: 'accepted' }
  | { kind: 'retry'; retryAfterMs?: number; reason: string }
  | { kind: 'rejected'; reason: string };

export interface OtlpTarget {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/**
 * POSTs an OTLP protobuf export request as it is, and says what to do next: done, retry later (the
 * receiver is unreachable, timed out or answered a retryable status, with its `Retry-After`), or give up
 * (any other status, such as 400 or 401, which a retry would only repeat).
 */
export async function postOtlp(target: OtlpTarget, payload: Uint8Array): Promise<PostOutcome> {
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/x-protobuf' },
      body: payload,
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    return { kind: 'retry', reason: describeNetworkError(error) };
  }
  const body = await response.text().catch(() => '');
  if (response.ok) return { kind: 'accepted' };
  const reason = `HTTP ${response.status} ${body.slice(0, 200)}`.trim();
  if (!RETRYABLE_STATUSES.has(response.status)) return { kind: 'rejected', reason };
  return { kind: 'retry', retryAfterMs: retryAfterMs(response.headers.get('retry-after')), reason };
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
