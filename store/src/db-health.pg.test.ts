import { type AddressInfo, createServer } from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from './connection.ts';
import { DbHealth, isDatabaseUnavailable } from './db-health.ts';
import { freePort } from './embedded.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';

let db: TestDatabase;
/** A pool whose server is gone: a loopback port nothing listens on. */
let nowhere: pg.Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  const url = new URL(db.url);
  url.port = String(await freePort());
  nowhere = createPool(url.toString(), 1);
});
afterAll(async () => {
  await nowhere?.end();
  await db?.drop();
});

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );

describe('isDatabaseUnavailable', () => {
  it('is true of what a server that is gone, restarting or full answers', async () => {
    expect(isDatabaseUnavailable(await errorOf(nowhere.query('SELECT 1')))).toBe(true);
    for (const code of ['57P01', '57P02', '57P03', '53300', '08006', '08001', 'ECONNRESET', 'ETIMEDOUT']) {
      expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code })), code).toBe(true);
    }
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('is false of a wrong statement, a constraint, or anything that is not an error of the connection', async () => {
    expect(isDatabaseUnavailable(await errorOf(db.pool.query('SELEC 1')))).toBe(false);
    expect(isDatabaseUnavailable(await errorOf(db.pool.query('SELECT 1/0')))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });
});

describe('DbHealth', () => {
  it('is up after a check of a database that answers', async () => {
    const health = new DbHealth(db.pool);
    await health.check();
    expect(health).toMatchObject({ up: true, problem: null });
    expect(() => health.assertUp()).not.toThrow();
  });

  it('is down with the reason after a check of a server that is gone, and says so once per flip', async () => {
    const flips: (string | null)[] = [];
    const health = new DbHealth(nowhere, { intervalMs: 500 }, (problem) => flips.push(problem));
    await Promise.all([health.check(), health.check()]);
    await health.check();
    expect(health.up).toBe(false);
    expect(health.problem).toMatch(/ECONNREFUSED/);
    expect(flips).toEqual([health.problem]);
    expect(() => health.assertUp()).toThrow(
      expect.objectContaining({ code: 'unavailable', status: 503, retryable: true }),
    );
  });

  it('flips down at once on a reported connection failure, and back up when the check that follows succeeds', async () => {
    const flips: (string | null)[] = [];
    const health = new DbHealth(db.pool, { intervalMs: 500 }, (problem) => flips.push(problem));
    health.reportFailure(new Error('SELEC 1 is not SQL'));
    expect(health.up).toBe(true);
    health.reportFailure(
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    );
    expect(health.up).toBe(false);
    await health.check();
    expect(health.up).toBe(true);
    expect(flips).toEqual(['terminating connection due to administrator command', null]);
  });

  it('checks every interval once started (a connection each time), and no more once stopped', async () => {
    let connections = 0;
    const counter = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
    const url = new URL(db.url);
    url.port = String((counter.address() as AddressInfo).port);
    const pool = createPool(url.toString(), 1);
    const health = new DbHealth(pool, { intervalMs: 100 });
    try {
      health.start();
      await new Promise((resolve) => setTimeout(resolve, 550));
      health.stop();
      expect(health.up).toBe(false);
      expect(connections).toBeGreaterThanOrEqual(4);
      const stoppedAt = connections;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(connections).toBe(stoppedAt);
    } finally {
      health.stop();
      await pool.end();
      counter.close();
    }
  });
});
