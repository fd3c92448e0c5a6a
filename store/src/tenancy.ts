import { randomUUID } from 'node:crypto';
import type { Project } from '@agentrace/schemas';
import type { Pool } from 'pg';
import { type CreatedKey, issueKey } from './api-keys.ts';
import { appendAudit } from './audit-log.ts';
import type { Queryable } from './connection.ts';
import { toApiTime } from './row-mappers.ts';
import { TIMESTAMP_TEXT } from './sql-fragments.ts';
import { inTransaction } from './transaction.ts';

export interface NewTenant {
  tenantId: string;
  projectId: string;
  adminKey: CreatedKey;
  ingestKey: CreatedKey;
}

/** Creates a tenant with a default project, an admin key and an ingest key for that project; audited. */
export async function createTenant(
  pool: Pool,
  name: string,
  secrets: { adminKey?: string; ingestKey?: string } = {},
): Promise<NewTenant> {
  return inTransaction(pool, async (tx) => {
    const tenantId = randomUUID();
    const projectId = randomUUID();
    await tx.query('INSERT INTO tenant (id, name) VALUES ($1, $2)', [tenantId, name]);
    await tx.query('INSERT INTO project (id, tenant_id, name) VALUES ($1, $2, $3)', [
      projectId,
      tenantId,
      'default',
    ]);
    await appendAudit(tx, {
      tenantId,
      actorKeyId: null,
      action: 'tenant.created',
      target: tenantId,
      details: { name, project_id: projectId },
    });
    const adminKey = await issueKey(
      tx,
      { tenantId, kind: 'user', role: 'admin', secret: secrets.adminKey },
      null,
    );
    const ingestKey = await issueKey(
      tx,
      { tenantId, kind: 'ingest', projectId, secret: secrets.ingestKey },
      null,
    );
    return { tenantId, projectId, adminKey: adminKey!, ingestKey: ingestKey! };
  });
}

/**
 * On a database with no tenant yet, creates the default tenant and its keys (from `secrets` when given,
 * for automation) and returns them so they can be printed once; otherwise returns null.
 */
export async function bootstrapDefaultTenant(
  pool: Pool,
  secrets: { adminKey?: string; ingestKey?: string },
): Promise<NewTenant | null> {
  const { rows } = await pool.query('SELECT 1 FROM tenant LIMIT 1');
  if (rows.length > 0) return null;
  return createTenant(pool, 'default', secrets);
}

/** The tenants' ids and names, oldest first (for operators' commands, which work across tenants). */
export async function listTenants(db: Queryable): Promise<{ tenant_id: string; name: string }[]> {
  const { rows } = await db.query<{ tenant_id: string; name: string }>(
    'SELECT id AS tenant_id, name FROM tenant ORDER BY created_at, id',
  );
  return rows;
}

const PROJECT_COLUMNS = `id AS project_id, name, retention_days, ${TIMESTAMP_TEXT('created_at')} AS created_at`;
const toProject = (row: Project): Project => ({ ...row, created_at: toApiTime(row.created_at) });

/** Creates a project of the tenant and audits it; null when the tenant already has one of that name. */
export async function createProject(
  client: Queryable,
  tenantId: string,
  name: string,
  actorKeyId: string | null,
): Promise<Project | null> {
  const { rows } = await client.query<Project>(
    `INSERT INTO project (id, tenant_id, name) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ${PROJECT_COLUMNS}`,
    [randomUUID(), tenantId, name],
  );
  if (!rows[0]) return null;
  const project = toProject(rows[0]);
  await appendAudit(client, {
    tenantId,
    actorKeyId,
    action: 'project.created',
    target: project.project_id,
    details: { name },
  });
  return project;
}

/** A tenant's projects, oldest first. */
export async function listProjects(db: Queryable, tenantId: string): Promise<Project[]> {
  const { rows } = await db.query<Project>(
    `SELECT ${PROJECT_COLUMNS} FROM project WHERE tenant_id = $1 ORDER BY created_at, id`,
    [tenantId],
  );
  return rows.map(toProject);
}

/** Sets how many days a project's runs are kept (null: forever) and audits it; null for no such project. */
export async function setProjectRetention(
  client: Queryable,
  tenantId: string,
  projectId: string,
  days: number | null,
  actorKeyId: string | null,
): Promise<Project | null> {
  const before = await client.query<{ retention_days: number | null }>(
    'SELECT retention_days FROM project WHERE tenant_id = $1 AND id = $2 FOR UPDATE',
    [tenantId, projectId],
  );
  if (!before.rows[0]) return null;
  const { rows } = await client.query<Project>(
    `UPDATE project SET retention_days = $3 WHERE tenant_id = $1 AND id = $2 RETURNING ${PROJECT_COLUMNS}`,
    [tenantId, projectId, days],
  );
  await appendAudit(client, {
    tenantId,
    actorKeyId,
    action: 'project.retention_set',
    target: projectId,
    details: { days, previous_days: before.rows[0].retention_days },
  });
  return toProject(rows[0]!);
}
