# zkgate container image. Build: docker build -t zkgate .  Run: docker run -p 8080:8080 -v zkdata:/data zkgate
# Stage 1 compiles TypeScript with the dev dependencies; stage 2 holds production dependencies and dist only.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts
COPY bin ./bin
COPY cli ./cli
COPY client ./client
COPY openapi ./openapi
COPY routes ./routes
COPY server ./server
COPY storage ./storage
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json
# The zkgate command as one bundle (bin/bundle.ts): it starts in about half the time of the compiled files.
RUN node dist/bin/bundle.js

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    ZKGATE_DATA_DIR=/data \
    ZKGATE_CONF_DIR=/conf \
    ZKGATE_HTTP_PORT=8080
WORKDIR /opt/zkgate
COPY package.json package-lock.json ./
# lmdb ships prebuilt native binaries; no install scripts are needed (or allowed: see allowScripts).
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
# bin/zkgate runs the bundle; dist/client is the SDK that package.json exports.
COPY --from=build /src/dist/bundle ./dist/bundle
COPY --from=build /src/dist/client ./dist/client
COPY bin/zkgate ./bin/zkgate
COPY deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN ln -s /opt/zkgate/bin/zkgate /usr/local/bin/zkgate \
 && mkdir -p /data /conf \
 && chown node:node /data /conf
# The node image's unprivileged user (uid 1000).
USER node
VOLUME ["/data"]
# HTTP (clients, admin, metrics); peer and election ports for an ensemble; the plain-HTTP metrics port when
# ZKGATE_METRICS_PORT=7000 (needed for health checks and scrapers once the HTTP port serves TLS).
EXPOSE 8080 2888 3888 7000
# ruok over plain HTTP: on the metrics port when there is one, else on the HTTP port.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "const p=process.env.ZKGATE_METRICS_PORT||process.env.ZKGATE_HTTP_PORT||8080;fetch('http://127.0.0.1:'+p+'/v1/admin/ruok').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM reaches node directly (exec in the entrypoint): graceful shutdown within 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["zkgate", "server", "--config", "/conf/zoo.cfg", "--host", "0.0.0.0"]
