import { HttpError, StreamEventType, StreamQuery } from '@agentrace/schemas';
import { isBeforeStreamHorizon, type Pool, parseStreamCursor, type StreamCursor } from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { parseQuery } from '../parse-request.ts';
import { SseClient, type SseClientOptions } from '../stream/sse-client.ts';
import type { StreamHub } from '../stream/stream-hub.ts';
import type { StreamMetrics } from '../stream/stream-metrics.ts';

/**
 * `GET /v1/stream` (Server-Sent Events): the key's tenant's `step.created`, `run.updated` and
 * `approval.updated` events that pass the filters, from now on or, with `Last-Event-ID` (or
 * `?last_event_id=`), from just after that event: back-filled from the log, then live.
 */
export function streamRouter(
  pool: Pool,
  hub: StreamHub,
  options: SseClientOptions,
  metrics: StreamMetrics | null,
): Router {
  const router = Router();

  router.get('/v1/stream', async (req, res) => {
    const query = parseQuery(StreamQuery, req.query);
    const { tenantId } = principalOf(res);
    // Before the answer starts: a client that saw the headers misses nothing committed after.
    const from =
      (await resumeCursor(pool, req.get('last-event-id') ?? query.last_event_id)) ?? (await hub.now());
    const filter = {
      tenantId,
      projectId: query.project_id ?? null,
      runId: query.run_id ?? null,
      traceId: query.trace_id ?? null,
      types: new Set(query.types ?? StreamEventType.options),
    };
    const client = new SseClient(res, filter, options, metrics);
    res.once('close', () => hub.unsubscribe(client));
    // The answer has started: a failure from here on is the stream's final event, not an error response.
    await hub.subscribe(client, from).catch(() => {
      client.end('unavailable', 'the live stream is unavailable; reconnect with Last-Event-ID');
    });
  });

  return router;
}

/** The position to resume after, or null for "from now on"; a 400 for an id that is not ours or too old. */
async function resumeCursor(pool: Pool, lastEventId: string | undefined): Promise<StreamCursor | null> {
  if (lastEventId === undefined) return null;
  const cursor = parseStreamCursor(lastEventId);
  if (!cursor)
    throw new HttpError('invalid_argument', 'invalid Last-Event-ID', {
      last_event_id: 'not an event id of this stream',
    });
  if (await isBeforeStreamHorizon(pool, cursor))
    throw new HttpError('invalid_argument', 'Last-Event-ID is older than the events kept', {
      last_event_id:
        'events after it were pruned (AGENTRACE_STREAM_RETENTION_S): read the run again, then subscribe without it',
    });
  return cursor;
}
