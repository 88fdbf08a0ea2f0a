# The lbc service (API or worker) as a container, for docker-compose.yml. The compile image
# (containers/) is separate: workers start it through the host's Docker engine.
FROM node:20-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libbpf-dev redis-tools && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/lbc
COPY package.json package-lock.json ./
COPY contract/package.json contract/
COPY btf/package.json btf/
COPY services/core/package.json services/core/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
COPY services/server/package.json services/server/
COPY client/package.json client/
COPY . .
RUN npm ci
ENTRYPOINT ["node", "--import", "tsx", "services/server/src/main.ts"]
