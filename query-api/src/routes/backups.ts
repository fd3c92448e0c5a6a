import { BackupListQuery, type BackupStarted, EmptyQuery, HttpError } from '@agentrace/schemas';
import { decodeBackupCursor, listBackups, operatorTenantId, type Pool } from '@agentrace/store';
import { type Response, Router } from 'express';
import { principalOf } from '../auth.ts';
import { BACKUPS_NOT_CONFIGURED } from '../backup/backup-bucket.ts';
import { BackupAlreadyRunning, type BackupService } from '../backup/backup-service.ts';
import { parseCursor, parseQuery } from '../parse-request.ts';

/**
 * `POST /v1/admin/backups` (202, the backup runs in the background) and `GET /v1/admin/backups`. A backup
 * holds every tenant's data, so beyond the admin role the key must be of the operator's tenant (the first
 * one, which the first `agentrace serve` creates); other tenants' admins get a 403. `backups` is null when
 * no bucket is configured: starting one is then a 409 saying what to set.
 */
export function backupsRouter(pool: Pool, backups: BackupService | null): Router {
  const router = Router();

  const requireOperator = async (res: Response) => {
    const { tenantId } = principalOf(res);
    if ((await operatorTenantId(pool)) !== tenantId) {
      throw new HttpError(
        'permission_denied',
        "backups hold every tenant's data: only an admin key of the operator's tenant (the first tenant) may take or list them",
      );
    }
  };

  router.post('/v1/admin/backups', async (req, res) => {
    parseQuery(EmptyQuery, req.query as Record<string, unknown>);
    await requireOperator(res);
    if (!backups) {
      throw new HttpError('conflict', BACKUPS_NOT_CONFIGURED);
    }
    try {
      const { backup } = await backups.start('api', principalOf(res).keyId);
      const started: BackupStarted = { backup_id: backup.backup_id, status: backup.status };
      res.status(202).json(started);
    } catch (err) {
      if (!(err instanceof BackupAlreadyRunning)) throw err;
      throw new HttpError(
        'conflict',
        err.message,
        err.running ? { backup_id: err.running.backup_id } : undefined,
      );
    }
  });

  router.get('/v1/admin/backups', async (req, res) => {
    const query = parseQuery(BackupListQuery, req.query as Record<string, unknown>);
    const after = parseCursor(query.cursor, decodeBackupCursor);
    await requireOperator(res);
    // As the owner: the backup records belong to no tenant (row-level security has no policy for them).
    res.json(await listBackups(pool, query.limit, after));
  });

  return router;
}
