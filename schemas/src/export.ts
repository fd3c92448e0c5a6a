import { z } from 'zod';

/** `GET /v1/runs/{run_id}/export` query string: a JSON-lines trajectory (default) or an OTLP/JSON request. */
export const RunExportQuery = z.object({ format: z.enum(['jsonl', 'otlp']).default('jsonl') }).strict();
export type RunExportQuery = z.infer<typeof RunExportQuery>;
