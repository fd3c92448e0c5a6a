import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { DEMO_EXAMPLES, runExample } from './demo-examples.ts';
import { type DemoSummary, fetchDemoSummary, nextStepsText, summaryText } from './demo-report.ts';
import { type RunningServer, startServer } from './serve.ts';
import { shutdownSignal } from './shutdown-signal.ts';

/** Where the demo writes, and how it knows to stop a server it started. */
export interface DemoIo {
  out(text: string): void;
  /** Resolves when a server the demo started should stop (Ctrl-C); called once, at the start. */
  untilStopped(): Promise<void>;
}

interface Target {
  otlpUrl: string;
  apiUrl: string;
  ingestKey: string;
  adminKey?: string;
  /** The server the demo started itself, which it keeps serving until stopped. */
  started: RunningServer | null;
}

const KEYS_NEEDED = (why: string) =>
  `${why}, so the demo needs its keys: the ones it printed at its first start.\n` +
  'Pass them as AGENTRACE_INGEST_KEY and AGENTRACE_ADMIN_KEY (or --ingest-key and --admin-key), e.g.\n' +
  '  AGENTRACE_INGEST_KEY=<ingest key> AGENTRACE_ADMIN_KEY=<admin key> npm run agentrace -- demo\n' +
  'or point AGENTRACE_DATA_DIR at a fresh directory to start over.\n';

/**
 * `agentrace demo`: runs the examples against the local server and shows what arrived. A server already
 * answering /healthz on the configured ports is used with the keys from the environment or flags;
 * otherwise the demo starts one itself (creating and printing the keys on a fresh database) and keeps it
 * serving until Ctrl-C, so the printed curl commands work.
 * @example process.exitCode = await runDemo(config, logger);
 */
export async function runDemo(
  config: Config,
  logger: Logger,
  io: DemoIo = defaultIo(logger),
): Promise<number> {
  const stopped = io.untilStopped();
  const since = new Date();
  const target = await connect(config, quiet(logger), io);
  if (!target) return 2;
  try {
    const outcomes = await Promise.all(
      DEMO_EXAMPLES.map((e) => runExample(e.file, target.otlpUrl, target.ingestKey)),
    );
    let failed = false;
    for (const [i, { code, output }] of outcomes.entries()) {
      io.out(`\n▸ ${DEMO_EXAMPLES[i]!.title} (examples/${DEMO_EXAMPLES[i]!.file})\n${output}`);
      if (code !== 0) {
        failed = true;
        io.out(`  ✗ exited with code ${code}\n`);
      }
    }
    let summary: DemoSummary | null = null;
    if (target.adminKey) {
      summary = await fetchDemoSummary(target.apiUrl, target.adminKey, since);
      io.out(`\n${summaryText(summary)}\n`);
    }
    io.out(`\n${nextStepsText(target.apiUrl, target.adminKey, summary?.showcaseRunId ?? null)}\n`);
    if (target.started) {
      io.out(`\nThe server keeps running (${where(config)}); Ctrl-C stops it.\n`);
      await stopped;
    }
    return failed ? 1 : 0;
  } finally {
    await target.started?.close();
  }
}

/** The running local server, or one started here; null (with the reason written) when neither works. */
async function connect(config: Config, logger: Logger, io: DemoIo): Promise<Target | null> {
  const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host;
  const configured = {
    otlpUrl: `http://${host}:${config.otlpHttpPort}`,
    apiUrl: `http://${host}:${config.apiPort}`,
  };
  const [otlpUp, apiUp] = await Promise.all([isHealthy(configured.otlpUrl), isHealthy(configured.apiUrl)]);
  if (otlpUp !== apiUp) {
    io.out(
      `Only one of ${configured.otlpUrl} and ${configured.apiUrl} answers /healthz: is another program on a port?\n`,
    );
    return null;
  }
  if (otlpUp) {
    io.out(
      `Using the agentrace server running at ${configured.otlpUrl} (OTLP) and ${configured.apiUrl} (API).\n`,
    );
    if (!config.ingestKey) {
      io.out(KEYS_NEEDED('A server is already running'));
      return null;
    }
    return checked(
      { ...configured, ingestKey: config.ingestKey, adminKey: config.adminKey, started: null },
      io,
    );
  }
  io.out(`Starting the agentrace server (${where(config)})…\n`);
  const started = await startServer(config, logger);
  const otlpUrl = `http://${host}:${started.ports.otlpHttp}`;
  const apiUrl = `http://${host}:${started.ports.api}`;
  io.out(`Serving OTLP at ${otlpUrl}/v1/traces and the query API at ${apiUrl}.\n`);
  const created = started.bootstrapped;
  if (created) {
    io.out(
      'Created the default tenant. These keys are shown once; keep them safe:\n' +
        `  admin key:  ${created.adminKey.key}\n  ingest key: ${created.ingestKey.key}\n`,
    );
  }
  const ingestKey = created?.ingestKey.key ?? config.ingestKey;
  if (!ingestKey) {
    io.out(KEYS_NEEDED('This database was set up before'));
    await started.close();
    return null;
  }
  const target = { otlpUrl, apiUrl, ingestKey, adminKey: created?.adminKey.key ?? config.adminKey, started };
  const ok = await checked(target, io);
  if (!ok) await started.close();
  return ok;
}

/** The target, once the receiver has accepted its ingest key (an empty OTLP request). */
async function checked(target: Target, io: DemoIo): Promise<Target | null> {
  const res = await fetch(`${target.otlpUrl}/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.ingestKey}`, 'content-type': 'application/json' },
    body: '{}',
  });
  if (res.ok) return target;
  io.out(
    `The receiver refused the ingest key (HTTP ${res.status}): pass the server's ingest key as AGENTRACE_INGEST_KEY.\n`,
  );
  return null;
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

const where = (config: Config) =>
  config.databaseUrl ? 'database from DATABASE_URL' : `data in ${config.dataDir}`;

function defaultIo(logger: Logger): DemoIo {
  return { out: (text) => process.stdout.write(text), untilStopped: () => shutdownSignal(quiet(logger)) };
}

/** The server's info logs would bury the demo's output; a level set on purpose is kept. */
const quiet = (logger: Logger) => (logger.level === 'info' ? logger.child({}, { level: 'warn' }) : logger);
