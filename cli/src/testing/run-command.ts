import { type Logger, pino } from 'pino';
import { vi } from 'vitest';
import { type Config, parseConfig } from '../config.ts';

/** The shape of a CLI command's function (keys, audit, cost, ...), as main.ts calls it. */
export type CommandFn = (
  config: Config,
  logger: Logger,
  args: string[],
  flags: Record<string, string | undefined>,
  json: boolean,
) => Promise<number>;

/**
 * Runs `command` as main.ts would with `argv` (flags from `flagNames`) against `databaseUrl`, and returns its
 * exit code with what it wrote to stdout and stderr.
 */
export async function runCommand(
  command: CommandFn,
  argv: string[],
  flagNames: Parameters<typeof parseConfig>[2],
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  const { config, positionals, flags } = parseConfig(
    argv.filter((a) => a !== '--json'),
    { AGENTRACE_LOG_LEVEL: 'silent', ...env },
    flagNames,
  );
  const out: string[] = [];
  const err: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
  try {
    const code = await command(config, pino({ level: 'silent' }), positionals.slice(1), flags, argv.includes('--json'));
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
