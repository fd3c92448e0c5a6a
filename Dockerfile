# agentrace: the receiver (OTLP/HTTP + native REST on 4318, OTLP/gRPC on 4317) and the query API (8080)
# in one process, run from the TypeScript sources with tsx (there is no build step).
# It expects an external PostgreSQL in DATABASE_URL (docker-compose.yml provides one).
FROM node:20-slim

WORKDIR /app
# Every workspace is copied before `npm ci`, which needs all of the lockfile's workspace folders.
COPY . .
# No install scripts, as npm 11 does by default: none is needed with an external PostgreSQL (only the
# embedded server's package has one). tsx is a runtime dependency of the cli package.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

ENV NODE_ENV=production \
    AGENTRACE_HOST=0.0.0.0
EXPOSE 4317 4318 8080
USER node
CMD ["node", "cli/bin/agentrace.mjs", "serve"]
