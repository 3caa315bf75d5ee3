# syntax=docker/dockerfile:1
# procfs-sim: multi-stage build. The build stage compiles TypeScript with the dev dependencies;
# the runtime stage has only production dependencies and dist/, and runs node directly (not
# `npm start`, whose prestart step runs tsc, a dev dependency).

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY routes ./routes
RUN npx tsc -p tsconfig.json

FROM node:20-slim AS runtime
# Listening on every interface, so never without a token: it is read from a secret mounted at
# TOKEN_FILE (compose `secrets:`, a Kubernetes Secret); the service refuses to start when the
# file is missing. `-e TOKEN_FILE=` runs without a token (only on a network you trust).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    TOKEN_FILE=/run/secrets/procfs_sim_token
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The node image ships an unprivileged `node` user (uid 1000).
USER node
EXPOSE 8080
# node:20-slim has no curl: probe /healthz with node's own fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/server.js", "--host", "0.0.0.0"]
