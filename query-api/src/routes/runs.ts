import { EmptyQuery, notFound, parseId, RunListQuery, StepListQuery } from '@agentrace/schemas';
import {
  decodeSeqCursor,
  decodeTimeCursor,
  getRun,
  getTimelineJson,
  listRuns,
  listSteps,
  type Pool,
  runVersion,
  withTenant,
} from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { parseCursor, parseQuery, splitTagFilters } from '../parse-request.ts';
import type { TimelineCache } from '../timeline-cache.ts';

/**
 * `GET /v1/runs`, `/v1/runs/{id}`, `/v1/runs/{id}/steps`, `/v1/runs/{id}/timeline`; each read runs as the
 * application role of the key's tenant (row-level security backs the tenant filter). Timelines are served
 * from `timelines` while their run has not changed.
 */
export function runsRouter(pool: Pool, timelines: TimelineCache): Router {
  const router = Router();

  router.get('/v1/runs', async (req, res) => {
    const { rest, tags } = splitTagFilters(req.query as Record<string, unknown>);
    const query = parseQuery(RunListQuery, rest, { tags });
    const after = parseCursor(query.cursor, decodeTimeCursor);
    const { tenantId } = principalOf(res);
    res.json(await withTenant(pool, tenantId, (db) => listRuns(db, tenantId, query, after)));
  });

  router.get('/v1/runs/:runId', async (req, res) => {
    const runId = parseId(req.params.runId, 'run_id');
    const { tenantId } = principalOf(res);
    const run = await withTenant(pool, tenantId, (db) => getRun(db, tenantId, runId));
    if (!run) throw notFound('run');
    res.json(run);
  });

  router.get('/v1/runs/:runId/steps', async (req, res) => {
    const tenantId = principalOf(res).tenantId;
    const runId = parseId(req.params.runId, 'run_id');
    const query = parseQuery(StepListQuery, req.query as Record<string, unknown>);
    const afterCursor = parseCursor(query.cursor, decodeSeqCursor);
    const afterSeq = Math.max(afterCursor ?? 0, query.after_seq ?? 0);
    const page = await withTenant(pool, tenantId, async (db) =>
      (await getRun(db, tenantId, runId)) ? listSteps(db, tenantId, runId, query, afterSeq) : null,
    );
    if (!page) throw notFound('run');
    res.json(page);
  });

  router.get('/v1/runs/:runId/timeline', async (req, res) => {
    parseQuery(EmptyQuery, req.query as Record<string, unknown>);
    const runId = parseId(req.params.runId, 'run_id');
    const { tenantId } = principalOf(res);
    const timeline = await withTenant(
      pool,
      tenantId,
      async (db): Promise<Buffer | typeof NOT_MODIFIED | null> => {
        const version = await runVersion(db, tenantId, runId);
        if (version === null) return null;
        // The version validates the answer in any process: a client that holds it is answered 304 unread.
        const tag = timelineTag(version);
        res.set({ ETag: tag, 'Cache-Control': 'private, no-cache' });
        if (matchesTag(req.get('if-none-match'), tag)) return NOT_MODIFIED;
        const cached = timelines.get(tenantId, runId, version);
        if (cached !== undefined) return cached;
        const rendered = await getTimelineJson(db, tenantId, runId);
        if (rendered === null) return null;
        const json = Buffer.from(rendered.json);
        if (rendered.settled) return timelines.set(tenantId, runId, version, json);
        // A parent still to come from another run would change this answer without changing the run.
        res.removeHeader('ETag');
        return json;
      },
    );
    if (timeline === null) throw notFound('run');
    if (timeline === NOT_MODIFIED) res.status(304).end();
    else res.type('application/json').send(timeline);
  });

  return router;
}

// The format's own version beside the run's: an upgrade that renders timelines differently does not
// answer 304 to what an older one sent.
const TIMELINE_FORMAT = 1;
const NOT_MODIFIED = Symbol('not modified');
const timelineTag = (runVersion: string) => `"${TIMELINE_FORMAT}-${runVersion}"`;

/**
 * Whether an If-None-Match header names `tag` (weak comparison, RFC 9110 13.1.2). Not Express's
 * `req.fresh`: that says no whenever the request carries `Cache-Control: no-cache`, which fetch() adds to
 * every request it is given an If-None-Match for, though an origin server still answers the condition.
 */
function matchesTag(header: string | undefined, tag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((item) => {
    const candidate = item.trim();
    return candidate === '*' || candidate.replace(/^W\//, '') === tag;
  });
}
