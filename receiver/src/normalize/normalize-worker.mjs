// A worker thread runs plain JavaScript: register tsx first, as cli/bin/agentrace.mjs does for the main
// thread, so the TypeScript sources load without a build step (and under vitest alike).
import { register } from 'tsx/esm/api';

register();
await import('./normalize-worker.ts');
