export { HttpError } from '@agentrace/schemas';
export { createQueryApp, type QueryAppDeps } from './query-app.ts';
