import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const Port = z.coerce.number().int().min(0).max(65535);
const Key = z.string().min(16, 'must be at least 16 characters');

/** A core is left to the main thread (HTTP, writing, the query API); more than 4 rarely pays, as PostgreSQL needs cores too. */
export function defaultIngestThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** Every setting: its environment variable, its flag, its schema and what it does (shown by --help). */
export const SETTINGS = {
  dataDir: {
    env: 'AGENTRACE_DATA_DIR',
    flag: 'data-dir',
    schema: z.string().min(1).default('./.agentrace'),
    help: 'where the embedded PostgreSQL keeps its data (used when DATABASE_URL is not set)',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    flag: 'database-url',
    schema: z.string().url().optional(),
    help: 'an external PostgreSQL to use instead of the embedded one',
  },
  host: { env: 'AGENTRACE_HOST', flag: 'host', schema: z.string().default('127.0.0.1'), help: 'address to listen on' },
  otlpHttpPort: {
    env: 'AGENTRACE_OTLP_HTTP_PORT',
    flag: 'otlp-http-port',
    schema: Port.default(4318),
    help: 'OTLP/HTTP receiver port (0 picks a free port)',
  },
  otlpGrpcPort: {
    env: 'AGENTRACE_OTLP_GRPC_PORT',
    flag: 'otlp-grpc-port',
    schema: Port.default(4317),
    help: 'OTLP/gRPC receiver port (0 picks a free port)',
  },
  apiPort: {
    env: 'AGENTRACE_API_PORT',
    flag: 'api-port',
    schema: Port.default(8080),
    help: 'query API port (0 picks a free port)',
  },
  adminKey: {
    env: 'AGENTRACE_ADMIN_KEY',
    flag: 'admin-key',
    schema: Key.optional(),
    help: 'the initial admin key, used only at the first start of a database (else one is generated)',
  },
  ingestKey: {
    env: 'AGENTRACE_INGEST_KEY',
    flag: 'ingest-key',
    schema: Key.optional(),
    help: 'the initial ingest key, used only at the first start of a database (else one is generated)',
  },
  maxBodyBytes: {
    env: 'AGENTRACE_MAX_BODY_BYTES',
    flag: 'max-body-bytes',
    schema: z.coerce.number().int().positive().default(16 * 1024 * 1024),
    help: 'largest OTLP request body, counted after decompression (413 above)',
  },
  ingestQueueSpans: {
    env: 'AGENTRACE_INGEST_QUEUE_SPANS',
    flag: 'ingest-queue-spans',
    schema: z.coerce.number().int().positive().default(100_000),
    help: 'spans queued for writing at most; beyond it ingest answers 503 with Retry-After',
  },
  ingestBatchSpans: {
    env: 'AGENTRACE_INGEST_BATCH_SPANS',
    flag: 'ingest-batch-spans',
    schema: z.coerce.number().int().positive().default(8192),
    help: 'spans written per transaction at most',
  },
  ingestWriters: {
    env: 'AGENTRACE_INGEST_WRITERS',
    flag: 'ingest-writers',
    schema: z.coerce.number().int().min(1).max(32).default(2),
    help: 'ingest transactions in flight at once',
  },
  ingestThreads: {
    env: 'AGENTRACE_INGEST_THREADS',
    flag: 'ingest-threads',
    schema: z.coerce.number().int().min(1).max(64).default(defaultIngestThreads()),
    help: 'worker threads that decode and normalize OTLP requests (default: one per core but one, 1 to 4)',
  },
  ingestSpansPerS: {
    env: 'AGENTRACE_INGEST_SPANS_PER_S',
    flag: 'ingest-spans-per-s',
    schema: z.coerce.number().positive().default(50_000),
    help: 'spans per second each tenant may ingest (burst: 2 s worth); beyond it 429 / UNAVAILABLE with a retry delay',
  },
  rateLimitRps: {
    env: 'AGENTRACE_RATE_LIMIT_RPS',
    flag: 'rate-limit-rps',
    schema: z.coerce.number().positive().default(50),
    help: 'query API requests per second per key (per client address without a valid key)',
  },
  rateLimitBurst: {
    env: 'AGENTRACE_RATE_LIMIT_BURST',
    flag: 'rate-limit-burst',
    schema: z.coerce.number().int().positive().default(100),
    help: 'query API requests a key may make at once before the per-second rate applies',
  },
  timelineCacheMb: {
    env: 'AGENTRACE_TIMELINE_CACHE_MB',
    flag: 'timeline-cache-mb',
    schema: z.coerce.number().min(0).default(64),
    help: 'memory for rendered timelines of runs that have not changed since (0 turns the cache off)',
  },
  pricingFile: {
    env: 'AGENTRACE_PRICING_FILE',
    flag: 'pricing-file',
    schema: z.string().optional(),
    help: 'a JSON price table that extends and overrides the shipped one',
  },
  redactionFile: {
    env: 'AGENTRACE_REDACTION_FILE',
    flag: 'redaction-file',
    schema: z.string().optional(),
    help: 'a JSON or YAML file that disables default redaction rules and adds key and value rules',
  },
  retentionIntervalS: {
    env: 'AGENTRACE_RETENTION_INTERVAL_S',
    flag: 'retention-interval-s',
    schema: z.coerce.number().int().min(0).default(3600),
    help: 'seconds between retention passes (expired runs, audit rows past the audit retention); 0 turns them off',
  },
  auditRetentionDays: {
    env: 'AGENTRACE_AUDIT_RETENTION_DAYS',
    flag: 'audit-retention-days',
    schema: z.coerce.number().int().min(1).default(365),
    help: 'days audit rows are kept at least; only older ones are deleted',
  },
  metricsToken: {
    env: 'AGENTRACE_METRICS_TOKEN',
    flag: 'metrics-token',
    schema: Key.optional(),
    help: 'when set, GET /metrics wants it as a bearer token (401 without); unset, /metrics is open (it holds no tenant data)',
  },
  dbCheckIntervalMs: {
    env: 'AGENTRACE_DB_CHECK_INTERVAL_MS',
    flag: 'db-check-interval-ms',
    schema: z.coerce.number().int().min(100).max(60_000).default(1000),
    help: 'milliseconds between database health checks (and the longest one may take); while one fails, ingest answers 503 and /readyz 503',
  },
  approvalTtlS: {
    env: 'AGENTRACE_APPROVAL_TTL_S',
    flag: 'approval-ttl-s',
    schema: z.coerce.number().int().min(1).default(24 * 3600),
    help: 'seconds a pending approval waits for a person before it expires (a final deny)',
  },
  decisionTokenTtlS: {
    env: 'AGENTRACE_DECISION_TOKEN_TTL_S',
    flag: 'decision-token-ttl-s',
    schema: z.coerce.number().int().min(1).default(300),
    help: 'seconds a DecisionToken (an allow) stays valid',
  },
  streamHeartbeatS: {
    env: 'AGENTRACE_STREAM_HEARTBEAT_S',
    flag: 'stream-heartbeat-s',
    schema: z.coerce.number().min(0.01).max(3600).default(15),
    help: 'seconds between heartbeat comments on an idle live stream (GET /v1/stream)',
  },
  streamClientBufferKb: {
    env: 'AGENTRACE_STREAM_CLIENT_BUFFER_KB',
    flag: 'stream-client-buffer-kb',
    schema: z.coerce.number().int().min(16).default(1024),
    help: 'KiB a live stream client may leave unread before it is cut off with a slow_consumer event',
  },
  streamRetentionS: {
    env: 'AGENTRACE_STREAM_RETENTION_S',
    flag: 'stream-retention-s',
    schema: z.coerce.number().int().min(60).default(3600),
    help: 'seconds live stream events are kept, so that a client can resume (Last-Event-ID) after a disconnection that long',
  },
  backupS3Bucket: {
    env: 'AGENTRACE_BACKUP_S3_BUCKET',
    flag: 'backup-s3-bucket',
    schema: z.string().min(3).optional(),
    help: 'the S3 bucket backups go to; unset, backups are off (POST /v1/admin/backups answers 409)',
  },
  backupS3Prefix: {
    env: 'AGENTRACE_BACKUP_S3_PREFIX',
    flag: 'backup-s3-prefix',
    schema: z.string().default('agentrace/'),
    help: 'prepended to the key of every archive in the bucket',
  },
  backupS3Endpoint: {
    env: 'AGENTRACE_BACKUP_S3_ENDPOINT',
    flag: 'backup-s3-endpoint',
    schema: z.string().url().optional(),
    help: 'the URL of an S3-compatible server (MinIO, Ceph, R2, ...); unset, AWS S3',
  },
  backupS3Region: {
    env: 'AGENTRACE_BACKUP_S3_REGION',
    flag: 'backup-s3-region',
    schema: z.string().min(1).optional(),
    help: "the bucket's region; unset, the AWS SDK's (AWS_REGION, the profile)",
  },
  backupS3AccessKeyId: {
    env: 'AGENTRACE_BACKUP_S3_ACCESS_KEY_ID',
    flag: 'backup-s3-access-key-id',
    schema: z.string().min(1).optional(),
    help: "access key id (with the secret below); unset, the AWS SDK's chain (AWS_ACCESS_KEY_ID, profile, role)",
  },
  backupS3SecretAccessKey: {
    env: 'AGENTRACE_BACKUP_S3_SECRET_ACCESS_KEY',
    flag: 'backup-s3-secret-access-key',
    schema: z.string().min(1).optional(),
    help: 'secret access key of the access key id above',
  },
  backupS3ForcePathStyle: {
    env: 'AGENTRACE_BACKUP_S3_FORCE_PATH_STYLE',
    flag: 'backup-s3-force-path-style',
    schema: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    help: 'true: path-style URLs (http://host/bucket/key), as most S3-compatible servers want',
  },
  backupSchedule: {
    env: 'AGENTRACE_BACKUP_SCHEDULE',
    flag: 'backup-schedule',
    schema: z
      .string()
      .regex(/^(off|hourly|daily|[1-9]\d*[smh])$/, 'must be off, hourly, daily or a number of s, m or h (30m)')
      .default('off'),
    help: 'how often `serve` backs up: off, hourly, daily or an interval (90m, 6h); a failed backup is tried again on the next cycle',
  },
  logLevel: {
    env: 'AGENTRACE_LOG_LEVEL',
    flag: 'log-level',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    help: 'log level of the JSON logs on stderr',
  },
} as const;

type Settings = typeof SETTINGS;
export type Config = { [K in keyof Settings]: z.infer<Settings[K]['schema']> };

/** Flags of one command (`--tenant`, ...), beside the settings; the command validates their values. */
export type CommandFlags = Record<string, { type: 'string' }>;

/**
 * Parses flags (which win) and environment variables once, or throws with every problem named. Flags in
 * `commandFlags` are returned as they are, in `flags`.
 */
export function parseConfig(
  argv: string[],
  env: NodeJS.ProcessEnv,
  commandFlags: CommandFlags = {},
): { config: Config; positionals: string[]; flags: Record<string, string | undefined> } {
  const options = {
    ...commandFlags,
    ...Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, { type: 'string' as const }])),
  } as Record<string, { type: 'string' }>;
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const raw: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(SETTINGS)) {
    const value = values[s.flag] ?? env[s.env];
    raw[name] = value === '' ? undefined : value;
  }
  const schema = z.object(Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, s.schema])));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const s = SETTINGS[i.path[0] as keyof Settings];
      return `${s.env} / --${s.flag}: ${i.message}`;
    });
    throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const flags = Object.fromEntries(Object.keys(commandFlags).map((f) => [f, values[f] as string | undefined]));
  return { config: parsed.data as Config, positionals, flags };
}

/** The settings reference printed by --help. */
export function settingsHelp(): string {
  return Object.values(SETTINGS)
    .map((s) => {
      const def = s.schema.safeParse(undefined);
      const shown = def.success && def.data !== undefined ? ` (default ${def.data})` : '';
      return `  --${s.flag.padEnd(20)} ${s.env.padEnd(30)} ${s.help}${shown}`;
    })
    .join('\n');
}
