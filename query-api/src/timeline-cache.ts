/**
 * Rendered timelines by (tenant, run), each valid for one version of its run (`runVersion`), least
 * recently used evicted first once the rendered JSON passes `maxBytes`. A finished run's timeline is read
 * again and again (an analyst's UI, several analysts) while rendering a 5,000-step one costs ~100 ms;
 * checking the run's version costs one indexed row. Each process validates against the database, so
 * several API processes stay correct without talking to each other.
 */
export class TimelineCache {
  private readonly entries = new Map<string, { version: string; json: Buffer }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The timeline rendered for exactly this version of the run, if it is still held. */
  get(tenantId: string, runId: string, version: string): Buffer | undefined {
    const key = `${tenantId}/${runId}`;
    const entry = this.entries.get(key);
    if (!entry || entry.version !== version) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.json;
  }

  /**
   * Holds `json` as the timeline of this version of the run (replacing an older one) and returns it. Held as
   * the UTF-8 bytes sent, so that an answer from the cache is not encoded again (megabytes per request).
   */
  set(tenantId: string, runId: string, version: string, json: Buffer): Buffer {
    const key = `${tenantId}/${runId}`;
    this.drop(key);
    // A timeline larger than the whole cache would only evict everything else.
    if (json.byteLength > this.maxBytes) return json;
    this.entries.set(key, { version, json });
    this.bytes += json.byteLength;
    for (const oldest of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(oldest);
    }
    return json;
  }

  /** Bytes of rendered JSON held. */
  get size(): number {
    return this.bytes;
  }

  private drop(key: string) {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= entry.json.byteLength;
    this.entries.delete(key);
  }
}
