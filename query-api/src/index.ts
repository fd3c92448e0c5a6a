export { HttpError } from './http-error.ts';
export { createQueryApp, type QueryAppDeps } from './query-app.ts';
