import type { AddressInfo } from 'node:net';
import type { Pool } from '@agentrace/store';
import { pino } from 'pino';
import { createQueryApp, type QueryAppDeps } from '../query-app.ts';

export interface ListeningQueryApp {
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

/** The query API on loopback port 0 over `pool`, silent, for tests; `deps` overrides the rest. */
export async function listenQueryApp(
  pool: Pool,
  deps: Partial<QueryAppDeps> = {},
): Promise<ListeningQueryApp> {
  const server = createQueryApp({ pool, logger: pino({ level: 'silent' }), ...deps }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
