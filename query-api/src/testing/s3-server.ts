import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import type { BucketSettings } from '../backup/backup-bucket.ts';

export interface TestS3 {
  /** Settings of a bucket on it (path-style, any credentials), under `prefix`. */
  settings(prefix?: string): BucketSettings;
  /** Where the objects are stored on disk (`<dir>/<bucket>/<key>._S3rver_object`). */
  directory: string;
  /** Stops answering (connections refused) until `start()`. */
  stop(): Promise<void>;
  /** Starts again on the same port, with the same objects. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const BUCKET = 'agentrace-backups';

/** A real S3-compatible server (s3rver) on a loopback port, with one bucket, for tests. */
export async function startTestS3(): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'agentrace-s3-'));
  let port = 0;
  let server: S3rver | null = null;
  const start = async () => {
    const s = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory,
      configureBuckets: [{ name: BUCKET }],
    });
    port = (await s.run()).port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = null;
    if (!s) return;
    // Keep-alive connections of the S3 client would keep it answering: cut them.
    s.httpServer.closeAllConnections();
    await s.close();
  };
  await start();
  return {
    directory,
    settings: (prefix = 'agentrace/') => ({
      bucket: BUCKET,
      prefix,
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    }),
    stop,
    start,
    async close() {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
