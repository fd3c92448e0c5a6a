#!/usr/bin/env node
import { AUDIT_FLAGS, AUDIT_USAGE, auditCommand } from './audit.ts';
import { BACKUP_FLAGS, BACKUP_USAGE, backupCommand, backupsCommand, restoreCommand } from './backup.ts';
import { parseConfig, settingsHelp } from './config.ts';
import { COST_FLAGS, COST_USAGE, costCommand } from './cost.ts';
import { EXPORT_FLAGS, EXPORT_USAGE, exportCommand } from './export.ts';
import { openDatabase } from './database.ts';
import { createLogger } from './logger.ts';
import { runDemo } from './demo.ts';
import { SERVE_MODES, type ServeMode, startServer } from './serve.ts';
import { shutdownSignal } from './shutdown-signal.ts';
import { KEYS_FLAGS, KEYS_USAGE, keysCommand } from './keys.ts';
import { createTenantCommand } from './tenants.ts';

const USAGE = `agentrace: observability for AI agents, on OpenTelemetry and PostgreSQL

Usage: agentrace <command> [flags]

Commands:
  serve [receiver|api]    run the receivers (OTLP/HTTP and gRPC, native REST) and the query API on one
                          database; \`serve receiver\` or \`serve api\` runs one side only, to scale apart
  migrate                 apply database migrations and exit
  demo                    run the example agents against the local server (started if none runs)
  tenants create NAME     create a tenant with a default project, an admin key and an ingest key [--json]
  keys create|list|revoke create (the secret is shown once), list or revoke a tenant's keys [--json]
  keys rotate-signing     replace the server's DecisionToken signing key (old tokens verify until they expire)
  audit verify            check the audit log's hash chain of every tenant (or --tenant ID) [--json]
  cost                    model spend per agent, model, provider, project or day; cost recompute re-prices
  export                  runs as JSON lines, one trajectory (the run and its steps) per line, on stdout
  backup                  back up the whole database to the S3 bucket now (AGENTRACE_BACKUP_S3_*) [--json]
  backups list            the backups, newest first: status, sizes, row counts, errors [--json]
  restore BACKUP          restore a backup (its id or S3 key) into an EMPTY database (--database-url) and
                          verify every table's row count and checksum against its manifest [--json]

${KEYS_USAGE}
${COST_USAGE}
${EXPORT_USAGE}
${AUDIT_USAGE}
${BACKUP_USAGE}

Settings (flags win over environment variables):
${settingsHelp()}
`;

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const json = argv.includes('--json');
  const { config, positionals, flags } = parseConfig(
    argv.filter((a) => a !== '--json'),
    process.env,
    { ...KEYS_FLAGS, ...AUDIT_FLAGS, ...COST_FLAGS, ...EXPORT_FLAGS, ...BACKUP_FLAGS },
  );
  const logger = createLogger(config.logLevel);
  const [command, ...args] = positionals;

  switch (command) {
    case 'serve': {
      const mode = (args[0] ?? 'all') as ServeMode;
      if (!SERVE_MODES.includes(mode) || args.length > 1) {
        process.stderr.write('usage: agentrace serve [receiver|api]\n');
        return 2;
      }
      const stopped = shutdownSignal(logger);
      const server = await startServer(config, logger, mode);
      if (server.bootstrapped) printKeys(server.bootstrapped);
      printEndpoints(config.host, server.ports);
      await stopped;
      await server.close();
      return 0;
    }
    case 'demo':
      return runDemo(config, logger);
    case 'migrate': {
      const db = await openDatabase(config, logger, 1);
      await db.close();
      return 0;
    }
    case 'tenants':
      if (args[0] === 'create' && args[1]) return createTenantCommand(config, logger, args[1], json);
      process.stderr.write('usage: agentrace tenants create NAME [--json]\n');
      return 2;
    case 'keys':
      return keysCommand(config, logger, args, flags, json);
    case 'audit':
      return auditCommand(config, logger, args, flags, json);
    case 'cost':
      return costCommand(config, logger, args, flags, json);
    case 'export':
      return exportCommand(config, logger, args, flags);
    case 'backup':
      return backupCommand(config, logger, args, flags, json);
    case 'backups':
      return backupsCommand(config, logger, args, flags, json);
    case 'restore':
      return restoreCommand(config, logger, args, flags, json);
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

function printKeys(t: { tenantId: string; projectId: string; adminKey: { key: string }; ingestKey: { key: string } }) {
  process.stdout.write(
    [
      '',
      'Created the default tenant. These keys are shown once; keep them safe:',
      `  admin key:  ${t.adminKey.key}`,
      `  ingest key: ${t.ingestKey.key}`,
      `  tenant ${t.tenantId}, project ${t.projectId}`,
      '',
    ].join('\n'),
  );
}

function printEndpoints(
  host: string,
  ports: { otlpHttp: number | null; otlpGrpc: number | null; api: number | null },
) {
  const lines = [
    ports.otlpHttp === null ? null : `OTLP/HTTP receiver: http://${host}:${ports.otlpHttp}/v1/traces`,
    ports.otlpGrpc === null ? null : `OTLP/gRPC receiver: ${host}:${ports.otlpGrpc}`,
    ports.api === null ? null : `Query API:          http://${host}:${ports.api}/v1/runs`,
  ];
  process.stdout.write(`${lines.filter((l) => l !== null).join('\n')}\n`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`agentrace: ${err.message}\n`);
    process.exit(1);
  },
);
