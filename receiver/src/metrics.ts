import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StepOutcome } from '@agentrace/store';
import type { QueueObserver } from './ingest-queue.ts';

/**
 * The receiver's own Prometheus metrics (DESIGN §7), in the server's one registry (given: `serve` makes
 * it and passes it to everything that has metrics, and `/metrics` on either port shows it whole).
 */
export class ReceiverMetrics implements QueueObserver {
  readonly registry: Registry;
  readonly spansAccepted: Counter;
  readonly spansDuplicate: Counter;
  readonly spansRejected: Counter<'reason'>;
  readonly nativeSteps: Counter<'outcome'>;
  readonly requestsRefused: Counter<'reason'>;
  readonly governanceViolations: Counter<'violation'>;
  private readonly queueDepth: Gauge;
  private readonly queueWaiting: Gauge;
  private readonly batchSeconds: Histogram;

  constructor(registry = new Registry()) {
    this.registry = registry;
    this.spansAccepted = new Counter({
      name: 'agentrace_spans_accepted_total',
      help: 'Spans committed (new, not duplicates).',
      registers: [registry],
    });
    this.spansDuplicate = new Counter({
      name: 'agentrace_spans_duplicate_total',
      help: 'Spans received again and ignored (idempotent re-delivery).',
      registers: [registry],
    });
    this.spansRejected = new Counter({
      name: 'agentrace_spans_rejected_total',
      help: 'Spans dropped as individually invalid (reported in partialSuccess).',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.nativeSteps = new Counter({
      name: 'agentrace_native_steps_total',
      help: 'Native REST steps committed, by outcome (accepted, or duplicate of a step_id already stored).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.requestsRefused = new Counter({
      name: 'agentrace_ingest_requests_refused_total',
      help: 'Ingest requests refused whole, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.governanceViolations = new Counter({
      name: 'agentrace_governance_violations_total',
      help: 'Tool steps stored with a governance violation (a gated tool without a valid, unused token), by kind.',
      labelNames: ['violation'],
      registers: [registry],
    });
    this.queueDepth = new Gauge({
      name: 'agentrace_ingest_queue_spans',
      help: 'Spans queued or being written.',
      registers: [registry],
    });
    this.queueWaiting = new Gauge({
      name: 'agentrace_ingest_queue_waiting_spans',
      help: 'Spans queued and waiting for a writer (not yet in a transaction).',
      registers: [registry],
    });
    this.batchSeconds = new Histogram({
      name: 'agentrace_ingest_batch_seconds',
      help: 'Time to write and commit one ingest batch.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  }

  /** Counts the governance violations among committed steps. */
  stepsWritten(outcomes: readonly StepOutcome[]): void {
    for (const o of outcomes) if (o.governanceViolation) this.governanceViolations.inc({ violation: o.governanceViolation });
  }

  batchWritten(_spans: number, seconds: number): void {
    this.batchSeconds.observe(seconds);
  }

  depthChanged(spans: number, waiting: number): void {
    this.queueDepth.set(spans);
    this.queueWaiting.set(waiting);
  }
}
