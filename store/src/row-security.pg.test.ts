import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from './audit-log.ts';
import { createPool } from './connection.ts';
import { writeSteps } from './ingest-writer.ts';
import { invocationStats } from './invocation-stats.ts';
import { migrate } from './migrate.ts';
import { listRuns } from './run-queries.ts';
import { createTenant, type NewTenant } from './tenancy.ts';
import { createTestDatabase, type TestDatabase } from './testing/test-database.ts';
import { stepRecord } from './testing/step-records.ts';
import { APP_ROLE, inTransaction, withTenant } from './transaction.ts';

let db: TestDatabase;
let mine: NewTenant;
let theirs: NewTenant;
let tenantTables: string[];

/** A run with a tool call (step + invocation) and an audit row, for one tenant. */
async function seed(t: NewTenant) {
  await writeSteps(db.pool, [
    stepRecord({
      tenantId: t.tenantId,
      projectId: t.projectId,
      runId: randomUUID(),
      traceId: randomBytes(16),
      invocation: {},
    }),
  ]);
  const policyId = randomUUID();
  await db.pool.query(
    `INSERT INTO policy (tenant_id, id, project_id, version, document) VALUES ($1, $2, $3, 1, '{"default":"allow","rules":[]}')`,
    [t.tenantId, policyId, t.projectId],
  );
  await db.pool.query(
    `INSERT INTO approval (tenant_id, id, project_id, run_id, policy_id, tool_name, args, args_sha256, status, expires_at)
     VALUES ($1, $2, $3, $4, $5, 'tool', '{}', 'sha256:x', 'pending', now() + interval '1 hour')`,
    [t.tenantId, randomUUID(), t.projectId, randomUUID(), policyId],
  );
  await db.pool.query(
    `INSERT INTO decision_token (tenant_id, id, project_id, run_id, tool_name, args_sha256, expires_at)
     VALUES ($1, $2, $3, $4, 'tool', 'sha256:x', now() + interval '5 minutes')`,
    [t.tenantId, randomUUID(), t.projectId, randomUUID()],
  );
  // Fills stats_day (the call's day is over).
  await withTenant(db.pool, t.tenantId, (client) => invocationStats(client, t.tenantId, 'tool', {}));
}

beforeAll(async () => {
  db = await createTestDatabase();
  mine = await createTenant(db.pool, 'mine');
  theirs = await createTenant(db.pool, 'theirs');
  await seed(mine);
  await seed(theirs);
  const { rows } = await db.pool.query<{ table_name: string }>(
    `SELECT DISTINCT c.table_name FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
     ORDER BY 1`,
  );
  tenantTables = rows.map((r) => r.table_name);
});
afterAll(async () => {
  await db?.drop();
});

/** Runs `sql` as the application role, with `tenantId` set (or nothing set), in a transaction rolled back after. */
async function asAppRole<T extends pg.QueryResultRow>(
  tenantId: string | null,
  sql: string,
  params: unknown[] = [],
) {
  const client = await db.pool.connect();
  try {
    await client.query(`BEGIN; SET LOCAL ROLE ${APP_ROLE}`);
    if (tenantId) await client.query(`SELECT set_config('agentrace.tenant_id', $1, true)`, [tenantId]);
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

const countOf = async (table: string, tenantId: string | null, column = 'tenant_id') =>
  (
    await asAppRole<{ mine: number; total: number }>(
      tenantId,
      `SELECT count(*) FILTER (WHERE ${column} = $1)::int AS mine, count(*)::int AS total FROM ${table}`,
      [mine.tenantId],
    )
  )[0]!;

describe('row-level security, the second line of defence', () => {
  it('covers every table with a tenant_id, and the tenant table', async () => {
    expect(tenantTables).toEqual(
      expect.arrayContaining(['api_key', 'audit_head', 'audit_log', 'invocation', 'project', 'run', 'step']),
    );
    const { rows } = await db.pool.query<{ relname: string; relrowsecurity: boolean; policies: number }>(
      `SELECT c.relname, c.relrowsecurity, (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
       FROM pg_class c WHERE c.relname = ANY($1) AND c.relnamespace = current_schema()::regnamespace`,
      [[...tenantTables, 'tenant']],
    );
    // A table added by a later migration without `SELECT agentrace_secure_tenant_table('t')` fails here.
    expect(rows.filter((r) => !r.relrowsecurity || r.policies === 0).map((r) => r.relname)).toEqual([]);
    expect(rows).toHaveLength(tenantTables.length + 1);
  });

  it('shows the application role no row of any tenant table while no tenant is set', async () => {
    for (const table of tenantTables) {
      expect({ table, ...(await countOf(table, null)) }).toEqual({ table, mine: 0, total: 0 });
    }
    expect(await countOf('tenant', null, 'id')).toEqual({ mine: 0, total: 0 });
  });

  it("shows the application role none of this tenant's rows with another tenant set, and that tenant's own", async () => {
    for (const table of tenantTables) {
      const seen = await countOf(table, theirs.tenantId);
      expect({ table, mine: seen.mine }).toEqual({ table, mine: 0 });
      expect({ table, theirs: seen.total > 0 }).toEqual({ table, theirs: true });
    }
  });

  it('also hides rows from a query that forgot its tenant filter, through withTenant', async () => {
    const rows = await withTenant(
      db.pool,
      theirs.tenantId,
      async (c) => (await c.query('SELECT tenant_id FROM run')).rows,
    );
    expect(rows).toEqual([{ tenant_id: theirs.tenantId }]);
    // listRuns filters by the tenant it is given; the policy wins when that is another tenant.
    const page = await withTenant(db.pool, theirs.tenantId, (c) =>
      listRuns(c, mine.tenantId, { limit: 10, tags: {} } as Parameters<typeof listRuns>[2], null),
    );
    expect(page.data).toEqual([]);
  });

  it("refuses to write a row into another tenant's rows", async () => {
    await expect(
      withTenant(db.pool, theirs.tenantId, (c) =>
        c.query('INSERT INTO project (id, tenant_id, name) VALUES ($1, $2, $3)', [
          randomUUID(),
          mine.tenantId,
          'sneaky',
        ]),
      ),
    ).rejects.toThrow(/row-level security/);
    const updated = await withTenant(db.pool, theirs.tenantId, (c) =>
      c.query("UPDATE project SET name = 'renamed' WHERE tenant_id = $1", [mine.tenantId]),
    );
    expect(updated.rowCount).toBe(0);
  });

  it('leaves the pooled connection clean: role and tenant are transaction-local', async () => {
    const pool = createPool(db.url, 1);
    try {
      await withTenant(pool, mine.tenantId, (c) => c.query('SELECT 1'));
      const { rows } = await pool.query(
        `SELECT current_user = session_user AS same, current_setting('agentrace.tenant_id', true) AS tenant`,
      );
      expect(rows[0]).toEqual({ same: true, tenant: '' });
    } finally {
      await pool.end();
    }
  });

  it('refuses a tenant id that is not a UUID before it reaches SQL', async () => {
    await expect(withTenant(db.pool, "x'; DROP TABLE run; --", async () => 1)).rejects.toThrow(
      /not a tenant id/,
    );
  });
});

describe('the audit log is append-only for the application role', () => {
  it.each([
    ['UPDATE', "UPDATE audit_log SET action = 'x.y'"],
    ['DELETE', 'DELETE FROM audit_log'],
    ['TRUNCATE', 'TRUNCATE audit_log'],
  ])('refuses %s', async (_verb, sql) => {
    await expect(withTenant(db.pool, mine.tenantId, (c) => c.query(sql))).rejects.toThrow(
      /permission denied/,
    );
  });

  it('lets it append', async () => {
    const record = await withTenant(db.pool, mine.tenantId, (c) =>
      appendAudit(c, {
        tenantId: mine.tenantId,
        actorKeyId: mine.adminKey.keyId,
        action: 'policy.activated',
        target: 'p1',
      }),
    );
    expect(record.seq).toBeGreaterThan(1);
  });
});

describe('on an external PostgreSQL whose user is not a superuser', () => {
  const user = `agentrace_owner_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const database = `agentrace_ext_${randomBytes(4).toString('hex')}`;
  let admin: pg.Client;
  let pool: pg.Pool;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    // What the README asks of a DBA: a login that owns its database and may assume the application role.
    await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${user}`);
    const url = new URL(db.url);
    url.username = user;
    url.password = password;
    url.pathname = `/${database}`;
    pool = createPool(url.toString());
  });
  afterAll(async () => {
    await pool?.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${user}`);
    await admin.end();
  });

  it('says which grant is missing when the user may not assume the application role', async () => {
    await expect(migrate(pool)).rejects.toThrow(/must be able to SET ROLE agentrace_app/);
  });

  it('migrates once granted, and row-level security binds its queries', async () => {
    await admin.query(`GRANT ${APP_ROLE} TO ${user}`);
    expect((await migrate(pool)).applied).toContain('004_security');
    const { rows } = await pool.query<{ rolsuper: boolean }>(
      'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
    );
    expect(rows[0]!.rolsuper).toBe(false);
    const a = await createTenant(pool, 'a');
    const b = await createTenant(pool, 'b');
    const seen = await withTenant(
      pool,
      b.tenantId,
      async (c) => (await c.query<{ tenant_id: string }>('SELECT tenant_id FROM project')).rows,
    );
    expect(seen).toEqual([{ tenant_id: b.tenantId }]);
    expect(
      await withTenant(
        pool,
        a.tenantId,
        async (c) => (await c.query('SELECT 1 FROM api_key WHERE tenant_id = $1', [b.tenantId])).rowCount,
      ),
    ).toBe(0);
    // The owner itself works across tenants (ingest, retention), unbound by the policies.
    expect((await inTransaction(pool, (c) => c.query('SELECT 1 FROM project'))).rowCount).toBe(2);
  });
});
