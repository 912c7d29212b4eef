# insights-api image. Build from the repository root:
#   docker build -f deploy/insights-api.Dockerfile -t insights-api:dev .
# Stage 1 compiles with the Debian toolchain; stage 2 holds only the binary, its migrations,
# feature catalogue and artifacts and the shared libraries it links, and runs as an
# unprivileged user. The only thing it writes is the spool file (SPOOL_PATH), which lives in
# /var/spool/insights-api: mount a tmpfs/emptyDir there when the root filesystem is read-only.
# The same image runs the one-shot commands (`insights-api migrate`, `maintain`, `forget`,
# `client ...`); the demo-loader target is the laptop stack's data seeder. The HEALTHCHECK uses the daemon's own --healthcheck (no curl in the image).
FROM debian:12-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential pkg-config libevent-dev libpq-dev libpcre2-dev libjansson-dev \
        libcurl4-openssl-dev libssl-dev libmongoc-dev libbson-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY common ./common
COPY sms-extraction ./sms-extraction
COPY insights-api ./insights-api
COPY tools/load-user.c ./tools/load-user.c
RUN make BUILD=/out /out/insights-api /out/tools/load-user \
    && strip /out/insights-api /out/tools/load-user

# Optional target for the laptop stack only (deploy/compose.yml, service demo-loader):
# tools/gen-users invents a borrower and tools/load-user puts it into MongoDB sync_db.
FROM debian:12-slim AS demo-loader
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 libmongoc-1.0-0 libbson-1.0-0 \
        libjansson4 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin loader
COPY --from=build /out/tools/load-user /usr/local/bin/load-user
COPY tools/gen-users /usr/local/bin/gen-users
USER 10001
ENTRYPOINT ["/bin/sh", "-c"]

FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates libevent-2.1-7 libevent-pthreads-2.1-7 libpq5 libpcre2-8-0 \
        libjansson4 libcurl4 libssl3 libmongoc-1.0-0 libbson-1.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 insights \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin insights \
    && mkdir -p /var/spool/insights-api \
    && chown 10001:10001 /var/spool/insights-api
# Migrations (insights-api/migrations), the catalogue and the artifacts are read relative to /app.
WORKDIR /app
COPY --from=build /out/insights-api /usr/local/bin/insights-api
COPY insights-api/migrations ./insights-api/migrations
COPY insights-api/catalogue ./insights-api/catalogue
COPY insights-api/artifacts ./insights-api/artifacts
ENV HTTP_PORT=8000 \
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
