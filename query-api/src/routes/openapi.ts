import { Router } from 'express';
import { buildOpenApiDocument } from '../openapi/openapi-document.ts';

/** `GET /v1/openapi.json`: the document, built once when the app is. */
export function openApiRouter(): Router {
  const document = JSON.stringify(buildOpenApiDocument());
  const router = Router();
  router.get('/v1/openapi.json', (_req, res) => {
    res.type('application/json').send(document);
  });
  return router;
}
