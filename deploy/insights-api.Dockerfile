# insights-api image. Build from the repository root (podman is the engine we test; see
# docs/deployment.md, or scripts/images.sh, which builds both images the way CI does):
#   podman build --format docker -f deploy/insights-api.Dockerfile -t insights-api:dev .
# Stage `build` compiles both daemons with the Debian toolchain; it is the same, instruction
# for instruction, in deploy/sms-extraction.Dockerfile, so the second image reuses the first
# one's cached layers and both images come from one compile. The final stage is FROM scratch:
# the stripped binary, its migrations, feature catalogue and artifacts, and only the shared
# libraries it links (deploy/runtime-root.sh); no shell, no package manager. It runs as an
# unprivileged user; the only thing it writes is the spool file (SPOOL_PATH) in
# /var/spool/insights-api: mount a tmpfs/emptyDir there when the root filesystem is
# read-only. The same image runs the one-shot commands (`insights-api migrate`, `maintain`,
# `forget`, `client ...`). The demo-loader target is the laptop stack's data seeder (it has
# a shell and python3; the daemon image has neither). The HEALTHCHECK uses the daemon's own
# --healthcheck (no curl in the image).
# BASE:BASE_TAG is the build stage's base; CI imports a pristine debootstrap root as
# localhost/sms-insights-base:bookworm (scripts/bare-root.sh, scripts/images.sh).
ARG BASE=debian
ARG BASE_TAG=12-slim

FROM ${BASE}:${BASE_TAG} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential pkg-config ca-certificates libevent-dev libpq-dev libpcre2-dev \
        libjansson-dev libcurl4-openssl-dev libssl-dev libmongoc-dev libbson-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY common ./common
COPY sms-extraction ./sms-extraction
COPY insights-api ./insights-api
COPY tools/load-user.c ./tools/load-user.c
COPY deploy/runtime-root.sh ./deploy/runtime-root.sh
RUN make -j"$(nproc)" BUILD=/out /out/sms-extraction /out/insights-api /out/tools/load-user \
    && strip /out/sms-extraction /out/insights-api /out/tools/load-user \
    && sh deploy/runtime-root.sh /runtime /out/sms-extraction /out/insights-api \
    && mkdir -m 0700 /spool && chown 10001:10001 /spool

# Optional target for the laptop stack only (deploy/compose.yml, services demo-loader and
# demo-client): tools/gen-users invents a borrower, tools/load-user puts it into MongoDB
# sync_db, and insights-api (with a shell here) creates the demo client.
FROM ${BASE}:${BASE_TAG} AS demo-loader
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 libmongoc-1.0-0 libbson-1.0-0 \
        libjansson4 libevent-2.1-7 libevent-pthreads-2.1-7 libpq5 libpcre2-8-0 libcurl4 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin loader
COPY --from=build /out/tools/load-user /usr/local/bin/load-user
COPY --from=build /out/insights-api /usr/local/bin/insights-api
COPY tools/gen-users /usr/local/bin/gen-users
USER 10001
ENTRYPOINT ["/bin/sh", "-c"]

FROM scratch
COPY --from=build /runtime/ /
COPY --from=build --chown=10001:10001 /spool /var/spool/insights-api
COPY --from=build /out/insights-api /usr/local/bin/insights-api
# Migrations, the catalogue and the artifacts are read relative to /app.
COPY insights-api/migrations /app/insights-api/migrations
COPY insights-api/catalogue /app/insights-api/catalogue
COPY insights-api/artifacts /app/insights-api/artifacts
WORKDIR /app
# MONGOC_DISABLE_SHM: libmongoc's counters live in /dev/shm/mongoc-<pid> by default; in a
# container the daemon is always pid 1 and /dev/shm outlives a killed container in its pod,
# so after one OOM kill every restart would print a plain-text line into the JSON log.
ENV HTTP_PORT=8000 \
    MONGOC_DISABLE_SHM=1 \
    ADMIN_PORT=9000 \
    LOG_LEVEL=info \
    SPOOL_PATH=/var/spool/insights-api/spool
VOLUME ["/var/spool/insights-api"]
USER 10001:10001
EXPOSE 8000 9000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["/usr/local/bin/insights-api", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/insights-api"]
