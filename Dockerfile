# syntax=docker/dockerfile:1
#
# dvbot — the production image. Three stages:
#   build  installs every dependency (TypeScript is a devDependency) and compiles to dist/;
#   deps   installs the runtime dependencies only (npm ci --omit=dev);
#   final  dist/ + runtime node_modules + the shipped data files, run by the unprivileged `node` user.
# The image starts `node dist/src/main.js`: compiled JavaScript, so tsx (a devDependency) is not
# needed at run time. The CLIs are compiled too: `node dist/src/cli/admin.js …` (docs/van-hanh.md).
#
# Build:  docker build -t dvbot .      Run: docker compose up -d   (compose.yaml beside this file)
#
# Node: the current LTS line (Node.js 26 "Lithium", LTS since 2026-10-28). The code also runs on
# Node 20.19+ (package.json engines); override with --build-arg NODE_IMAGE=node:24-trixie-slim.
ARG NODE_IMAGE=node:26-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bots ./bots
COPY jobs ./jobs
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# @napi-rs/canvas (charts) comes as a prebuilt native package for linux-x64/arm64 gnu: no compiler
# and no download at install time.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/var/lib/dvbot \
    CONSOLE_CHANNEL=off \
    JOBS=on
WORKDIR /app
# The report charts are drawn with the system's fonts (src/domain/reports/chart.ts); the slim image
# has none, and without one with Vietnamese letters every label would come out as empty boxes.
RUN apt-get update \
  && apt-get install -y --no-install-recommends fonts-dejavu-core \
  && rm -rf /var/lib/apt/lists/*
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json marks the root (src/paths.ts looks for it) and data/ holds the shipped units,
# plans, holidays, legal time limits and public information.
COPY package.json ./
COPY data ./data
RUN mkdir -p /var/lib/dvbot && chown node:node /var/lib/dvbot
VOLUME ["/var/lib/dvbot"]
USER node
EXPOSE 3000
# /readyz answers 200 once the database answers a ping, 503 otherwise.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) makes the bot finish the updates in hand and drain the outbox for up to
# 5 s before it exits; give it stop_grace_period ≥ 15 s.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/src/main.js"]
