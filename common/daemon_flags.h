/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command-line flags every daemon answers the same way (team contract):
 * `--version`, `--config-docs` (the config table as Markdown), `--error-docs`
 * (the error table rows this daemon sends, as Markdown) and `--healthcheck` (GET /health on
 * 127.0.0.1:$HTTP_PORT, exit 0/1, for Docker HEALTHCHECK). A daemon's main
 * tries these first and handles its own extra flags and usage after.
 */
#ifndef COMMON_DAEMON_FLAGS_H
#define COMMON_DAEMON_FLAGS_H

#include <stddef.h>

#include "common/config.h"

struct daemon_flags {
    const char *service; /* "sms-extraction": --version line and --config-docs heading */
    const char *version;
    const struct config_var *config_table;
    size_t config_table_len;
    unsigned err_sender; /* ERR_BY_* bit: the rows of the error table this daemon sends */
    /* --healthcheck reads HTTP_PORT through the table into a scratch struct of
     * config_size bytes (the rest of the configuration may be anything);
     * default_http_port when even that fails */
    size_t config_size;
    size_t http_port_offset; /* offsetof(the config struct, its long http_port) */
    int default_http_port;
};

/* Runs arg if it is one of the shared flags: returns the process exit status,
 * or -1 when arg is not one of them. */
int daemon_flags_run(const struct daemon_flags *f, const char *arg);

#endif
