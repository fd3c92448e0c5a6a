import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface ServerProcessOptions {
  repoRoot: string;
  /** Variables added to the bench's own environment for the child. */
  env: Record<string, string>;
  /** Node flags before the script, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  startTimeoutMs?: number;
  /** `agentrace serve receiver|api`: one side only (the other URL is then empty). */
  mode?: 'receiver' | 'api';
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  otlpUrl: string;
  apiUrl: string;
  /** The last lines the server wrote to stderr (its JSON logs), for error reports. */
  stderrTail(): string;
  /** SIGTERM, then waits for the exit (the server drains its queue and stops its database first). */
  stop(timeoutMs?: number): Promise<number | null>;
}

const OTLP_LINE = /OTLP\/HTTP receiver:\s+(http:\/\/\S+)\/v1\/traces/;
const API_LINE = /Query API:\s+(http:\/\/\S+?)\/v1\/runs/;

/**
 * The environment of a benchmark's `agentrace serve`: every port picked free, loopback, the given keys as
 * the first start's keys, and only warnings logged.
 */
export function benchServerEnv(keys: { adminKey: string; ingestKey: string }): Record<string, string> {
  return {
    AGENTRACE_OTLP_HTTP_PORT: '0',
    AGENTRACE_OTLP_GRPC_PORT: '0',
    AGENTRACE_API_PORT: '0',
    AGENTRACE_HOST: '127.0.0.1',
    AGENTRACE_ADMIN_KEY: keys.adminKey,
    AGENTRACE_INGEST_KEY: keys.ingestKey,
    AGENTRACE_LOG_LEVEL: 'warn',
  };
}

/**
 * Runs `node cli/bin/agentrace.mjs serve` as a child process, so the load generator never shares the
 * server's event loop, and resolves once it has printed both endpoints.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const args = [
    ...(options.nodeArgs ?? []),
    'cli/bin/agentrace.mjs',
    'serve',
    ...(options.mode ? [options.mode] : []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: options.repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  });
  const stderrTail = () => tail.join('\n');

  const endpoints = new Promise<{ otlpUrl: string; apiUrl: string }>((resolve, reject) => {
    let otlpUrl: string | null = null;
    let apiUrl: string | null = null;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      otlpUrl ??= OTLP_LINE.exec(line)?.[1] ?? null;
      apiUrl ??= API_LINE.exec(line)?.[1] ?? null;
      if ((otlpUrl || options.mode === 'api') && (apiUrl || options.mode === 'receiver'))
        resolve({ otlpUrl: otlpUrl ?? '', apiUrl: apiUrl ?? '' });
    });
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `agentrace serve exited before listening (code ${code}, signal ${signal}):\n${stderrTail()}`,
        ),
      ),
    );
    child.once('error', reject);
  });
  const timeoutMs = options.startTimeoutMs ?? 180_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`agentrace serve did not listen within ${timeoutMs} ms:\n${stderrTail()}`)),
      timeoutMs,
    );
  });
  try {
    const { otlpUrl, apiUrl } = await Promise.race([endpoints, timeout]);
    return {
      child,
      pid: child.pid!,
      otlpUrl,
      apiUrl,
      stderrTail,
      async stop(stopTimeoutMs = 60_000) {
        if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
        const [code] = (await exited) as [number | null];
        clearTimeout(killer);
        return code;
      },
    };
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** CPU seconds (user + system) used so far by a process; with `reaped`, also by its waited-for children. */
export function processCpuSeconds(pid: number, reaped = false): Promise<number> {
  return cpuSecondsOf(`/proc/${pid}/stat`, reaped);
}

/** CPU seconds used so far by a process's main thread (for Node, its event loop). */
export function mainThreadCpuSeconds(pid: number): Promise<number> {
  return cpuSecondsOf(`/proc/${pid}/task/${pid}/stat`, false);
}

async function cpuSecondsOf(statFile: string, reaped: boolean): Promise<number> {
  const stat = await readFile(statFile, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (n: number) => Number(fields[n - 3]);
  const total = ticks(14) + ticks(15) + (reaped ? ticks(16) + ticks(17) : 0);
  return total / CLOCK_TICKS;
}

// sysconf(_SC_CLK_TCK): 100 on every Linux that Node supports.
const CLOCK_TICKS = 100;

/**
 * CPU seconds used so far by a PostgreSQL server: the postmaster, its live backends and workers, and the
 * backends that have already exited (reaped children).
 */
export async function postgresCpuSeconds(postmasterPid: number): Promise<number> {
  let total = await processCpuSeconds(postmasterPid, true);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmasterPid) total += await processCpuSeconds(Number(entry));
    } catch {
      // The process ended between readdir and read.
    }
  }
  return total;
}

/** The postmaster pid of an embedded cluster under `dataDir` (line 1 of `pg/postmaster.pid`). */
export async function embeddedPostmasterPid(dataDir: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Busy and total CPU seconds of the whole machine so far (from /proc/stat), to show saturation. */
export async function machineCpuSeconds(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

/**
 * Microseconds so far during which some task waited on `resource` (Linux pressure stall information), or
 * null where the kernel does not report it.
 */
export async function stallMicros(resource: 'cpu' | 'io'): Promise<number | null> {
  try {
    const text = await readFile(`/proc/pressure/${resource}`, 'utf8');
    const total = /^some .*total=(\d+)/m.exec(text)?.[1];
    return total === undefined ? null : Number(total);
  } catch {
    return null;
  }
}
