# The lbc service as containers: `--target api` and `--target worker` (docker-compose.yml and
# deploy/kubernetes use both). The compile image (containers/) is separate: workers start it
# through the host's Docker engine, sharing their data directory with the host at the same path.
#
#   docker build -f deploy/service.Dockerfile --target api    -t lbc-api:1 .
#   docker build -f deploy/service.Dockerfile --target worker -t lbc-worker:1 .
#
# Without a registry, build BASE offline first (deploy/build-service-base.sh) and pass
# --build-arg BASE=lbc-service-base:trixie.
ARG BASE=node:20-bookworm

# Only what `npm ci` reads (every package.json and the lock), so the build stage's npm ci layer is
# reused until a dependency changes (COPY compares contents, not times); a source change then
# costs seconds, not a reinstall.
FROM ${BASE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json \) -print \
    | xargs cp --parents -t /manifests

FROM ${BASE} AS build
# libbpf-dev: the client's native addon (built by npm ci); python3/make/g++: node-gyp.
RUN if ! dpkg -s libbpf-dev python3 make g++ >/dev/null 2>&1; then \
      apt-get update && apt-get install -y --no-install-recommends libbpf-dev python3 make g++ \
      && rm -rf /var/lib/apt/lists/*; fi
# Behind a TLS-intercepting proxy, put its CA certificate(s) in deploy/ca-certificates/*.crt.
COPY deploy/ca-certificates/ /usr/local/share/ca-certificates/lbc/
RUN if ls /usr/local/share/ca-certificates/lbc/*.crt >/dev/null 2>&1; then update-ca-certificates; fi
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# Debian's nodejs keeps its headers under /usr (libnode-dev): native addons build against them.
RUN if [ -f /usr/include/node/node.h ]; then echo nodedir=/usr >> "$(npm config get globalconfig)"; fi
WORKDIR /opt/lbc
COPY --from=manifests /manifests/ ./
RUN npm ci && npm cache clean --force
COPY . .

FROM build AS api
ENV LBC_HOST=0.0.0.0 LBC_PORT=8080 LBC_DATA_DIR=/var/lib/lbc
EXPOSE 8080
# Node's own start takes seconds on a loaded host, and the API registers the host kernel before it listens.
HEALTHCHECK --interval=10s --timeout=10s --start-period=120s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.LBC_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--import", "tsx", "services/farm/src/main.ts", "api"]

FROM build AS worker
ENV LBC_DATA_DIR=/var/lib/lbc
# SIGTERM: finish the compile in hand; an unfinished job runs again on another worker.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--import", "tsx", "services/farm/src/main.ts", "worker"]
