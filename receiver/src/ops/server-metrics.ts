import type { DbHealth, Pool } from '@agentrace/store';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

/**
 * The process's own metrics (Node's defaults: CPU, memory, event loop lag, GC, handles), whether the
 * database answers (`agentrace_db_up`) and the connection pool's state, read at each scrape.
 * @example registerServerMetrics(registry, { pool, health });
 */
export function registerServerMetrics(registry: Registry, deps: { pool: Pool; health: DbHealth }): void {
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'agentrace_db_up',
    help: 'Whether the database answered the latest health check (1) or not (0).',
    registers: [registry],
    collect() {
      this.set(deps.health.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'agentrace_db_pool_connections',
    help: 'Connections of the pool, by state: in use by a query or transaction, or idle.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'active' }, deps.pool.totalCount - deps.pool.idleCount);
      this.set({ state: 'idle' }, deps.pool.idleCount);
    },
  });
  new Gauge({
    name: 'agentrace_db_pool_waiting',
    help: 'Queries waiting for a connection of the pool (all of them are in use).',
    registers: [registry],
    collect() {
      this.set(deps.pool.waitingCount);
    },
  });
  new Gauge({
    name: 'agentrace_db_pool_max_connections',
    help: 'The size of the connection pool.',
    registers: [registry],
    collect() {
      this.set(deps.pool.options.max ?? 10);
    },
  });
}
