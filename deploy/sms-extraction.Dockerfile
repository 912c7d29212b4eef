# sms-extraction image. Build from the repository root (podman is the engine we test; see
# docs/deployment.md, or scripts/images.sh, which builds both images the way CI does):
#   podman build --format docker -f deploy/sms-extraction.Dockerfile -t sms-extraction:dev .
# Stage `build` compiles both daemons with the Debian toolchain; it is the same, instruction
# for instruction, in deploy/insights-api.Dockerfile, so the second image reuses the first
# one's cached layers and both images come from one compile. The final stage is FROM scratch:
# the stripped binary, its rules, and only the shared libraries it links (deploy/runtime-root.sh);
# no shell, no package manager. It runs as an unprivileged user and writes nothing, so it
# works with a read-only root filesystem. The HEALTHCHECK uses the daemon's own --healthcheck.
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

FROM scratch
COPY --from=build /runtime/ /
COPY --from=build /out/sms-extraction /usr/local/bin/sms-extraction
# The daemon reads its default rule paths (sms-extraction/rules/*.json) relative to /app.
COPY sms-extraction/rules /app/sms-extraction/rules
WORKDIR /app
ENV HTTP_PORT=8082 \
    ADMIN_PORT=9082 \
    LOG_LEVEL=info
USER 10001:10001
EXPOSE 8082 9082
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["/usr/local/bin/sms-extraction", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/sms-extraction"]
