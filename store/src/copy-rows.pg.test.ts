import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyNumber, copyRows, copyText } from './copy-rows.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import { inTransaction } from './transaction.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('copyRows', () => {
  it('copies every row in order across chunks, each line made from its row and index (text, or text then bytes), escapes and UTF-8 intact', async () => {
    // Not a multiple of the chunk size: the last chunk is a short one.
    const rows = Array.from({ length: 601 }, (_, i) => ({
      n: i,
      label:
        i % 100 === 7
          ? `tab\there, newline\nthere, return\r, backslash \\ ${i}`
          : i % 100 === 8
            ? // JSON text as payloads hold it: escaped newlines and quotes are backslashes.
              `${JSON.stringify({ text: 'line 1\nline 2 "quoted" \\ back', n: i })}\t\r\n\\N`
            : i % 7 === 3
              ? `ünïcödé 日本 🚀 ${i}`
              : `row ${i}`,
    }));
    const stored = await inTransaction(db.pool, async (tx) => {
      await tx.query('CREATE TEMP TABLE copied (n int, idx int, label text) ON COMMIT DROP');
      await copyRows(tx, 'copied', ['n', 'idx', 'label'], rows, (row, index) =>
        index % 2 === 0
          ? { text: [copyNumber(row.n), copyNumber(index), copyText(row.label)].join('\t') }
          : { text: `${copyNumber(row.n)}\t`, bytes: Buffer.from(`${index}\t${copyText(row.label)}`) },
      );
      return (await tx.query<{ n: number; idx: number; label: string }>('SELECT n, idx, label FROM copied'))
        .rows;
    });
    expect(stored).toEqual(rows.map((row, i) => ({ n: row.n, idx: i, label: row.label })));
  });

  it('streams megabytes, waiting for the socket to drain, and every row arrives', async () => {
    const label = 'ü'.repeat(2000);
    const rows = Array.from({ length: 3000 }, (_, n) => ({ n }));
    const stored = await inTransaction(db.pool, async (tx) => {
      await tx.query('CREATE TEMP TABLE big (n int, label text) ON COMMIT DROP');
      await copyRows(tx, 'big', ['n', 'label'], rows, (row) => ({ text: `${row.n}\t${label}` }));
      return (
        await tx.query<{ count: number; sum: number; ok: boolean }>(
          'SELECT count(*)::int AS count, sum(n)::int AS sum, bool_and(label = $1) AS ok FROM big',
          [label],
        )
      ).rows[0];
    });
    expect(stored).toEqual({ count: 3000, sum: (2999 * 3000) / 2, ok: true });
  });

  it("rejects with PostgreSQL's error when a row is bad, and leaves the connection usable", async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE strict (n int) ON COMMIT DROP');
      const rows = Array.from({ length: 1000 }, (_, i) => (i === 700 ? 'seven hundred' : String(i)));
      await expect(copyRows(client, 'strict', ['n'], rows, (row) => ({ text: row }))).rejects.toThrow(
        /invalid input syntax for type integer: "seven hundred"/,
      );
      await client.query('ROLLBACK');
      expect((await client.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
    } finally {
      client.release();
    }
  });

  it('ends the COPY when making a row throws, so the connection can roll back and go on', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE partial (n int) ON COMMIT DROP');
      const rows = Array.from({ length: 600 }, (_, i) => i);
      const broken = copyRows(client, 'partial', ['n'], rows, (n) => {
        if (n === 400) throw new Error('cannot render row 400');
        return { text: String(n) };
      });
      await expect(broken).rejects.toThrow('cannot render row 400');
      await client.query('ROLLBACK');
      expect((await client.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
    } finally {
      client.release();
    }
  });

  it('sends nothing for no rows (no COPY started)', async () => {
    await inTransaction(db.pool, async (tx) => {
      await tx.query('CREATE TEMP TABLE nothing (n int) ON COMMIT DROP');
      await copyRows(tx, 'nothing', ['n'], [], () => {
        throw new Error('no line to make');
      });
      expect((await tx.query('SELECT count(*)::int AS n FROM nothing')).rows[0].n).toBe(0);
    });
  });
});
