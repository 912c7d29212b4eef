/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor run (see monitor.h). The numbers come from monitor_stats.c; this
 * file reads their inputs from PostgreSQL, the reference distributions from
 * beside the configured models (a file or an S3 object, through the same
 * artifact fetcher and sealing rules as the models), and writes the results. Outcomes
 * are joined to predictions by request_id when the outcome names one, else to
 * the latest prediction (greatest as_of not after observed_at) of the same
 * client and user_key; several outcomes of one prediction make it bad when any
 * is bad. Predictor values come from the response dumps (DUMP_MODE=full),
 * joined by request_id: without dumps a predictor's PSI is left empty.
 */
#include "insights-api/monitor.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/artifact.h"
#include "common/aws_credentials.h"
#include "common/daemon.h"
#include "common/pg.h"
#include "insights-api/monitor_stats.h"

#define REFERENCE_FORMAT "insights-model-reference/1"

/* The Prometheus gauges, one row each (docs/monitoring.md), printed as insights_<name>. */
static const struct {
    const char *name;
    const char *help;
} gauges[] = {
    {"model_volume", "Predictions in the monitoring window"},
    {"model_labelled", "Predictions joined to an outcome"},
    {"model_bad_rate", "Share of labelled predictions with a bad outcome"},
    {"model_auc", "AUC of the score on labelled predictions"},
    {"model_auc_reference", "AUC of the model on its training data"},
    {"model_ks", "KS (max tpr - fpr) of the score on labelled predictions"},
    {"model_psi", "PSI of the score or a predictor against the model's reference"},
    {"model_monitor_last_run_timestamp_seconds", "When the last monitor run ended"},
};
#define N_GAUGES (sizeof(gauges) / sizeof(gauges[0]))

struct group {
    const char *score, *version, *arm, *shadow; /* shadow "t" or "f" */
    long long volume;
};

struct run {
    PGconn *conn;
    const struct ins_config *cfg;
    const struct monitor_opts *o;
    struct aws_provider *aws;        /* S3 credentials for the references */
    struct artifact_fetcher fetcher; /* the models' rules: keyring, size cap, prod sealing */
    bool have_fetcher;
    char run_at[64], since[64], until[64];
    double run_epoch;
    struct group g;
    struct json_writer *w;
    FILE *prom[N_GAUGES];
    char *prom_buf[N_GAUGES];
    size_t prom_len[N_GAUGES];
    char *err;
    size_t err_len;
};

/* ---- reference files ---- */

static int load_doubles(json_t *arr, double **out, size_t *n)
{
    size_t i;
    json_t *v;

    if (!json_is_array(arr))
        return -1;
    *n = json_array_size(arr);
    *out = calloc(*n ? *n : 1, sizeof(double));
    if (!*out)
        return -1;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_number(v))
            return -1;
        (*out)[i] = json_number_value(v);
    }
    return 0;
}

static int load_feature(json_t *f, struct monitor_feature_ref *r)
{
    const char *name = json_string_value(json_object_get(f, "feature"));
    size_t n_counts;

    if (!name)
        return -1;
    r->name = strdup(name);
    r->top = json_is_true(json_object_get(f, "top"));
    if (!r->name || load_doubles(json_object_get(f, "edges"), &r->edges, &r->n_edges) < 0 ||
        load_doubles(json_object_get(f, "counts"), &r->counts, &n_counts) < 0)
        return -1;
    for (size_t i = 0; i < r->n_edges; i++)
        if (!isfinite(r->edges[i]) || (i > 0 && !(r->edges[i - 1] < r->edges[i])))
            return -1;
    if (n_counts != r->n_edges + 2)
        return -1;
    for (size_t i = 0; i < n_counts; i++)
        if (!(r->counts[i] >= 0) || !isfinite(r->counts[i]))
            return -1;
    return 0;
}

static int load_reference_json(json_t *root, struct monitor_reference *ref)
{
    json_t *bins = json_object_get(root, "bins"), *f;
    const char *format = json_string_value(json_object_get(root, "format"));
    size_t i;

    if (!format || strcmp(format, REFERENCE_FORMAT) != 0 || !json_is_array(bins) ||
        json_array_size(bins) == 0)
        return -1;
    ref->score = strdup(json_string_value(json_object_get(root, "score")) ?: "");
    ref->version = strdup(json_string_value(json_object_get(root, "version")) ?: "");
    ref->auc = json_is_number(json_object_get(root, "auc"))
                   ? json_number_value(json_object_get(root, "auc"))
                   : NAN;
    ref->ks = json_is_number(json_object_get(root, "ks"))
                  ? json_number_value(json_object_get(root, "ks"))
                  : NAN;
    ref->features = calloc(json_array_size(bins), sizeof(*ref->features));
    if (!ref->score || !ref->version || !ref->features)
        return -1;
    json_array_foreach(bins, i, f)
    {
        ref->n_features = i + 1;
        if (load_feature(f, &ref->features[i]) < 0)
            return -1;
    }
    return strcmp(ref->features[0].name, "score") == 0 ? 0 : -1;
}

static int parse_reference(json_t *root, const char *what, struct monitor_reference *ref, char *err,
                           size_t err_len)
{
    int rc = load_reference_json(root, ref);

    json_decref(root);
    if (rc < 0) {
        snprintf(err, err_len,
                 "reference '%s': not a valid " REFERENCE_FORMAT
                 " file (format, score bin first, finite ascending edges, counts = edges + 2,"
                 " not negative)",
                 what);
        monitor_reference_free(ref);
    }
    return rc;
}

int monitor_reference_parse(const char *buf, size_t len, struct monitor_reference *ref, char *err,
                            size_t err_len)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, 0, &jerr);

    memset(ref, 0, sizeof(*ref));
    if (!root) {
        snprintf(err, err_len, "reference: %s (line %d)", jerr.text, jerr.line);
        return -1;
    }
    return parse_reference(root, "(buffer)", ref, err, err_len);
}

int monitor_reference_load(const char *path, struct monitor_reference *ref, char *err,
                           size_t err_len)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);

    memset(ref, 0, sizeof(*ref));
    if (!root) {
        snprintf(err, err_len, "reference '%s': %s (line %d)", path, jerr.text, jerr.line);
        return -1;
    }
    return parse_reference(root, path, ref, err, err_len);
}

void monitor_reference_free(struct monitor_reference *ref)
{
    for (size_t i = 0; i < ref->n_features; i++) {
        free(ref->features[i].name);
        free(ref->features[i].edges);
        free(ref->features[i].counts);
    }
    free(ref->features);
    free(ref->score);
    free(ref->version);
    memset(ref, 0, sizeof(*ref));
}

/*
 * Where the reference of model location `model` (a file path or s3://bucket/key) sits:
 * X.txt -> X.reference.json, and for a sealed model X.txt.enc -> X.reference.json.enc.
 */
static void reference_location(const char *model, char *out, size_t out_len)
{
    size_t len = strlen(model);
    const char *sealed = "";

    if (len > 4 && strcmp(model + len - 4, ".enc") == 0) {
        len -= 4;
        sealed = ".enc";
    }
    if (len > 4 && strncmp(model + len - 4, ".txt", 4) == 0)
        len -= 4;
    snprintf(out, out_len, "%.*s.reference.json%s", (int)len, model, sealed);
}

/* The reference at location, fetched (and unsealed) like the model it belongs to. */
static int fetch_reference(const struct artifact_fetcher *f, const char *location,
                           struct monitor_reference *ref, char *err, size_t err_len)
{
    struct artifact_source src;
    unsigned char *data = NULL;
    size_t len = 0;
    json_error_t jerr;
    json_t *root;
    char why[512];

    memset(ref, 0, sizeof(*ref));
    if (artifact_source_parse(location, &src, why, sizeof(why)) < 0) {
        snprintf(err, err_len, "reference: %.400s", why);
        return -1;
    }
    if (artifact_fetch(f, "reference", &src, &data, &len, err, err_len) < 0)
        return -1;
    root = json_loadb((const char *)data, len, 0, &jerr);
    free(data);
    if (!root) {
        snprintf(err, err_len, "reference '%.300s': %.150s (line %d)", location, jerr.text,
                 jerr.line);
        return -1;
    }
    return parse_reference(root, location, ref, err, err_len);
}

/*
 * The reference beside a model configured for score (reference_location) whose
 * version is the logged model_version: the predictor list's "version" (what replies
 * carry) or the configuration's ("v2").
 */
static int find_reference(const struct run *r, const char *score, const char *version,
                          struct monitor_reference *ref, char *err, size_t err_len)
{
    snprintf(err, err_len, "no reference for %s %s beside a configured model", score, version);
    for (size_t i = 0; ins_score_models[i].score && i < INS_SCORE_MODELS_MAX; i++) {
        const char *model = r->cfg->models[i].model;
        char location[4096];

        if (strcmp(ins_score_models[i].score, score) != 0 || !model || !*model)
            continue;
        reference_location(model, location, sizeof(location));
        if (fetch_reference(&r->fetcher, location, ref, err, err_len) < 0)
            continue;
        if (strcmp(ref->version, version) == 0 || strcmp(ins_score_models[i].version, version) == 0)
            return 0;
        monitor_reference_free(ref);
    }
    return -1;
}

/* ---- results ---- */

static void prom_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f);
        if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void prom_gauge(struct run *r, size_t gauge, const char *feature, int top, double v)
{
    FILE *f = r->prom[gauge];

    if (!f || isnan(v))
        return;
    fprintf(f, "insights_%s{score=\"", gauges[gauge].name);
    prom_escape(f, r->g.score);
    fputs("\",version=\"", f);
    prom_escape(f, r->g.version);
    fputs("\",arm=\"", f);
    prom_escape(f, r->g.arm);
    fprintf(f, "\",shadow=\"%s\"", strcmp(r->g.shadow, "t") == 0 ? "true" : "false");
    if (feature) {
        fputs(",feature=\"", f);
        prom_escape(f, feature);
        fprintf(f, "\",top=\"%s\"", top ? "true" : "false");
    }
    fprintf(f, "} %.17g\n", v);
}

struct result_row {
    const char *metric;
    const char *feature;
    int top;
    int bin; /* -1: none */
    double value, reference, mean_pred;
    long long count; /* -1: none */
};

static void fmt_double(char *buf, size_t len, double v, const char **out)
{
    if (isnan(v)) {
        *out = NULL;
        return;
    }
    snprintf(buf, len, "%.17g", v);
    *out = buf;
}

static int put_row(struct run *r, const struct result_row *row)
{
    static const char sql[] =
        "INSERT INTO monitor_results (run_at, window_start, window_end, score_name,"
        " model_version, arm, shadow, metric, feature, top, bin, value, reference, mean_pred,"
        " count) VALUES ($1, $2, $3, $4, $5, $6, $7::boolean, $8, $9, $10::boolean,"
        " $11::integer, $12::double precision, $13::double precision,"
        " $14::double precision, $15::bigint)";
    char bin[16], value[32], ref[32], pred[32], count[32];
    const char *v[15] = {r->run_at,           r->since,     r->until,
                         r->g.score,          r->g.version, r->g.arm,
                         r->g.shadow,         row->metric,  row->feature ? row->feature : "",
                         row->top ? "t" : "f"};

    snprintf(bin, sizeof(bin), "%d", row->bin);
    snprintf(count, sizeof(count), "%lld", row->count);
    v[10] = row->bin >= 0 ? bin : NULL;
    fmt_double(value, sizeof(value), row->value, &v[11]);
    fmt_double(ref, sizeof(ref), row->reference, &v[12]);
    fmt_double(pred, sizeof(pred), row->mean_pred, &v[13]);
    v[14] = row->count >= 0 ? count : NULL;
    return pg_exec(r->conn, sql, 15, v, r->err, r->err_len);
}

static int put_metric(struct run *r, const char *metric, double value, double reference,
                      long long count)
{
    struct result_row row = {metric, NULL, 0, -1, value, reference, NAN, count};

    return put_row(r, &row);
}

/* ---- inputs ---- */

/* A group's scored predictions in the window ($1..$6); a null score is no prediction here. */
#define GROUP_FILTER                                                                               \
    " p.score_name = $1 AND coalesce(p.model_version, '') = $2 AND p.arm = $3"                     \
    " AND p.shadow = $4::boolean AND p.value IS NOT NULL"                                          \
    " AND p.created_at >= $5::timestamptz AND p.created_at < $6::timestamptz"

static PGresult *group_query(struct run *r, const char *sql, const char *extra)
{
    const char *v[7] = {r->g.score, r->g.version, r->g.arm, r->g.shadow, r->since, r->until, extra};

    return pg_query(r->conn, sql, extra ? 7 : 6, v, r->err, r->err_len);
}

static double cell_double(const PGresult *res, int row, int col)
{
    const char *s;
    char *end;
    double v;

    if (PQgetisnull(res, row, col))
        return NAN;
    s = PQgetvalue(res, row, col);
    if (strcmp(s, "true") == 0)
        return 1;
    if (strcmp(s, "false") == 0)
        return 0;
    errno = 0;
    v = strtod(s, &end);
    return *s && !*end && errno == 0 ? v : NAN;
}

/* PSI of one feature's values (column 0 of res) against its reference bins. */
static double feature_psi(const struct monitor_feature_ref *f, const PGresult *res, long long *n)
{
    size_t k = f->n_edges + 2;
    double *cur = calloc(k, sizeof(double)), psi;

    if (!cur)
        return NAN;
    *n = PQntuples(res);
    for (int i = 0; i < PQntuples(res); i++)
        cur[mon_bin_of(f->edges, f->n_edges, cell_double(res, i, 0))] += 1;
    psi = mon_psi(f->counts, cur, k);
    free(cur);
    return psi;
}

static int put_psi(struct run *r, const struct monitor_feature_ref *f, double psi, long long n)
{
    struct result_row row = {"psi", f->name, f->top, -1, psi, NAN, NAN, n};

    prom_gauge(r, 6, f->name, f->top, psi);
    return put_row(r, &row);
}

static int psi_rows(struct run *r, const struct monitor_reference *ref)
{
    static const char score_sql[] = "SELECT p.value FROM prediction_log p WHERE" GROUP_FILTER;
    /* /api/insights dumps its reply to insights_response_dump, the other APIs to api_... */
    static const char feature_sql[] =
        "SELECT d.v FROM prediction_log p JOIN LATERAL ("
        " SELECT response_dump ->> $7 AS v FROM insights_response_dump"
        "  WHERE request_id = p.request_id UNION ALL"
        " SELECT response_dump ->> $7 FROM api_response_dump WHERE request_id = p.request_id"
        " LIMIT 1) d ON true WHERE" GROUP_FILTER;

    for (size_t i = 0; i < ref->n_features; i++) {
        const struct monitor_feature_ref *f = &ref->features[i];
        PGresult *res =
            i == 0 ? group_query(r, score_sql, NULL) : group_query(r, feature_sql, f->name);
        long long n = 0;
        double psi;

        if (!res)
            return -1;
        psi = feature_psi(f, res, &n);
        PQclear(res);
        if (put_psi(r, f, psi, n) < 0)
            return -1;
    }
    return 0;
}

static int calibration_rows(struct run *r, const double *score, const bool *bad, size_t n)
{
    struct mon_calibration_bin bins[MON_DECILES];
    size_t used = mon_calibration(score, bad, n, bins);

    for (size_t i = 0; i < used; i++) {
        struct result_row row = {"calibration",
                                 NULL,
                                 0,
                                 bins[i].decile,
                                 bins[i].bad_rate,
                                 NAN,
                                 bins[i].mean_pred,
                                 (long long)bins[i].count};

        if (put_row(r, &row) < 0)
            return -1;
    }
    return 0;
}

struct labelled {
    double *score;
    bool *bad;
    size_t n, bads;
};

int monitor_labelled(PGconn *conn, const struct monitor_group *g, const char *since,
                     const char *until, double **score, bool **bad, size_t *n, char *err,
                     size_t err_len)
{
    static const char sql[] =
        /* each outcome's request: its own, else the borrower's latest scored one by as_of */
        "WITH o AS (SELECT o.client_id, o.outcome, coalesce(o.request_id, ("
        "  SELECT q.request_id FROM prediction_log q WHERE q.client_id = o.client_id"
        "  AND q.user_key = o.user_key AND q.as_of <= o.observed_at AND q.value IS NOT NULL"
        "  ORDER BY q.as_of DESC, q.created_at DESC, q.request_id DESC LIMIT 1)) AS request_id"
        " FROM outcomes o)"
        " SELECT p.value, bool_or(o.outcome = 'bad') FROM o"
        " JOIN prediction_log p ON p.request_id = o.request_id AND p.client_id = o.client_id"
        " WHERE" GROUP_FILTER " GROUP BY p.request_id, p.value";
    const char *v[6] = {g->score, g->version, g->arm, g->shadow, since, until};
    PGresult *res = pg_query(conn, sql, 6, v, err, err_len);
    size_t rows;

    if (!res)
        return -1;
    rows = (size_t)PQntuples(res);
    *score = calloc(rows ? rows : 1, sizeof(double));
    *bad = calloc(rows ? rows : 1, sizeof(bool));
    if (!*score || !*bad) {
        PQclear(res);
        snprintf(err, err_len, "out of memory reading %zu outcomes", rows);
        return -1;
    }
    for (size_t i = 0; i < rows; i++) {
        (*score)[i] = cell_double(res, (int)i, 0);
        (*bad)[i] = strcmp(PQgetvalue(res, (int)i, 1), "t") == 0;
    }
    *n = rows;
    PQclear(res);
    return 0;
}

static int read_labelled(struct run *r, struct labelled *l)
{
    struct monitor_group g = {r->g.score, r->g.version, r->g.arm, r->g.shadow};

    if (monitor_labelled(r->conn, &g, r->since, r->until, &l->score, &l->bad, &l->n, r->err,
                         r->err_len) < 0)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        l->bads += l->bad[i];
    return 0;
}

static void print_group(struct run *r, const struct labelled *l, double auc, double ks,
                        const char *ref_problem)
{
    struct json_writer *w = r->w;
    size_t len;
    const char *s;

    json_writer_object_begin(w);
    json_writer_kv_string(w, "score", r->g.score);
    json_writer_kv_string(w, "version", r->g.version);
    json_writer_kv_string(w, "arm", r->g.arm);
    json_writer_kv_bool(w, "shadow", strcmp(r->g.shadow, "t") == 0);
    json_writer_kv_int(w, "volume", r->g.volume);
    json_writer_kv_int(w, "labelled", (long long)l->n);
    json_writer_kv_double(w, "bad_rate", l->n ? (double)l->bads / (double)l->n : NAN);
    json_writer_kv_double(w, "auc", auc);
    json_writer_kv_double(w, "ks", ks);
    if (ref_problem)
        json_writer_kv_string(w, "reference_problem", ref_problem);
    json_writer_object_end(w);
    s = json_writer_data(w, &len);
    fwrite(s, 1, len, stdout);
    fputc('\n', stdout);
    json_writer_reset(w);
}

static int outcome_rows(struct run *r, const struct labelled *l,
                        const struct monitor_reference *ref)
{
    double auc = mon_auc(l->score, l->bad, l->n), ks = mon_ks(l->score, l->bad, l->n);
    double bad_rate = l->n ? (double)l->bads / (double)l->n : NAN;

    prom_gauge(r, 0, NULL, 0, (double)r->g.volume);
    prom_gauge(r, 1, NULL, 0, (double)l->n);
    prom_gauge(r, 2, NULL, 0, bad_rate);
    prom_gauge(r, 3, NULL, 0, auc);
    prom_gauge(r, 4, NULL, 0, ref ? ref->auc : NAN);
    prom_gauge(r, 5, NULL, 0, ks);
    if (put_metric(r, "volume", (double)r->g.volume, NAN, r->g.volume) < 0 ||
        put_metric(r, "labelled", (double)l->n, NAN, (long long)l->n) < 0 ||
        put_metric(r, "bad_rate", bad_rate, NAN, (long long)l->n) < 0 ||
        put_metric(r, "auc", auc, ref ? ref->auc : NAN, (long long)l->n) < 0 ||
        put_metric(r, "ks", ks, ref ? ref->ks : NAN, (long long)l->n) < 0)
        return -1;
    return calibration_rows(r, l->score, l->bad, l->n);
}

static int monitor_group(struct run *r)
{
    struct monitor_reference ref;
    struct labelled l = {0};
    char ref_err[512];
    bool have_ref =
        find_reference(r, r->g.score, r->g.version, &ref, ref_err, sizeof(ref_err)) == 0;
    int rc = read_labelled(r, &l);

    if (rc == 0)
        rc = outcome_rows(r, &l, have_ref ? &ref : NULL);
    if (rc == 0 && have_ref)
        rc = psi_rows(r, &ref);
    if (rc == 0)
        print_group(r, &l, mon_auc(l.score, l.bad, l.n), mon_ks(l.score, l.bad, l.n),
                    have_ref ? NULL : ref_err);
    if (have_ref)
        monitor_reference_free(&ref);
    free(l.score);
    free(l.bad);
    return rc;
}

/* ---- the run ---- */

/* "Nd" (1 to 4 digits, then d): N days before the run, so a schedule (a CronJob's fixed
 * arguments) can ask for a rolling window; NULL for anything else (a timestamp). */
static const char *since_days(const char *since)
{
    size_t n = strspn(since, "0123456789");

    return n >= 1 && n <= 4 && strcmp(since + n, "d") == 0 ? since : NULL;
}

static int begin_run(struct run *r)
{
    const char *days = since_days(r->o->since);
    const char *v[3] = {r->o->until, days ? NULL : r->o->since, days};
    PGresult *res = pg_query(r->conn,
                             "SELECT now(), coalesce($1::timestamptz, now()),"
                             " extract(epoch from now()), coalesce($2::timestamptz,"
                             " now() - rtrim($3, 'd')::integer * interval '1 day')",
                             3, v, r->err, r->err_len);

    if (!res)
        return -1;
    snprintf(r->run_at, sizeof(r->run_at), "%s", PQgetvalue(res, 0, 0));
    snprintf(r->until, sizeof(r->until), "%s", PQgetvalue(res, 0, 1));
    r->run_epoch = strtod(PQgetvalue(res, 0, 2), NULL);
    snprintf(r->since, sizeof(r->since), "%s", PQgetvalue(res, 0, 3));
    PQclear(res);
    return pg_exec(r->conn, "BEGIN", 0, NULL, r->err, r->err_len);
}

static int open_prom(struct run *r)
{
    if (!r->o->prom_path && !r->o->push_url)
        return 0;
    for (size_t i = 0; i < N_GAUGES; i++) {
        r->prom[i] = open_memstream(&r->prom_buf[i], &r->prom_len[i]);
        if (!r->prom[i]) {
            snprintf(r->err, r->err_len, "out of memory for the gauges");
            return -1;
        }
        fprintf(r->prom[i], "# HELP insights_%s %s\n# TYPE insights_%s gauge\n", gauges[i].name,
                gauges[i].help, gauges[i].name);
    }
    return 0;
}

/* Write the gauges to prom_path.tmp then rename, so a scraper never reads half a file. */
static int write_prom_file(struct run *r)
{
    char tmp[4096];
    FILE *f;
    int bad = 0;

    snprintf(tmp, sizeof(tmp), "%s.tmp", r->o->prom_path);
    f = fopen(tmp, "w");
    if (!f) {
        snprintf(r->err, r->err_len, "cannot write '%s': %s", tmp, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < N_GAUGES; i++)
        bad |= fwrite(r->prom_buf[i], 1, r->prom_len[i], f) != r->prom_len[i];
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, r->o->prom_path) != 0) {
        snprintf(r->err, r->err_len, "cannot write '%s': %s", r->o->prom_path, strerror(errno));
        return -1;
    }
    return 0;
}

static size_t discard_reply(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

/*
 * PUT the gauges to a Pushgateway group URL (.../metrics/job/NAME): PUT replaces the whole
 * group, so a model group gone from this run does not linger from an earlier one. The URL
 * is not echoed in the error (it may carry basic-auth credentials).
 */
static int push_gauges(struct run *r)
{
    char *body = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&body, &len);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/plain; version=0.0.4");
    CURL *c = curl_easy_init();
    CURLcode cc = CURLE_OUT_OF_MEMORY;
    long status = 0;

    for (size_t i = 0; m && i < N_GAUGES; i++)
        fwrite(r->prom_buf[i], 1, r->prom_len[i], m);
    if (m && fclose(m) == 0 && h && c) {
        curl_easy_setopt(c, CURLOPT_URL, r->o->push_url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_reply);
        cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(body);
    if (cc != CURLE_OK)
        snprintf(r->err, r->err_len, "pushing the gauges failed: %s", curl_easy_strerror(cc));
    else if (status < 200 || status > 299)
        snprintf(r->err, r->err_len, "pushing the gauges failed: HTTP %ld", status);
    return cc == CURLE_OK && status >= 200 && status <= 299 ? 0 : -1;
}

/* The gauges, once the run is committed: to the text file, then to the Pushgateway. */
static int write_prom(struct run *r)
{
    if (!r->prom[0])
        return 0;
    fprintf(r->prom[N_GAUGES - 1], "insights_%s %.3f\n", gauges[N_GAUGES - 1].name, r->run_epoch);
    for (size_t i = 0; i < N_GAUGES; i++)
        fflush(r->prom[i]);
    if (r->o->prom_path && write_prom_file(r) < 0)
        return -1;
    return r->o->push_url ? push_gauges(r) : 0;
}

static void close_prom(struct run *r)
{
    for (size_t i = 0; i < N_GAUGES; i++) {
        if (r->prom[i])
            fclose(r->prom[i]);
        free(r->prom_buf[i]);
    }
}

static int each_group(struct run *r, int *groups)
{
    static const char sql[] =
        "SELECT score_name, coalesce(model_version, ''), arm, shadow, count(*)"
        " FROM prediction_log WHERE created_at >= $1::timestamptz"
        " AND created_at < $2::timestamptz AND value IS NOT NULL"
        " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
    const char *v[2] = {r->since, r->until};
    PGresult *res = pg_query(r->conn, sql, 2, v, r->err, r->err_len);
    int rc = 0;

    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        r->g = (struct group){PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
                              PQgetvalue(res, i, 3), strtoll(PQgetvalue(res, i, 4), NULL, 10)};
        rc = monitor_group(r);
        *groups = i + 1;
    }
    PQclear(res);
    return rc;
}

/* The daemon's artifact access (AWS_*, ARTIFACT_KEYS, LAUNCH_ENVIRONMENT=prod: sealed only). */
static int open_fetcher(struct run *r)
{
    r->aws = aws_provider_new(&r->cfg->access.aws, "insights-api-monitor");
    if (artifact_fetcher_init(&r->fetcher, &r->cfg->access, r->aws,
                              daemon_is_prod(&r->cfg->service), r->err, r->err_len) < 0)
        return -1;
    r->have_fetcher = true;
    return 0;
}

static void close_fetcher(struct run *r)
{
    if (r->have_fetcher)
        artifact_fetcher_free(&r->fetcher);
    aws_provider_free(r->aws);
}

int monitor_run(PGconn *conn, const struct ins_config *cfg, const struct monitor_opts *o,
                struct json_writer *w, char *err, size_t err_len)
{
    struct run r = {.conn = conn, .cfg = cfg, .o = o, .w = w, .err = err, .err_len = err_len};
    int groups = 0, rc;

    if (!o->since) {
        snprintf(err, err_len, "--since is required");
        return -1;
    }
    rc = open_fetcher(&r);
    if (rc == 0)
        rc = open_prom(&r);
    if (rc == 0)
        rc = begin_run(&r);
    if (rc == 0)
        rc = each_group(&r, &groups);
    if (rc == 0)
        rc = pg_exec(conn, "COMMIT", 0, NULL, err, err_len);
    else if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK")); /* err keeps the first failure */
    if (rc == 0)
        rc = write_prom(&r);
    close_prom(&r);
    close_fetcher(&r);
    return rc < 0 ? -1 : groups;
}
