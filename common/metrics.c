/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics registry and Prometheus exposition. The request path only does
 * relaxed atomic adds into preallocated slots (routes x statuses, histogram
 * buckets, label slots), so counting costs no lock and no allocation;
 * registration (routes, families, new label values, artifact versions) is
 * rare and takes the registry mutex. Every table has a fixed cap from
 * metrics.h, so a misbehaving caller cannot grow memory through label values.
 */
#include "common/metrics.h"

#include "common/alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATUS_MIN 100
#define STATUS_SLOTS 500 /* 100..599 */
#define NAME_MAX_ 96
#define LABEL_OTHER "other"

static const double http_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define HTTP_NBUCKETS (sizeof(http_buckets) / sizeof(http_buckets[0]))

struct hist {
    size_t nb;
    double bounds[METRICS_MAX_BUCKETS];
    atomic_ullong counts[METRICS_MAX_BUCKETS + 1]; /* last = +Inf */
    atomic_ullong sum_bits;                        /* double, updated by CAS */
};

struct route_stats {
    char name[NAME_MAX_];
    atomic_ullong status[STATUS_SLOTS];
    struct hist latency;
};

struct label_slot {
    char value[NAME_MAX_];
    atomic_ullong count;
};

enum family_kind { FAM_COUNTER, FAM_GAUGE, FAM_HISTOGRAM };

struct family {
    enum family_kind kind;
    char name[NAME_MAX_];
    char help[160];
    char label[32]; /* "" = unlabelled */
    atomic_ullong value;
    atomic_llong gauge;
    atomic_int n_labels;
    struct label_slot labels[METRICS_MAX_LABELS + 1]; /* last = "other" */
    struct hist hist;
};

/* The public handle types are the family itself. */
struct metrics_counter {
    struct family f;
};
struct metrics_gauge {
    struct family f;
};
struct metrics_histogram {
    struct family f;
};

struct artifact_row {
    char name[NAME_MAX_];
    char version[NAME_MAX_];
};

struct metrics {
    char prefix[32];
    pthread_mutex_t lock;
    double start_time;
    atomic_int n_routes; /* slot 0 = "unmatched" */
    struct route_stats routes[METRICS_MAX_ROUTES + 1];
    atomic_llong in_flight;
    struct family *dependency; /* built-in labelled counter */
    atomic_int n_families;
    struct family *families[METRICS_MAX_FAMILIES];
    int n_artifacts;
    struct artifact_row artifacts[METRICS_MAX_ARTIFACTS];
};

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void hist_init(struct hist *h, const double *bounds, size_t n)
{
    if (!bounds || n == 0) {
        bounds = http_buckets;
        n = HTTP_NBUCKETS;
    }
    h->nb = n;
    memcpy(h->bounds, bounds, n * sizeof(double));
}

static void hist_observe(struct hist *h, double v)
{
    size_t i = 0;
    unsigned long long old, new;

    while (i < h->nb && v > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    do {
        double sum;
        memcpy(&sum, &old, sizeof(sum));
        sum += v;
        memcpy(&new, &sum, sizeof(new));
    } while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &old, new, memory_order_relaxed,
                                                    memory_order_relaxed));
}

static struct family *family_new(enum family_kind kind, const char *name, const char *help,
                                 const char *label)
{
    struct family *f = alloc_zeroed(1, sizeof(*f));

    f->kind = kind;
    copy_str(f->name, sizeof(f->name), name);
    copy_str(f->help, sizeof(f->help), help);
    copy_str(f->label, sizeof(f->label), label);
    copy_str(f->labels[METRICS_MAX_LABELS].value, NAME_MAX_, LABEL_OTHER);
    return f;
}

struct metrics *metrics_new(const char *prefix)
{
    struct metrics *m = alloc_zeroed(1, sizeof(*m));
    struct timespec ts;

    copy_str(m->prefix, sizeof(m->prefix), prefix);
    pthread_mutex_init(&m->lock, NULL);
    clock_gettime(CLOCK_REALTIME, &ts);
    m->start_time = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    copy_str(m->routes[0].name, NAME_MAX_, "unmatched");
    hist_init(&m->routes[0].latency, NULL, 0);
    atomic_init(&m->n_routes, 1);
    m->dependency = family_new(FAM_COUNTER, "dependency_errors_total",
                               "Failed calls to a backing service, by dependency", "dependency");
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (int i = 0; i < atomic_load(&m->n_families); i++)
        free(m->families[i]);
    free(m->dependency);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

int metrics_route_id(struct metrics *m, const char *route)
{
    int id = 0;

    if (!m || !route)
        return 0;
    pthread_mutex_lock(&m->lock);
    int n = atomic_load(&m->n_routes);
    for (int i = 1; i < n; i++) {
        if (strcmp(m->routes[i].name, route) == 0) {
            id = i;
            goto out;
        }
    }
    if (n <= METRICS_MAX_ROUTES) {
        copy_str(m->routes[n].name, NAME_MAX_, route);
        hist_init(&m->routes[n].latency, NULL, 0);
        atomic_store(&m->n_routes, n + 1);
        id = n;
    }
out:
    pthread_mutex_unlock(&m->lock);
    return id;
}

void metrics_http_observe(struct metrics *m, int route_id, int status, double seconds)
{
    struct route_stats *r;

    if (!m)
        return;
    if (route_id < 0 || route_id >= atomic_load_explicit(&m->n_routes, memory_order_acquire))
        route_id = 0;
    r = &m->routes[route_id];
    if (status >= STATUS_MIN && status < STATUS_MIN + STATUS_SLOTS)
        atomic_fetch_add_explicit(&r->status[status - STATUS_MIN], 1, memory_order_relaxed);
    hist_observe(&r->latency, seconds);
}

void metrics_in_flight_add(struct metrics *m, long delta)
{
    if (m)
        atomic_fetch_add_explicit(&m->in_flight, delta, memory_order_relaxed);
}

void metrics_artifact_set(struct metrics *m, const char *name, const char *version)
{
    int i;

    if (!m || !name)
        return;
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->n_artifacts; i++)
        if (strcmp(m->artifacts[i].name, name) == 0)
            break;
    if (i < METRICS_MAX_ARTIFACTS) {
        copy_str(m->artifacts[i].name, NAME_MAX_, name);
        copy_str(m->artifacts[i].version, NAME_MAX_, version);
        if (i == m->n_artifacts)
            m->n_artifacts++;
    }
    pthread_mutex_unlock(&m->lock);
}

/* The slot for a label value, registering it if new; "other" when full. */
static struct label_slot *label_slot(pthread_mutex_t *lock, struct family *f, const char *value)
{
    int n = atomic_load_explicit(&f->n_labels, memory_order_acquire);
    struct label_slot *slot = &f->labels[METRICS_MAX_LABELS];

    if (!value)
        value = "";
    for (int i = 0; i < n; i++)
        if (strcmp(f->labels[i].value, value) == 0)
            return &f->labels[i];
    pthread_mutex_lock(lock);
    n = atomic_load(&f->n_labels);
    for (int i = 0; i < n; i++) {
        if (strcmp(f->labels[i].value, value) == 0) {
            slot = &f->labels[i];
            goto out;
        }
    }
    if (n < METRICS_MAX_LABELS) {
        slot = &f->labels[n];
        copy_str(slot->value, NAME_MAX_, value);
        atomic_store_explicit(&f->n_labels, n + 1, memory_order_release);
    }
out:
    pthread_mutex_unlock(lock);
    return slot;
}

void metrics_dependency_error(struct metrics *m, const char *dependency)
{
    if (!m)
        return;
    atomic_fetch_add_explicit(&label_slot(&m->lock, m->dependency, dependency)->count, 1,
                              memory_order_relaxed);
}

static struct family *family_add(struct metrics *m, enum family_kind kind, const char *name,
                                 const char *help, const char *label)
{
    struct family *f = NULL;

    if (!m || !name)
        return NULL;
    pthread_mutex_lock(&m->lock);
    int n = atomic_load(&m->n_families);
    if (n < METRICS_MAX_FAMILIES) {
        f = family_new(kind, name, help, label);
        m->families[n] = f;
        atomic_store(&m->n_families, n + 1);
    }
    pthread_mutex_unlock(&m->lock);
    return f;
}

/*
 * A labelled counter keeps no pointer back to its registry, so the rare
 * insert of a new label value is serialised by one static mutex; counting
 * an existing value takes no lock.
 */
static pthread_mutex_t label_lock = PTHREAD_MUTEX_INITIALIZER;

struct metrics_counter *metrics_counter_new(struct metrics *m, const char *name, const char *help,
                                            const char *label)
{
    return (struct metrics_counter *)family_add(m, FAM_COUNTER, name, help, label);
}

void metrics_counter_add(struct metrics_counter *c, unsigned long long n)
{
    if (c)
        atomic_fetch_add_explicit(&c->f.value, n, memory_order_relaxed);
}

void metrics_counter_add_label(struct metrics_counter *c, const char *label_value,
                               unsigned long long n)
{
    struct label_slot *slot;

    if (!c)
        return;
    slot = label_slot(&label_lock, &c->f, label_value);
    atomic_fetch_add_explicit(&slot->count, n, memory_order_relaxed);
}

struct metrics_gauge *metrics_gauge_new(struct metrics *m, const char *name, const char *help)
{
    return (struct metrics_gauge *)family_add(m, FAM_GAUGE, name, help, NULL);
}

void metrics_gauge_set(struct metrics_gauge *g, long long v)
{
    if (g)
        atomic_store_explicit(&g->f.gauge, v, memory_order_relaxed);
}

void metrics_gauge_add(struct metrics_gauge *g, long long delta)
{
    if (g)
        atomic_fetch_add_explicit(&g->f.gauge, delta, memory_order_relaxed);
}

struct metrics_histogram *metrics_histogram_new(struct metrics *m, const char *name,
                                                const char *help, const double *bounds, size_t n)
{
    struct family *f;

    if (n > METRICS_MAX_BUCKETS)
        return NULL;
    for (size_t i = 1; bounds && i < n; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;
    f = family_add(m, FAM_HISTOGRAM, name, help, NULL);
    if (f)
        hist_init(&f->hist, bounds, n);
    return (struct metrics_histogram *)f;
}

void metrics_histogram_observe(struct metrics_histogram *h, double v)
{
    if (h && isfinite(v))
        hist_observe(&h->f.hist, v);
}

/* ---- exposition ---- */

struct out {
    char *buf;
    size_t len, cap;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < o->cap - o->len)
            break;
        o->cap = o->cap * 2 + (n > 0 ? (size_t)n : 0);
        o->buf = alloc_resize(o->buf, o->cap);
    }
    o->len += (size_t)n;
}

/* Label values escaped per the text format: backslash, quote, newline. */
static const char *esc(const char *s, char *buf, size_t cap)
{
    size_t j = 0;

    for (; *s && j + 2 < cap; s++) {
        if (*s == '\\' || *s == '"') {
            buf[j++] = '\\';
            buf[j++] = *s;
        } else if (*s == '\n') {
            buf[j++] = '\\';
            buf[j++] = 'n';
        } else {
            buf[j++] = *s;
        }
    }
    buf[j] = '\0';
    return buf;
}

static void render_hist(struct out *o, const char *name, const char *labels, const struct hist *h)
{
    unsigned long long cum = 0, bits;
    double sum;
    const char *sep = *labels ? "," : "";

    for (size_t i = 0; i <= h->nb; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        if (i < h->nb)
            out_printf(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, h->bounds[i], cum);
        else
            out_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, cum);
    }
    bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    memcpy(&sum, &bits, sizeof(sum));
    out_printf(o, "%s_sum%s%s%s %.9g\n", name, *labels ? "{" : "", labels, *labels ? "}" : "", sum);
    out_printf(o, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
               cum);
}

static void render_http(struct out *o, struct metrics *m)
{
    const char *p = m->prefix;
    int n = atomic_load_explicit(&m->n_routes, memory_order_acquire);
    char e[2 * NAME_MAX_], labels[3 * NAME_MAX_], name[160];

    out_printf(o, "# HELP %shttp_requests_total HTTP requests by route and status\n", p);
    out_printf(o, "# TYPE %shttp_requests_total counter\n", p);
    for (int r = 0; r < n; r++) {
        for (int s = 0; s < STATUS_SLOTS; s++) {
            unsigned long long c =
                atomic_load_explicit(&m->routes[r].status[s], memory_order_relaxed);
            if (c)
                out_printf(o, "%shttp_requests_total{route=\"%s\",status=\"%d\"} %llu\n", p,
                           esc(m->routes[r].name, e, sizeof(e)), s + STATUS_MIN, c);
        }
    }
    snprintf(name, sizeof(name), "%shttp_request_duration_seconds", p);
    out_printf(o, "# HELP %s HTTP request latency from admission to reply\n", name);
    out_printf(o, "# TYPE %s histogram\n", name);
    for (int r = 0; r < n; r++) {
        snprintf(labels, sizeof(labels), "route=\"%s\"", esc(m->routes[r].name, e, sizeof(e)));
        render_hist(o, name, labels, &m->routes[r].latency);
    }
    out_printf(o, "# HELP %shttp_requests_in_flight Requests admitted and not yet replied\n", p);
    out_printf(o, "# TYPE %shttp_requests_in_flight gauge\n", p);
    out_printf(o, "%shttp_requests_in_flight %lld\n", p,
               (long long)atomic_load_explicit(&m->in_flight, memory_order_relaxed));
}

static void render_labelled(struct out *o, const char *p, const struct family *f)
{
    int n = atomic_load_explicit(&f->n_labels, memory_order_acquire);
    char e[2 * NAME_MAX_];

    for (int i = 0; i <= METRICS_MAX_LABELS; i++) {
        if (i >= n && i < METRICS_MAX_LABELS)
            continue;
        unsigned long long c = atomic_load_explicit(&f->labels[i].count, memory_order_relaxed);
        if (i == METRICS_MAX_LABELS && c == 0)
            continue;
        out_printf(o, "%s%s{%s=\"%s\"} %llu\n", p, f->name, f->label,
                   esc(f->labels[i].value, e, sizeof(e)), c);
    }
}

static void render_family(struct out *o, const char *p, const struct family *f)
{
    static const char *const kinds[] = {"counter", "gauge", "histogram"};
    char name[160];

    out_printf(o, "# HELP %s%s %s\n", p, f->name, f->help);
    out_printf(o, "# TYPE %s%s %s\n", p, f->name, kinds[f->kind]);
    switch (f->kind) {
    case FAM_COUNTER:
        if (f->label[0])
            render_labelled(o, p, f);
        else
            out_printf(o, "%s%s %llu\n", p, f->name,
                       (unsigned long long)atomic_load_explicit(&f->value, memory_order_relaxed));
        return;
    case FAM_GAUGE:
        out_printf(o, "%s%s %lld\n", p, f->name,
                   (long long)atomic_load_explicit(&f->gauge, memory_order_relaxed));
        return;
    case FAM_HISTOGRAM:
        snprintf(name, sizeof(name), "%s%s", p, f->name);
        render_hist(o, name, "", &f->hist);
        return;
    }
}

static void render_artifacts(struct out *o, struct metrics *m)
{
    char e1[2 * NAME_MAX_], e2[2 * NAME_MAX_];

    out_printf(o, "# HELP %sartifact_info Loaded artifact versions\n", m->prefix);
    out_printf(o, "# TYPE %sartifact_info gauge\n", m->prefix);
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < m->n_artifacts; i++)
        out_printf(o, "%sartifact_info{name=\"%s\",version=\"%s\"} 1\n", m->prefix,
                   esc(m->artifacts[i].name, e1, sizeof(e1)),
                   esc(m->artifacts[i].version, e2, sizeof(e2)));
    pthread_mutex_unlock(&m->lock);
}

char *metrics_render(struct metrics *m, size_t *len)
{
    struct out o = {.buf = NULL, .len = 0, .cap = 4096};

    o.buf = alloc_bytes(o.cap);
    o.buf[0] = '\0';
    render_http(&o, m);
    render_artifacts(&o, m);
    render_family(&o, m->prefix, m->dependency);
    int n = atomic_load_explicit(&m->n_families, memory_order_acquire);
    for (int i = 0; i < n; i++)
        render_family(&o, m->prefix, m->families[i]);
    out_printf(&o, "# HELP %sprocess_start_time_seconds Start time since the Unix epoch\n",
               m->prefix);
    out_printf(&o, "# TYPE %sprocess_start_time_seconds gauge\n", m->prefix);
    out_printf(&o, "%sprocess_start_time_seconds %.3f\n", m->prefix, m->start_time);
    if (len)
        *len = o.len;
    return o.buf;
}
