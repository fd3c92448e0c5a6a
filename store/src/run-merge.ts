import type { RunStatus } from '@agentrace/schemas';
import type { StepFacts } from './ingest-types.ts';

/** The mutable part of a run row, as the ingest writer reads it under the row lock. */
export interface RunState {
  name: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  hasRoot: boolean;
  /** Declared over native REST: its name, start and end come from the REST calls, not a root span. */
  declared: boolean;
  sessionId: string | null;
  userId: string | null;
  agentName: string | null;
  parentRunId: string | null;
  tags: Record<string, string>;
  stepCount: number;
  toolCount: number;
  errorCount: number;
  nextSeq: number;
}

/**
 * Folds newly accepted steps (in seq order) into a run. Pure, so the run-level rules of API.md
 * ("running until the root arrives", error_count, tool_count...) are testable without a database.
 */
export function mergeRun(run: RunState, steps: readonly StepFacts[]): RunState {
  const next: RunState = { ...run, tags: { ...run.tags } };
  for (const step of steps) {
    const hints = step.run;
    next.stepCount += 1;
    if (step.type === 'tool') next.toolCount += 1;
    if (step.status === 'error') next.errorCount += 1;
    next.sessionId ??= hints.sessionId;
    next.userId ??= hints.userId;
    next.parentRunId ??= hints.parentRunId;
    Object.assign(next.tags, hints.tags);
    if (hints.isRoot && !next.hasRoot && !next.declared) {
      next.hasRoot = true;
      next.name = hints.name ?? step.name;
      next.startedAt = step.ts;
      next.finishedAt = step.endTs;
      next.durationMs = step.durationMs;
      next.status = hints.explicitStatus ?? (step.status === 'error' ? 'failed' : 'succeeded');
      next.agentName = hints.agentName ?? next.agentName;
    } else {
      if (!next.hasRoot && step.ts < next.startedAt) next.startedAt = step.ts;
      if (step.type === 'agent') next.agentName ??= hints.agentName;
    }
  }
  return next;
}

/** A run row for a run first seen through `step`; the root, when it comes, fills in the rest. */
export function placeholderRun(step: StepFacts): RunState {
  return {
    name: step.run.name ?? step.name,
    status: 'running',
    startedAt: step.ts,
    finishedAt: null,
    durationMs: null,
    hasRoot: false,
    declared: false,
    sessionId: null,
    userId: null,
    agentName: null,
    parentRunId: null,
    tags: {},
    stepCount: 0,
    toolCount: 0,
    errorCount: 0,
    nextSeq: 1,
  };
}
