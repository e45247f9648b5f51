# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies; `npm ci` runs the `prepare` script, which
# builds the agent console (web/dist, from web/ and the src/ code it shares), the start bundle
# (scripts/start.mjs) and the PGlite data-directory image (from drizzle/'s migrations).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
COPY scripts ./scripts
COPY drizzle ./drizzle
RUN npm ci --no-audit --no-fund
RUN npm run build

# Runtime: production dependencies only, compiled code, the committed migrations, non-root.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# No `prepare` here: the console, the compiled code and the PGlite image come from the build stage.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY drizzle ./drizzle
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Production needs JWT_SECRET and ENCRYPTION_KEY (and usually DATABASE_URL, PUBLIC_URL): see README.
# --max-semi-space-size: see README ("Two commands").
CMD ["node", "--max-semi-space-size=32", "dist/main.js"]
