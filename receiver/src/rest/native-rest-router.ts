import { randomUUID } from 'node:crypto';
import {
  type AssignedSteps,
  CreateRunBody,
  FinishRunBody,
  HttpError,
  type NativeStep,
  notFound,
  parseBody,
  parseId,
  parseStepBatch,
} from '@agentrace/schemas';
import {
  type DbHealth,
  declareRun,
  finishRun,
  getRun,
  type Pool,
  type StepOutcome,
  stepIdsOfOtherRuns,
} from '@agentrace/store';
import express, { type Response } from 'express';
import type { Logger } from 'pino';
import { QueueFullError } from '../ingest-queue.ts';
import type { IngestPrincipal, IngestService } from '../ingest-service.ts';
import { ThrottledError } from '../ingest-throttle.ts';
import type { ReceiverMetrics } from '../metrics.ts';
import type { NativeRunRef } from '../normalize/normalize-native-step.ts';
import { runIdFor } from '../normalize/run-id.ts';
import { ingestPrincipalOf, requireIngestKey } from './require-ingest-key.ts';

export interface NativeRestDeps {
  pool: Pool;
  health: DbHealth;
  ingest: IngestService;
  metrics: ReceiverMetrics;
  logger: Logger;
  maxBodyBytes: number;
}

/**
 * Native REST ingest (API.md "Native REST", port 4318): `POST /v1/runs`, `POST /v1/runs/{id}/steps`,
 * `POST /v1/runs/{id}:finish`, with an ingest key. Errors are thrown as HttpError for the app's handler.
 */
export function nativeRestRouter(deps: NativeRestDeps): express.Router {
  const router = express.Router();
  const auth = requireIngestKey(deps);
  // Any Content-Type is read as JSON: `curl -d` sends a form type by default.
  const readJson = express.json({ type: () => true, limit: deps.maxBodyBytes });

  router.post('/v1/runs', auth, readJson, async (req, res) => {
    const principal = ingestPrincipalOf(res);
    const body = parseBody(CreateRunBody, req.body);
    // With a trace, the run is the one the trace's spans land in (their run id is derived the same way).
    const runId = body.trace_id ? runIdFor(principal.tenantId, body.trace_id, undefined) : randomUUID();
    const labels = deps.ingest.redactRun({ name: body.name, tags: body.tags ?? {} });
    const declared = await declareRun(deps.pool, {
      tenantId: principal.tenantId,
      projectId: principal.projectId,
      runId,
      name: labels.name,
      tags: labels.tags,
      parentRunId: body.parent_run_id ?? null,
      traceId: body.trace_id ? Buffer.from(body.trace_id, 'hex') : null,
      startedAt: body.started_at ?? new Date().toISOString(),
    });
    if (declared.outcome === 'conflict') {
      throw new HttpError('conflict', `trace ${body.trace_id} already has a run declared otherwise`, {
        trace_id: `belongs to run ${declared.run.run_id}, declared under another name or in another project`,
      });
    }
    res.status(declared.outcome === 'existing' ? 200 : 201).json(declared.run);
  });

  router.post('/v1/runs/:runId/steps', auth, readJson, async (req, res) => {
    const principal = ingestPrincipalOf(res);
    const runId = parseId(req.params.runId, 'run_id');
    const batch = parseStepBatch(req.body);
    if (!batch.ok) {
      throw new HttpError('invalid_argument', `invalid steps: ${Object.keys(batch.details).join(', ')}`, batch.details);
    }
    const run = await getRun(deps.pool, principal.tenantId, runId);
    if (!run || run.project_id !== principal.projectId) throw notFound('run');
    await refuseStepIdsOfOtherRuns(deps.pool, principal.tenantId, runId, batch.steps);
    const ref: NativeRunRef = { runId, traceId: run.trace_id === null ? null : Buffer.from(run.trace_id, 'hex') };
    const outcomes = await writeOrUnavailable(deps, res, principal, ref, batch.steps);
    // Only a race with a concurrent batch of another run that uses the same step_id gets here.
    const stolen = outcomes.flatMap((o, i) => (o.runId === runId ? [] : [i]));
    if (stolen.length > 0) throw stepIdConflict(stolen);
    const body: AssignedSteps = {
      run_id: runId,
      assigned: outcomes.map((o, index) => ({ index, step_id: o.stepId, seq: o.seq })),
    };
    res.json(body);
  });

  // The literal `:finish` suffix is escaped: an unescaped ':' would start a second path parameter.
  router.post('/v1/runs/:runId\\:finish', auth, readJson, async (req, res) => {
    const principal = ingestPrincipalOf(res);
    const runId = parseId(req.params.runId, 'run_id');
    const body = parseBody(FinishRunBody, req.body);
    const finished = await finishRun(deps.pool, {
      tenantId: principal.tenantId,
      projectId: principal.projectId,
      runId,
      status: body.status,
      finishedAt: body.finished_at ?? null,
    });
    if (finished.ok) return void res.json(finished.run);
    if (finished.reason === 'not_found') throw notFound('run');
    if (finished.reason === 'before_start') {
      throw new HttpError('invalid_argument', 'finished_at is before the run started', {
        finished_at: "must not be before the run's started_at",
      });
    }
    throw new HttpError('conflict', `run already finished as ${finished.run.status}`, {
      status: `the run is ${finished.run.status}; finishing again must repeat that status`,
    });
  });

  return router;
}

const stepIdConflict = (indexes: number[]) =>
  new HttpError(
    'conflict',
    'step_id already used by another run',
    Object.fromEntries(indexes.map((i) => [`steps[${i}].step_id`, 'already used by a step of another run'])),
  );

/** A client step id names one step of the tenant: reusing one of another run is refused before writing. */
async function refuseStepIdsOfOtherRuns(pool: Pool, tenantId: string, runId: string, steps: NativeStep[]): Promise<void> {
  const ids = steps.flatMap((s) => (s.step_id ? [s.step_id] : []));
  const taken = await stepIdsOfOtherRuns(pool, tenantId, runId, ids);
  if (taken.size === 0) return;
  throw stepIdConflict(steps.flatMap((s, i) => (s.step_id && taken.has(s.step_id) ? [i] : [])));
}

/**
 * Writes through the shared queue; overload and write failures are a retryable 503, as on OTLP, and a
 * tenant over its ingest rate a 429 with Retry-After.
 */
async function writeOrUnavailable(
  deps: NativeRestDeps,
  res: Response,
  principal: IngestPrincipal,
  run: NativeRunRef,
  steps: NativeStep[],
): Promise<StepOutcome[]> {
  try {
    return await deps.ingest.ingestNativeSteps(principal, run, steps);
  } catch (err) {
    if (err instanceof ThrottledError) {
      deps.metrics.requestsRefused.inc({ reason: 'throttled' });
      res.setHeader('Retry-After', String(err.retryAfterSeconds));
      throw new HttpError('rate_limited', err.message);
    }
    const overloaded = err instanceof QueueFullError;
    if (!overloaded) deps.logger.error({ err }, 'native steps write failed');
    deps.metrics.requestsRefused.inc({ reason: overloaded ? 'overloaded' : 'write_failed' });
    // The error handler adds Retry-After to every 503.
    throw new HttpError('unavailable', overloaded ? err.message : 'steps could not be stored; retry later');
  }
}
