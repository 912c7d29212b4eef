/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitoring report (see report.h). It reads prediction_log, outcomes (through
 * monitor_labelled, the monitor's join) and monitor_results since DATE, builds four
 * charts as lists of (series, x, y) points, and writes each point once to the CSV and once
 * as an SVG mark (a <rect> bar or a <circle>), so the two cannot disagree. The SVG carries
 * its plot box and axis ranges as data-* attributes: a reader (tests/integration/
 * report_check.py) maps each mark back to values without knowing our layout code.
 */
#include "insights-api/report.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pg.h"
#include "insights-api/monitor.h"
#include "insights-api/monitor_stats.h"

#define MAX_SERIES 32
#define MAX_POINTS 4096
#define ROC_STEPS 20
#define HIST_BINS 10
/* plot box inside each 640 x 320 SVG */
#define BOX_L 60.0
#define BOX_T 20.0
#define BOX_W 560.0
#define BOX_H 250.0

struct series {
    char name[200];
    size_t n;
    double x[MAX_POINTS / MAX_SERIES], y[MAX_POINTS / MAX_SERIES];
};

struct chart {
    const char *id, *title, *xlabel, *ylabel;
    bool bars;
    double xmin, xmax, ymin, ymax;
    size_t n_series;
    struct series s[MAX_SERIES];
};

struct cal_row {
    char series[200];
    struct mon_calibration_bin bin;
};

struct report {
    PGconn *conn;
    const char *since;
    char until[64];
    struct chart dist, roc, psi, cal;
    struct cal_row table[MAX_SERIES * MON_DECILES];
    size_t n_table;
    char *err;
    size_t err_len;
};

static struct series *add_series(struct chart *c, const char *name)
{
    struct series *s;

    if (c->n_series == MAX_SERIES)
        return NULL;
    s = &c->s[c->n_series++];
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->n = 0;
    return s;
}

static void add_point(struct series *s, double x, double y)
{
    if (s && s->n < sizeof(s->x) / sizeof(s->x[0]) && !isnan(x) && !isnan(y)) {
        s->x[s->n] = x;
        s->y[s->n++] = y;
    }
}

/* ---- the numbers ---- */

static int distribution(struct report *r, const struct monitor_group *g, const char *name)
{
    static const char sql[] =
        "SELECT least(floor(value * 10), 9)::int, count(*) FROM prediction_log"
        " WHERE score_name = $1 AND coalesce(model_version, '') = $2 AND arm = $3"
        " AND shadow = $4::boolean AND created_at >= $5::timestamptz"
        " AND created_at < $6::timestamptz"
        " AND value IS NOT NULL GROUP BY 1 ORDER BY 1";
    const char *v[6] = {g->score, g->version, g->arm, g->shadow, r->since, r->until};
    PGresult *res = pg_query(r->conn, sql, 6, v, r->err, r->err_len);
    struct series *s = add_series(&r->dist, name);
    double counts[HIST_BINS] = {0}, total = 0;

    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        long b = strtol(PQgetvalue(res, i, 0), NULL, 10);

        if (b >= 0 && b < HIST_BINS) {
            counts[b] = strtod(PQgetvalue(res, i, 1), NULL);
            total += counts[b];
        }
    }
    PQclear(res);
    for (int b = 0; b < HIST_BINS && total > 0; b++)
        add_point(s, b / (double)HIST_BINS, counts[b] / total);
    return 0;
}

static void roc_points(struct series *s, const double *score, const bool *bad, size_t n)
{
    double pos = 0, neg = 0;

    for (size_t i = 0; i < n; i++) {
        pos += bad[i];
        neg += !bad[i];
    }
    if (pos == 0 || neg == 0)
        return;
    /* one point per threshold t = k / ROC_STEPS: scores >= t predicted bad */
    for (int k = ROC_STEPS; k >= 0; k--) {
        double t = k / (double)ROC_STEPS, tp = 0, fp = 0;

        for (size_t i = 0; i < n; i++) {
            tp += score[i] >= t && bad[i];
            fp += score[i] >= t && !bad[i];
        }
        add_point(s, fp / neg, tp / pos);
    }
}

static int outcomes_charts(struct report *r, const struct monitor_group *g, const char *name)
{
    double *score = NULL;
    bool *bad = NULL;
    size_t n = 0;
    struct mon_calibration_bin bins[MON_DECILES];
    struct series *cal;

    if (monitor_labelled(r->conn, g, r->since, r->until, &score, &bad, &n, r->err, r->err_len) <
        0) {
        free(score);
        free(bad);
        return -1;
    }
    roc_points(add_series(&r->roc, name), score, bad, n);
    cal = add_series(&r->cal, name);
    for (size_t i = 0, used = mon_calibration(score, bad, n, bins); i < used; i++) {
        add_point(cal, bins[i].mean_pred, bins[i].bad_rate);
        if (r->n_table < sizeof(r->table) / sizeof(r->table[0])) {
            snprintf(r->table[r->n_table].series, sizeof(r->table[0].series), "%s", name);
            r->table[r->n_table++].bin = bins[i];
        }
    }
    free(score);
    free(bad);
    return 0;
}

static int psi_over_time(struct report *r, const struct monitor_group *g, const char *name)
{
    static const char sql[] =
        "SELECT extract(epoch from run_at), value FROM monitor_results"
        " WHERE score_name = $1 AND model_version = $2 AND arm = $3 AND shadow = $4::boolean"
        " AND metric = 'psi' AND feature = 'score' AND value IS NOT NULL"
        " AND run_at >= $5::timestamptz ORDER BY run_at";
    const char *v[5] = {g->score, g->version, g->arm, g->shadow, r->since};
    PGresult *res = pg_query(r->conn, sql, 5, v, r->err, r->err_len);
    struct series *s = add_series(&r->psi, name);

    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++)
        add_point(s, strtod(PQgetvalue(res, i, 0), NULL), strtod(PQgetvalue(res, i, 1), NULL));
    PQclear(res);
    return 0;
}

static int collect(struct report *r)
{
    static const char sql[] = "SELECT score_name, coalesce(model_version, ''), arm,"
                              " CASE WHEN shadow THEN 't' ELSE 'f' END, now() FROM prediction_log"
                              " WHERE created_at >= $1::timestamptz AND value IS NOT NULL"
                              " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
    const char *v[1] = {r->since};
    PGresult *res = pg_query(r->conn, sql, 1, v, r->err, r->err_len);
    int rc = 0;

    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res) && i < MAX_SERIES && rc == 0; i++) {
        struct monitor_group g = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                                  PQgetvalue(res, i, 2), PQgetvalue(res, i, 3)};
        char name[200];

        snprintf(r->until, sizeof(r->until), "%s", PQgetvalue(res, i, 4));
        snprintf(name, sizeof(name), "%s %s arm %s%s", g.score, g.version, g.arm,
                 strcmp(g.shadow, "t") == 0 ? " (shadow)" : "");
        rc = distribution(r, &g, name);
        if (rc == 0)
            rc = outcomes_charts(r, &g, name);
        if (rc == 0)
            rc = psi_over_time(r, &g, name);
    }
    PQclear(res);
    return rc;
}

/* ---- the files ---- */

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_csv(FILE *f, const struct chart *const charts[], size_t n)
{
    fputs("chart,series,x,y\n", f);
    for (size_t c = 0; c < n; c++)
        for (size_t i = 0; i < charts[c]->n_series; i++)
            for (size_t k = 0; k < charts[c]->s[i].n; k++) {
                fprintf(f, "%s,", charts[c]->id);
                csv_field(f, charts[c]->s[i].name);
                fprintf(f, ",%.17g,%.17g\n", charts[c]->s[i].x[k], charts[c]->s[i].y[k]);
            }
}

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static const char *const palette[] = {"#1b6ca8", "#d1495b", "#2e933c", "#edae49",
                                      "#6a4c93", "#00798c", "#8d6a9f", "#4d4d4d"};

/* Axis ranges: the fixed ones of the chart, or the data's (PSI over time). */
static void fit_ranges(struct chart *c)
{
    double lo = INFINITY, hi = -INFINITY, ymax = 0.3;

    for (size_t i = 0; i < c->n_series; i++)
        for (size_t k = 0; k < c->s[i].n; k++) {
            lo = fmin(lo, c->s[i].x[k]);
            hi = fmax(hi, c->s[i].x[k]);
            ymax = fmax(ymax, c->s[i].y[k]);
        }
    if (strcmp(c->id, "psi") == 0) {
        c->xmin = isfinite(lo) ? lo - 3600 : 0;
        c->xmax = isfinite(hi) ? hi + 3600 : 1;
        c->ymax = ymax * 1.1;
    }
    if (strcmp(c->id, "score_distribution") == 0)
        c->ymax = fmin(1.0, ymax * 1.1);
}

static double px_x(const struct chart *c, double x)
{
    return BOX_L + (x - c->xmin) / (c->xmax - c->xmin) * BOX_W;
}

static double px_y(const struct chart *c, double y)
{
    return BOX_T + BOX_H - (y - c->ymin) / (c->ymax - c->ymin) * BOX_H;
}

static void svg_marks(FILE *f, const struct chart *c, size_t i)
{
    const struct series *s = &c->s[i];
    const char *color = palette[i % (sizeof(palette) / sizeof(palette[0]))];
    double bar_w = BOX_W / HIST_BINS / (double)(c->n_series ? c->n_series : 1);

    fprintf(f, "<g class=\"series\" data-series=\"");
    html_text(f, s->name);
    fprintf(f, "\" fill=\"%s\">\n", color);
    for (size_t k = 0; k < s->n; k++) {
        if (c->bars)
            fprintf(f,
                    "<rect class=\"mark\" x=\"%.6f\" y=\"%.6f\" width=\"%.6f\" "
                    "height=\"%.6f\"/>\n",
                    px_x(c, s->x[k]) + (double)i * bar_w, px_y(c, s->y[k]), bar_w,
                    BOX_T + BOX_H - px_y(c, s->y[k]));
        else
            fprintf(f, "<circle class=\"mark\" cx=\"%.6f\" cy=\"%.6f\" r=\"3\"/>\n",
                    px_x(c, s->x[k]), px_y(c, s->y[k]));
    }
    fputs("</g>\n", f);
}

static void svg_chart(FILE *f, struct chart *c)
{
    fit_ranges(c);
    fprintf(f, "<h2>%s</h2>\n", c->title);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"320\" "
            "viewBox=\"0 0 640 320\" data-chart=\"%s\" data-box=\"%g %g %g %g\" "
            "data-x=\"%.17g %.17g\" data-y=\"%.17g %.17g\">\n",
            c->id, BOX_L, BOX_T, BOX_W, BOX_H, c->xmin, c->xmax, c->ymin, c->ymax);
    fprintf(f,
            "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" "
            "stroke=\"#999\"/>\n",
            BOX_L, BOX_T, BOX_W, BOX_H);
    fprintf(f, "<text x=\"%g\" y=\"305\" font-size=\"12\">%s (%.4g to %.4g)</text>\n", BOX_L,
            c->xlabel, c->xmin, c->xmax);
    fprintf(f, "<text x=\"4\" y=\"14\" font-size=\"12\">%s (%.4g to %.4g)</text>\n", c->ylabel,
            c->ymin, c->ymax);
    for (size_t i = 0; i < c->n_series; i++)
        svg_marks(f, c, i);
    fputs("</svg>\n<ul class=\"legend\">\n", f);
    for (size_t i = 0; i < c->n_series; i++) {
        fprintf(f, "<li style=\"color:%s\">", palette[i % (sizeof(palette) / sizeof(palette[0]))]);
        html_text(f, c->s[i].name);
        fprintf(f, " (%zu points)</li>\n", c->s[i].n);
    }
    fputs("</ul>\n", f);
}

static void calibration_table(FILE *f, const struct report *r)
{
    fputs("<h2>Calibration by score decile</h2>\n<table>\n<tr><th>series</th><th>decile</th>"
          "<th>scores from</th><th>to</th><th>predictions</th><th>mean score</th>"
          "<th>observed bad rate</th></tr>\n",
          f);
    for (size_t i = 0; i < r->n_table; i++) {
        const struct mon_calibration_bin *b = &r->table[i].bin;

        fputs("<tr><td>", f);
        html_text(f, r->table[i].series);
        fprintf(f,
                "</td><td>%d</td><td>%.4f</td><td>%.4f</td><td>%zu</td><td>%.4f</td>"
                "<td>%.4f</td></tr>\n",
                b->decile + 1, b->lower, b->upper, b->count, b->mean_pred, b->bad_rate);
    }
    fputs("</table>\n", f);
}

static void write_html(FILE *f, struct report *r, struct chart *const charts[], size_t n)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<title>insights-api model report</title>\n<style>body{font-family:sans-serif;"
          "max-width:60em;margin:auto}table{border-collapse:collapse}td,th{border:1px solid "
          "#ccc;padding:2px 6px;text-align:right}</style>\n</head><body>\n"
          "<h1>Model monitoring report</h1>\n<p>Predictions created from ",
          f);
    html_text(f, r->since);
    fputs(" to ", f);
    html_text(f, r->until);
    fputs(". The same numbers are in report.csv (chart, series, x, y).</p>\n", f);
    for (size_t c = 0; c < n; c++)
        svg_chart(f, charts[c]);
    calibration_table(f, r);
    fputs("</body></html>\n", f);
}

/* Write DIR/name through DIR/name.tmp and rename. */
static int write_file(struct report *r, const char *dir, const char *name,
                      struct chart *const charts[], size_t n)
{
    char path[4096], tmp[4200];
    FILE *f;
    int bad;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        snprintf(r->err, r->err_len, "cannot write '%s': %s", tmp, strerror(errno));
        return -1;
    }
    if (strstr(name, ".csv"))
        write_csv(f, (const struct chart *const *)charts, n);
    else
        write_html(f, r, charts, n);
    bad = ferror(f) | fclose(f);
    if (bad || rename(tmp, path) != 0) {
        snprintf(r->err, r->err_len, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static void init_chart(struct chart *c, const char *id, const char *title, const char *xlabel,
                       const char *ylabel, bool bars)
{
    c->id = id;
    c->title = title;
    c->xlabel = xlabel;
    c->ylabel = ylabel;
    c->bars = bars;
    c->xmin = c->ymin = 0;
    c->xmax = c->ymax = 1;
    c->n_series = 0;
}

int report_run(PGconn *conn, const char *since, const char *out_dir, char *err, size_t err_len)
{
    struct report *r = calloc(1, sizeof(*r));
    int rc;

    if (!r) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    r->conn = conn;
    r->since = since;
    r->err = err;
    r->err_len = err_len;
    init_chart(&r->dist, "score_distribution", "Score distribution per arm",
               "score (bin lower edge)", "share of predictions", true);
    init_chart(&r->roc, "roc", "ROC curves", "false positive rate", "true positive rate", false);
    init_chart(&r->psi, "psi", "PSI of the score over time", "monitor run (unix time)", "PSI",
               false);
    init_chart(&r->cal, "calibration", "Calibration by score decile", "mean score",
               "observed bad rate", false);
    rc = collect(r);
    if (rc == 0) {
        struct chart *const charts[] = {&r->dist, &r->roc, &r->psi, &r->cal};

        rc = write_file(r, out_dir, "report.csv", charts, 4);
        if (rc == 0)
            rc = write_file(r, out_dir, "report.html", charts, 4);
    }
    free(r);
    return rc;
}
