/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flags both daemons share, answered once so that their behaviour (the
 * exit statuses Docker and the docs generator rely on, the --version line)
 * cannot differ between them. What each daemon knows (its name, version,
 * config table, how it finds its port) comes in struct daemon_flags.
 */
#include "common/daemon_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

#include "common/err.h"
#include "common/http_server.h"

#define DAEMON_FLAGS_HEALTHCHECK_MS 2000

/* HTTP_PORT as the table reads it, else the daemon's default. */
static int http_port(const struct daemon_flags *f)
{
    void *cfg = alloc_zeroed(1, f->config_size);
    int port = f->default_http_port;
    char err[512];

    if (config_load(f->config_table, f->config_table_len, cfg, err, sizeof(err)) == 0)
        port = (int)*(const long *)((const char *)cfg + f->http_port_offset);
    config_free(f->config_table, f->config_table_len, cfg);
    free(cfg);
    return port;
}

int daemon_flags_run(const struct daemon_flags *f, const char *arg)
{
    if (strcmp(arg, "--version") == 0) {
        printf("%s %s\n", f->service, f->version);
        return 0;
    }
    if (strcmp(arg, "--config-docs") == 0)
        return config_write_markdown(f->config_table, f->config_table_len, f->service, stdout) == 0
                   ? 0
                   : 1;
    if (strcmp(arg, "--error-docs") == 0)
        return err_write_markdown(stdout, f->service, f->err_sender) == 0 ? 0 : 1;
    if (strcmp(arg, "--healthcheck") == 0)
        return http_server_healthcheck("127.0.0.1", http_port(f), DAEMON_FLAGS_HEALTHCHECK_MS) == 0
                   ? 0
                   : 1;
    return -1;
}
