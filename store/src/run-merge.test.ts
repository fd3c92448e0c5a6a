import { describe, expect, it } from 'vitest';
import { mergeRun, placeholderRun } from './run-merge.ts';
import { stepRecord } from './testing/step-records.ts';

const ids = { tenantId: 't', projectId: 'p', runId: 'r' };

describe('mergeRun', () => {
  it('keeps a run running, and its start the earliest step, until the root arrives', () => {
    const late = stepRecord({ ...ids, name: 'late', ts: '2026-01-01T00:00:05.000000Z' });
    const early = stepRecord({ ...ids, name: 'early', ts: '2026-01-01T00:00:02.000000Z' });
    const run = mergeRun(placeholderRun(late), [late, early]);
    expect(run).toMatchObject({ status: 'running', hasRoot: false, startedAt: early.ts, finishedAt: null, stepCount: 2 });
  });

  it.each([
    ['unset', null, 'succeeded'],
    ['ok', null, 'succeeded'],
    ['error', null, 'failed'],
    ['ok', 'canceled', 'canceled'],
  ] as const)('finishes with the root: status %s, explicit %s → %s', (status, explicitStatus, expected) => {
    const child = stepRecord({ ...ids, ts: '2026-01-01T00:00:01.000000Z' });
    const root = stepRecord({
      ...ids,
      name: 'root span',
      status,
      ts: '2026-01-01T00:00:00.500000Z',
      endTs: '2026-01-01T00:00:09.000000Z',
      durationMs: 8500,
      run: { isRoot: true, explicitStatus, name: 'nightly eval', agentName: 'planner' },
    });
    const run = mergeRun(mergeRun(placeholderRun(child), [child]), [root]);
    expect(run).toMatchObject({
      status: expected,
      name: 'nightly eval',
      startedAt: root.ts,
      finishedAt: root.endTs,
      durationMs: 8500,
      agentName: 'planner',
      stepCount: 2,
    });
  });

  it('counts tools and errors, keeps the first session and user, and merges tags', () => {
    const steps = [
      stepRecord({ ...ids, type: 'tool', run: { sessionId: 's1', tags: { env: 'prod' } } }),
      stepRecord({ ...ids, type: 'tool', status: 'error', run: { sessionId: 's2', userId: 'u1', tags: { team: 'a' } } }),
      stepRecord({ ...ids, type: 'llm', status: 'error' }),
    ];
    const run = mergeRun(placeholderRun(steps[0]!), steps);
    expect(run).toMatchObject({ toolCount: 2, errorCount: 2, sessionId: 's1', userId: 'u1', tags: { env: 'prod', team: 'a' } });
  });

  it('names the run after its first agent step until a root says otherwise', () => {
    const llm = stepRecord({ ...ids, type: 'llm', run: { agentName: 'inherited' } });
    const agent = stepRecord({ ...ids, type: 'agent', run: { agentName: 'researcher' } });
    expect(mergeRun(placeholderRun(llm), [llm, agent]).agentName).toBe('researcher');
  });

  it('leaves a run declared over REST running, under its declared name, when a root span arrives', () => {
    const root = stepRecord({ ...ids, name: 'root span', status: 'error', run: { isRoot: true, name: 'from span' } });
    const declared = { ...placeholderRun(root), name: 'declared', declared: true };
    expect(mergeRun(declared, [root])).toMatchObject({ status: 'running', name: 'declared', hasRoot: false, stepCount: 1, errorCount: 1 });
  });
});
