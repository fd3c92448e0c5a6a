import {
  CreateKeyBody,
  CreateProjectBody,
  HttpError,
  notFound,
  parseBody,
  parseId,
  SetRetentionBody,
} from '@agentrace/schemas';
import {
  createProject,
  issueKey,
  listKeys,
  listProjects,
  type Pool,
  type PoolClient,
  revokeKey,
  setProjectRetention,
  withTenant,
} from '@agentrace/store';
import express, { type Response, Router } from 'express';
import { principalOf } from '../auth.ts';

/** Any Content-Type is read as JSON (`curl -d` sends a form type); admin bodies are small. */
const readJson = express.json({ type: () => true, limit: '16kb' });

/**
 * A tenant admin's own projects and keys (API.md "Authentication"): `GET|POST /v1/admin/projects`,
 * `PUT /v1/admin/projects/{id}/retention`, `GET|POST /v1/admin/keys`, `DELETE /v1/admin/keys/{id}`.
 * Every change is audited in its own transaction, as the application role of the admin's tenant.
 */
export function adminRouter(pool: Pool): Router {
  const router = Router();
  const asTenant = <T>(res: Response, work: (db: PoolClient) => Promise<T>) =>
    withTenant(pool, principalOf(res).tenantId, work);

  router.get('/v1/admin/projects', async (_req, res) => {
    const { tenantId } = principalOf(res);
    res.json({ data: await asTenant(res, (db) => listProjects(db, tenantId)) });
  });

  router.post('/v1/admin/projects', readJson, async (req, res) => {
    const { name } = parseBody(CreateProjectBody, req.body);
    const { tenantId, keyId } = principalOf(res);
    const project = await asTenant(res, (db) => createProject(db, tenantId, name, keyId));
    if (!project)
      throw new HttpError('conflict', `a project named "${name}" exists`, {
        name: 'already used by a project',
      });
    res.status(201).json(project);
  });

  router.put('/v1/admin/projects/:projectId/retention', readJson, async (req, res) => {
    const projectId = parseId(req.params.projectId, 'project_id');
    const { days } = parseBody(SetRetentionBody, req.body);
    const { tenantId, keyId } = principalOf(res);
    const project = await asTenant(res, (db) => setProjectRetention(db, tenantId, projectId, days, keyId));
    if (!project) throw notFound('project');
    res.json(project);
  });

  router.get('/v1/admin/keys', async (_req, res) => {
    const { tenantId } = principalOf(res);
    res.json({ data: await asTenant(res, (db) => listKeys(db, tenantId)) });
  });

  router.post('/v1/admin/keys', readJson, async (req, res) => {
    const body = parseBody(CreateKeyBody, req.body);
    const { tenantId, keyId } = principalOf(res);
    const spec =
      body.kind === 'ingest'
        ? { tenantId, kind: body.kind, projectId: body.project_id.toLowerCase(), expiresAt: body.expires_at }
        : { tenantId, kind: body.kind, role: body.role, expiresAt: body.expires_at };
    const created = await asTenant(res, (db) => issueKey(db, spec, keyId));
    if (!created) throw notFound('project');
    res.status(201).json({ key_id: created.keyId, key: created.key });
  });

  router.delete('/v1/admin/keys/:keyId', async (req, res) => {
    const keyId = parseId(req.params.keyId, 'key_id');
    const { tenantId, keyId: actor } = principalOf(res);
    const key = await asTenant(res, (db) => revokeKey(db, tenantId, keyId, actor));
    if (!key) throw notFound('key');
    res.json(key);
  });

  return router;
}
