# sms-extraction image. Build from the repository root:
#   docker build -f deploy/sms-extraction.Dockerfile -t sms-extraction:dev .
# Stage 1 compiles with the Debian toolchain; stage 2 holds only the binary, its rules and
# the shared libraries it links, runs as an unprivileged user and writes nothing, so it
# works with a read-only root filesystem. The HEALTHCHECK uses the daemon's own
# --healthcheck (no curl in the image).
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
RUN make BUILD=/out /out/sms-extraction && strip /out/sms-extraction

FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates libevent-2.1-7 libevent-pthreads-2.1-7 libpq5 libpcre2-8-0 \
        libjansson4 libcurl4 libssl3 libmongoc-1.0-0 libbson-1.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 smsx \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin smsx
# The daemon reads its default rule paths (sms-extraction/rules/*.json) relative to /app.
WORKDIR /app
COPY --from=build /out/sms-extraction /usr/local/bin/sms-extraction
COPY sms-extraction/rules ./sms-extraction/rules
ENV HTTP_PORT=8082 \
    ADMIN_PORT=9082 \
    LOG_LEVEL=info
USER 10001:10001
EXPOSE 8082 9082
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["/usr/local/bin/sms-extraction", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/sms-extraction"]
