import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The examples the demo runs, in the order it reports them. */
export const DEMO_EXAMPLES = [
  { file: 'model-gateway.ts', title: 'model gateway: coach and safety tasks, provider fallback' },
  {
    file: 'multi-agent-simulation.ts',
    title: 'market simulation: agents invoking contracts and services, in ticks',
  },
  { file: 'research-agent.ts', title: 'research agent: tools, thoughts, a sub-agent, a report file' },
] as const;

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));

export interface ExampleOutcome {
  code: number | null;
  output: string;
}

/**
 * Runs one example as its own process, as a user would (`tsx examples/<file>`), shipping to `endpoint`
 * with `ingestKey`; resolves with its exit code and everything it printed.
 */
export function runExample(file: string, endpoint: string, ingestKey: string): Promise<ExampleOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), EXAMPLES_DIR + file], {
      env: { ...process.env, AGENTRACE_ENDPOINT: endpoint, AGENTRACE_API_KEY: ingestKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}
