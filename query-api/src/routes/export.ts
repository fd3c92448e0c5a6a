import { notFound, parseId, RunExportQuery } from '@agentrace/schemas';
import { getRun, type Pool, streamRunSteps, withTenant } from '@agentrace/store';
import { Router } from 'express';
import { principalOf } from '../auth.ts';
import { ChunkWriter } from '../export/chunk-writer.ts';
import { writeOtlpRequest } from '../export/otlp-writer.ts';
import { writeTrajectory } from '../export/trajectory.ts';
import { parseQuery } from '../parse-request.ts';

/** `GET /v1/runs/{run_id}/export?format=jsonl|otlp`, streamed. */
export function exportRouter(pool: Pool): Router {
  const router = Router();
  router.get('/v1/runs/:runId/export', async (req, res) => {
    const { format } = parseQuery(RunExportQuery, req.query as Record<string, unknown>);
    const { tenantId } = principalOf(res);
    const runId = parseId(req.params.runId, 'run_id');
    try {
      await withTenant(pool, tenantId, async (db) => {
        const run = await getRun(db, tenantId, runId);
        if (!run) throw notFound('run');
        res.type(format === 'otlp' ? 'application/json' : 'application/x-ndjson');
        const out = new ChunkWriter(res);
        const steps = streamRunSteps(db, tenantId, runId);
        if (format === 'otlp') await writeOtlpRequest(out, run.trace_id, steps);
        else await writeTrajectory(out, run, steps);
        await out.flush();
        res.end();
      });
    } catch (err) {
      // Once the body has started, a failure can only cut it short.
      if (!res.headersSent) throw err;
      res.destroy(err as Error);
    }
  });
  return router;
}
