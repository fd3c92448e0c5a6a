import { Counter, Gauge, type Registry } from 'prom-client';

/** The live stream's metrics, in the process's registry. */
export class StreamMetrics {
  readonly subscribers: Gauge;
  readonly eventsSent: Counter;
  readonly cutOff: Counter<'reason'>;

  constructor(registry: Registry) {
    this.subscribers = new Gauge({
      name: 'agentrace_stream_subscribers',
      help: 'Clients connected to GET /v1/stream.',
      registers: [registry],
    });
    this.eventsSent = new Counter({
      name: 'agentrace_stream_events_sent_total',
      help: 'Events written to live stream clients (one per client an event goes to).',
      registers: [registry],
    });
    this.cutOff = new Counter({
      name: 'agentrace_stream_clients_cut_off_total',
      help: 'Live stream clients closed by the server, by reason (slow_consumer: more unread than the buffer limit).',
      labelNames: ['reason'],
      registers: [registry],
    });
  }
}
