import type { AddressInfo } from 'node:net';
import type { Pool } from '@agentrace/store';
import { pino } from 'pino';
import { createQueryApp } from '../query-app.ts';

export interface ListeningQueryApp {
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

/** The query API on loopback port 0 over `pool`, silent, for tests. */
export async function listenQueryApp(pool: Pool): Promise<ListeningQueryApp> {
  const server = createQueryApp({ pool, logger: pino({ level: 'silent' }) }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
