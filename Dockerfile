# Two stages: the build stage compiles src/ to dist/ with the dev dependencies (TypeScript); the image
# that runs holds dist/ and the production dependencies only: no TypeScript, tsx or esbuild, no src/,
# no tests. Node 24 (LTS). clawmedic also runs on Node 22; Node 20 reached end of life in April 2026.
# NODE_IMAGE is the official Node 24 image unless the build is told otherwise: a machine that cannot pull it
# builds a local equivalent with scripts/docker-node-base.sh and passes --build-arg NODE_IMAGE=<that image>.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY src src
RUN node scripts/build.mjs

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# ssh2's optional native parts (cpu-features, its crypto binding) need a compiler this image lacks: npm
# skips them and ssh2 uses Node's own crypto, as in every earlier image. @resvg/resvg-js ships prebuilt.
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json clawmedic.example.yaml ./
USER node
CMD ["node", "--optimize-for-size", "dist/cli.js", "start"]
