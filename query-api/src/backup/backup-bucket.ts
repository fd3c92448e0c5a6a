import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BackupManifest } from '@agentrace/schemas';
import { ARCHIVE_EXTENSION, type Compression } from './compression.ts';

/** What to set when no bucket is: the API's 409 and the CLI's error say it alike. */
export const BACKUPS_NOT_CONFIGURED =
  'backups are not configured: set AGENTRACE_BACKUP_S3_BUCKET (and the other AGENTRACE_BACKUP_S3_* settings)';

/** Where backups go (the `AGENTRACE_BACKUP_S3_*` settings). */
export interface BucketSettings {
  bucket: string;
  /** Prepended to every key: `agentrace/` puts archives under that "folder". */
  prefix: string;
  /** An S3-compatible server's URL; unset: AWS. */
  endpoint?: string;
  /** Unset: the AWS SDK's (AWS_REGION, the profile). */
  region?: string;
  /** Unset: the AWS SDK's usual chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, a role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`, as most S3-compatible servers want. */
  forcePathStyle: boolean;
}

/** Multipart upload parts: memory of an upload is about partSize × (queueSize + 1). */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The backup bucket: archives (`<prefix><UTC time>-<backup id>.tar.gz`) and, beside each, its manifest
 * (`<archive key>.manifest.json`).
 */
export class BackupBucket {
  private readonly s3: S3Client;

  constructor(readonly settings: BucketSettings) {
    const config: S3ClientConfig = {
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      endpoint: settings.endpoint,
    };
    if (settings.accessKeyId && settings.secretAccessKey) {
      config.credentials = { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey };
    }
    this.s3 = new S3Client(config);
  }

  /** The key of a new backup's archive: sorts by time in a listing, and names the backup. */
  archiveKey(backupId: string, createdAt: string, compression: Compression): string {
    const time = createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    return `${this.settings.prefix}${time}-${backupId}${ARCHIVE_EXTENSION[compression]}`;
  }

  /** Streams `body` into `key`, in parts (multipart) once it is larger than one part. */
  async upload(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.settings.bucket, Key: key, Body: body, ContentType: 'application/octet-stream' },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
    });
    await upload.done();
  }

  async putManifest(archiveKey: string, manifest: BackupManifest): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.settings.bucket,
        Key: `${archiveKey}.manifest.json`,
        Body: JSON.stringify(manifest, null, 2),
        ContentType: 'application/json',
      }),
    );
  }

  /** The manifest beside an archive, validated. */
  async getManifest(archiveKey: string): Promise<BackupManifest> {
    const body = await this.get(`${archiveKey}.manifest.json`);
    const text = Buffer.concat((await body.toArray()) as Buffer[]).toString('utf8');
    const parsed = BackupManifest.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new Error(`${archiveKey}.manifest.json is not a backup manifest: ${parsed.error.message}`);
    return parsed.data;
  }

  /** The archive's bytes, streamed. */
  open(archiveKey: string): Promise<Readable> {
    return this.get(archiveKey);
  }

  /**
   * The archive key a user named: a backup id (looked up in the bucket under the prefix) or a key as it
   * is (with or without the prefix).
   */
  async resolve(ref: string): Promise<string> {
    if (!UUID.test(ref)) return ref.startsWith(this.settings.prefix) ? ref : `${this.settings.prefix}${ref}`;
    const id = ref.toLowerCase();
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.settings.bucket,
          Prefix: this.settings.prefix,
          ContinuationToken: token,
        }),
      );
      const key = page.Contents?.map((o) => o.Key ?? '').find((k) =>
        Object.values(ARCHIVE_EXTENSION).some((ext) => k.endsWith(`-${id}${ext}`)),
      );
      if (key) return key;
      token = page.NextContinuationToken;
    } while (token);
    throw new Error(`no backup ${id} in s3://${this.settings.bucket}/${this.settings.prefix}`);
  }

  destroy(): void {
    this.s3.destroy();
  }

  private async get(key: string): Promise<Readable> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return Body as Readable;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey')
        throw new Error(`no object s3://${this.settings.bucket}/${key}`);
      throw err;
    }
  }
}
