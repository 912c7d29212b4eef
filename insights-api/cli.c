/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator subcommands (see cli.h). Each one loads the daemon's
 * configuration, opens one PostgreSQL connection, calls one store / clients
 * function and prints its result as JSON lines. They hold no state of their
 * own, so running one beside live replicas is safe: migrations and
 * maintenance take the same advisory locks the daemons take.
 */
#include "insights-api/cli.h"

#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/json_writer.h"
#include "common/pg.h"
#include "insights-api/clients.h"
#include "common/file.h"
#include "insights-api/config.h"
#include "insights-api/monitor.h"
#include "insights-api/outcomes.h"
#include "insights-api/report.h"
#include "insights-api/store.h"

struct opts {
    const char *client;
    const char *user;
    const char *email;
    const char *geography;
    long window_s;
    long long token_id;
    const char *since;
    const char *until;
    const char *prom;
    const char *push;
    const char *out;
};

static const char *const subcommands[] = {"migrate",  "maintain", "forget", "client",
                                          "outcomes", "monitor",  "report"};

bool cli_is_subcommand(const char *arg)
{
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (strcmp(arg, subcommands[i]) == 0)
            return true;
    return false;
}

void cli_usage(FILE *out)
{
    fputs("usage: insights-api [--version | --config-docs | --error-docs | --features-docs |\n"
          "                     --healthcheck]\n"
          "       insights-api migrate\n"
          "       insights-api maintain\n"
          "       insights-api forget --client C --user U\n"
          "       insights-api client add --client C [--email E] [--geography G]\n"
          "       insights-api client rotate --client C [--window SECONDS]\n"
          "       insights-api client revoke --client C [--token-id N]\n"
          "       insights-api client list [--client C]\n"
          "       insights-api outcomes import FILE.csv\n"
          "       insights-api monitor --since DATE|Nd [--until DATE] [--prom FILE]\n"
          "                            [--push URL]\n"
          "       insights-api report --since DATE --out DIR\n"
          "  configuration comes from the environment: see --config-docs\n",
          out);
}

static int parse_long(const char *s, long long *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return -1;
    v = strtoll(s, &end, 10);
    if (*end || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* --name value pairs from argv[first..]. Returns 0 or -1 (usage). */
static int parse_opts(int argc, char **argv, int first, struct opts *o)
{
    for (int i = first; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;

        if (!v)
            return -1;
        if (strcmp(k, "--client") == 0)
            o->client = v;
        else if (strcmp(k, "--user") == 0)
            o->user = v;
        else if (strcmp(k, "--email") == 0)
            o->email = v;
        else if (strcmp(k, "--geography") == 0)
            o->geography = v;
        else if (strcmp(k, "--window") == 0 && parse_long(v, &n) == 0)
            o->window_s = (long)n;
        else if (strcmp(k, "--token-id") == 0 && parse_long(v, &n) == 0)
            o->token_id = n;
        else if (strcmp(k, "--since") == 0)
            o->since = v;
        else if (strcmp(k, "--until") == 0)
            o->until = v;
        else if (strcmp(k, "--prom") == 0)
            o->prom = v;
        else if (strcmp(k, "--push") == 0)
            o->push = v;
        else if (strcmp(k, "--out") == 0)
            o->out = v;
        else
            return -1;
    }
    return 0;
}

static PGconn *connect_db(const struct ins_config *cfg)
{
    char port[16], err[512];
    struct pg_params params = {
        .host = cfg->pg_host,
        .port = port,
        .user = cfg->pg_user,
        .password = cfg->pg_password,
        .dbname = cfg->pg_database,
        .sslmode = cfg->pg_sslmode,
        .application_name = "insights-api-cli",
    };
    PGconn *conn;

    if (!ins_config_has_db(cfg)) {
        fputs("insights-api: DI_POSTGRES_HOST is not set\n", stderr);
        return NULL;
    }
    snprintf(port, sizeof(port), "%ld", cfg->pg_port);
    conn = pg_connect(&params, err, sizeof(err));
    if (!conn)
        fprintf(stderr, "insights-api: cannot connect to postgres: %s\n", err);
    return conn;
}

/* Print one JSON object built by the caller on w, as a line. */
static void print_line(struct json_writer *w)
{
    size_t len;
    const char *s = json_writer_data(w, &len);

    fwrite(s, 1, len, stdout);
    fputc('\n', stdout);
    json_writer_reset(w);
}

static int cmd_migrate(PGconn *conn, struct json_writer *w)
{
    char err[1024];
    int n = store_migrate(conn, NULL, err, sizeof(err));

    if (n < 0) {
        fprintf(stderr, "insights-api: migrate failed: %s\n", err);
        return 1;
    }
    json_writer_object_begin(w);
    json_writer_kv_int(w, "migrations_applied", n);
    json_writer_object_end(w);
    print_line(w);
    return 0;
}

static int cmd_maintain(PGconn *conn, const struct ins_config *cfg, struct json_writer *w)
{
    struct store_maintain_opts o = {
        .days_ahead = (int)cfg->partitions_ahead_days,
        .retention_days = (int)cfg->retention_days,
        .wait_for_lock = true,
    };
    struct store_maintain_report r = {0};
    char err[1024];

    if (store_maintain(conn, &o, &r, err, sizeof(err)) < 0) {
        fprintf(stderr, "insights-api: maintain failed: %s\n", err);
        return 1;
    }
    json_writer_object_begin(w);
    json_writer_kv_int(w, "partitions_created", r.partitions_created);
    json_writer_kv_int(w, "partitions_dropped", r.partitions_dropped);
    json_writer_kv_int(w, "rows_deleted", r.rows_deleted);
    json_writer_kv_int(w, "failures", r.failures);
    json_writer_object_end(w);
    print_line(w);
    return r.failures ? 1 : 0;
}

static int cmd_forget(PGconn *conn, const struct ins_config *cfg, const struct opts *o,
                      struct json_writer *w)
{
    struct store_forget_result r;
    char err[1024];

    if (!o->client || !o->user) {
        cli_usage(stderr);
        return 2;
    }
    if (store_forget(conn, o->client, o->user, cfg->user_key_secret, &r, err, sizeof(err)) < 0) {
        fprintf(stderr, "insights-api: forget failed: %s\n", err);
        return 1;
    }
    json_writer_object_begin(w);
    json_writer_kv_string(w, "client_id", o->client);
    json_writer_kv_int(w, "rows_deleted", r.total);
    json_writer_key(w, "tables");
    json_writer_object_begin(w);
    for (int i = 0; i < STORE_FORGET_TABLES; i++)
        if (r.table[i])
            json_writer_kv_int(w, r.table[i], r.rows[i]);
    json_writer_object_end(w);
    json_writer_object_end(w);
    print_line(w);
    return 0;
}

static int cmd_monitor(PGconn *conn, const struct ins_config *cfg, const struct opts *o,
                       struct json_writer *w)
{
    struct monitor_opts mo = {
        .since = o->since, .until = o->until, .prom_path = o->prom, .push_url = o->push};
    char err[1024];

    if (!o->since) {
        cli_usage(stderr);
        return 2;
    }
    if (monitor_run(conn, cfg, &mo, w, err, sizeof(err)) < 0) {
        fprintf(stderr, "insights-api: monitor failed: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_report(PGconn *conn, const struct opts *o)
{
    char err[1024];

    if (!o->since || !o->out) {
        cli_usage(stderr);
        return 2;
    }
    if (report_run(conn, o->since, o->out, err, sizeof(err)) < 0) {
        fprintf(stderr, "insights-api: report failed: %s\n", err);
        return 1;
    }
    printf("{\"html\":\"%s/report.html\",\"csv\":\"%s/report.csv\"}\n", o->out, o->out);
    return 0;
}

static void print_issued(struct json_writer *w, const char *client, struct clients_issued *t)
{
    json_writer_object_begin(w);
    json_writer_kv_string(w, "client_id", client);
    json_writer_kv_int(w, "token_id", t->token_id);
    json_writer_kv_string(w, "token", t->token);
    json_writer_object_end(w);
    print_line(w);
    crypto_wipe(t->token, sizeof(t->token));
}

static int cmd_client_list(PGconn *conn, const struct opts *o, struct json_writer *w)
{
    struct clients_token_info *list = NULL;
    size_t n = 0;
    char err[1024];

    if (clients_list(conn, o->client, &list, &n, err, sizeof(err)) < 0) {
        fprintf(stderr, "insights-api: client list failed: %s\n", err);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        json_writer_object_begin(w);
        json_writer_kv_int(w, "token_id", list[i].token_id);
        json_writer_kv_string(w, "client_id", list[i].client_id);
        json_writer_kv_string(w, "email", list[i].email);
        json_writer_kv_double(w, "created_at", list[i].created_at);
        json_writer_kv_double(w, "expires_at", list[i].expires_at);
        json_writer_kv_double(w, "revoked_at", list[i].revoked_at);
        json_writer_kv_bool(w, "valid", list[i].valid);
        json_writer_object_end(w);
        print_line(w);
    }
    free(list);
    return 0;
}

static int cmd_client(PGconn *conn, const struct ins_config *cfg, const char *verb,
                      const struct opts *o, struct json_writer *w)
{
    struct clients_pepper pepper = {cfg->token_pepper, strlen(cfg->token_pepper)};
    struct clients_issued t;
    char err[1024];
    int r;

    if (strcmp(verb, "list") == 0)
        return cmd_client_list(conn, o, w);
    if (!o->client) {
        cli_usage(stderr);
        return 2;
    }
    if (strcmp(verb, "add") == 0)
        r = clients_add(conn, &pepper, o->client, o->email, o->geography, &t, err, sizeof(err));
    else if (strcmp(verb, "rotate") == 0)
        r = clients_rotate(conn, &pepper, o->client, (int)o->window_s, &t, err, sizeof(err));
    else
        r = clients_revoke(conn, o->client, o->token_id, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "insights-api: client %s failed: %s\n", verb, err);
        return 1;
    }
    if (strcmp(verb, "revoke") == 0) {
        json_writer_object_begin(w);
        json_writer_kv_string(w, "client_id", o->client);
        json_writer_kv_int(w, "tokens_revoked", r);
        json_writer_object_end(w);
        print_line(w);
        return 0;
    }
    if (r == 1) {
        fprintf(stderr, "insights-api: client %s has no valid token to rotate (use add)\n",
                o->client);
        return 1;
    }
    print_issued(w, o->client, &t);
    return 0;
}

#define CLI_CSV_MAX ((size_t)1 << 30) /* an outcomes file read at most */

/*
 * outcomes import FILE: bad lines on stderr ("line N: field: message"),
 * the good ones stored in one transaction, a summary line on stdout. Exit 1
 * when a line was refused (the rest are stored: fix and re-run, repeats are
 * no-ops).
 */
static int cmd_outcomes_import(PGconn *conn, const struct ins_config *cfg, const char *path,
                               struct json_writer *w)
{
    struct outcomes_import_report r;
    char err[1024];
    size_t len = 0;
    char *text = file_read(path, CLI_CSV_MAX, &len, err, sizeof(err));
    int rc;

    if (!text) {
        fprintf(stderr, "insights-api: outcomes import: %s\n", err);
        return 1;
    }
    rc = outcomes_import(conn, cfg->user_key_secret, text, len, ins_config_now(cfg), stderr, &r,
                         err, sizeof(err));
    free(text);
    if (rc < 0) {
        fprintf(stderr, "insights-api: outcomes import failed, nothing imported: %s\n", err);
        return 1;
    }
    json_writer_object_begin(w);
    json_writer_kv_int(w, "lines", r.records);
    json_writer_kv_int(w, "recorded", r.recorded);
    json_writer_kv_int(w, "updated", r.updated);
    json_writer_kv_int(w, "unchanged", r.unchanged);
    json_writer_kv_int(w, "rejected", r.rejected);
    json_writer_object_end(w);
    print_line(w);
    return r.rejected ? 1 : 0;
}

static bool client_verb_ok(const char *verb)
{
    return strcmp(verb, "add") == 0 || strcmp(verb, "rotate") == 0 || strcmp(verb, "revoke") == 0 ||
           strcmp(verb, "list") == 0;
}

int cli_main(int argc, char **argv)
{
    const char *cmd = argv[1];
    bool is_client = strcmp(cmd, "client") == 0;
    bool is_outcomes = strcmp(cmd, "outcomes") == 0;
    struct ins_config cfg = {0};
    struct opts o = {0};
    struct json_writer w;
    PGconn *conn = NULL;
    char err[1024];
    int rc = 1;

    if ((is_client && (argc < 3 || !client_verb_ok(argv[2]))) ||
        (is_outcomes && (argc != 4 || strcmp(argv[2], "import") != 0)) ||
        (!is_outcomes && parse_opts(argc, argv, is_client ? 3 : 2, &o) < 0)) {
        cli_usage(stderr);
        return 2;
    }
    json_writer_init(&w, 1 << 20);
    if (ins_config_load(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "insights-api: invalid configuration: %s\n", err);
        goto out;
    }
    conn = connect_db(&cfg);
    if (!conn)
        goto out;
    /* Every subcommand works on a migrated schema (idempotent, under the advisory lock). */
    if (strcmp(cmd, "migrate") != 0 && store_migrate(conn, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "insights-api: migrate failed: %s\n", err);
        goto out;
    }
    if (strcmp(cmd, "migrate") == 0)
        rc = cmd_migrate(conn, &w);
    else if (strcmp(cmd, "maintain") == 0)
        rc = cmd_maintain(conn, &cfg, &w);
    else if (strcmp(cmd, "forget") == 0)
        rc = cmd_forget(conn, &cfg, &o, &w);
    else if (is_outcomes)
        rc = cmd_outcomes_import(conn, &cfg, argv[3], &w);
    else if (strcmp(cmd, "monitor") == 0)
        rc = cmd_monitor(conn, &cfg, &o, &w);
    else if (strcmp(cmd, "report") == 0)
        rc = cmd_report(conn, &o);
    else
        rc = cmd_client(conn, &cfg, argv[2], &o, &w);
out:
    if (conn)
        PQfinish(conn);
    json_writer_free(&w);
    ins_config_free(&cfg);
    fflush(stdout);
    return rc;
}
