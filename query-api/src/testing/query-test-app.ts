import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTenant, type NewTenant } from '@agentrace/store';
import { createTestDatabase, type TestDatabase } from '@agentrace/store/testing';
import { pino } from 'pino';
import { createQueryApp } from '../query-app.ts';

export interface QueryTestApp {
  db: TestDatabase;
  /** The tenant the requests are made as (with its admin key). */
  tenant: NewTenant;
  /** Another tenant, whose data must never show. */
  other: NewTenant;
  base: string;
  /** GET with `tenant`'s admin key (or `key`); the body parsed as JSON when it is JSON, else text. */
  get(path: string, key?: string): Promise<{ status: number; body: unknown; headers: Headers }>;
  close(): Promise<void>;
}

/** The query API on loopback port 0 over a fresh database with two tenants. */
export async function startQueryTestApp(): Promise<QueryTestApp> {
  const db = await createTestDatabase();
  const tenant = await createTenant(db.pool, 'analysts');
  const other = await createTenant(db.pool, 'someone-else');
  const server: Server = createQueryApp({ pool: db.pool, logger: pino({ level: 'silent' }) }).listen(
    0,
    '127.0.0.1',
  );
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    db,
    tenant,
    other,
    base,
    async get(path, key = tenant.adminKey.key) {
      const res = await fetch(base + path, { headers: { authorization: `Bearer ${key}` } });
      const text = await res.text();
      const json = res.headers.get('content-type')?.includes('application/json');
      return { status: res.status, body: json ? (JSON.parse(text) as unknown) : text, headers: res.headers };
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await db.drop();
    },
  };
}
