/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The feature catalogue and the driver that runs the families: the place
 * where the declarative list (catalogue/features.tsv) meets the code that
 * computes it, and where the null rules for failed, empty and unrequested
 * sources are applied once for every family instead of in each of them.
 * The SMS pre-pass here classifies every record and places it in its windows
 * once, so the families only accumulate.
 */
#include "insights-api/features.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ist_date.h"
#include "insights-api/features_impl.h"

#define FE_MAX_FEATURES 20000
#define FE_NAME_MAX 96

const int fe_win_days[FE_NWIN] = {7, 30, 60, 90, 180};
const char *const fe_win_names[FE_NWIN] = {"c7", "c30", "c60", "c90", "c180"};
const char *const fe_channel_names[FE_CH_COUNT] = {
    "other", "upi", "imps", "neft", "rtgs", "card", "atm", "netbanking", "cheque", "nach", "wallet",
};
const char *const fe_sender_names[FE_S_COUNT] = {
    "unknown", "bank",      "nbfc",       "lender",    "bnpl",   "credit_card", "wallet",
    "telco",   "ecommerce", "investment", "insurance", "gaming", "other",
};

static const struct fe_family *const families[] = {
    &fe_family_meta,   &fe_family_sms,           &fe_family_txn,         &fe_family_merchant,
    &fe_family_salary, &fe_family_obligations,   &fe_family_delinquency, &fe_family_balance,
    &fe_family_cards,  &fe_family_affordability, &fe_family_apps,        &fe_family_fraud,
    &fe_family_device,
};
#define FE_NFAMILIES (sizeof(families) / sizeof(families[0]))

/* One computed feature as the code declares it. */
struct fe_decl {
    char name[FE_NAME_MAX];
    enum features_group group;
    enum features_type type;
};

struct features_catalogue {
    struct features_entry *entries;
    size_t n;
    char *text; /* the TSV, its fields cut in place */
    char version[64];
    /* name -> catalogue index (open addressing) */
    int *hash;
    size_t hash_cap;
    /* registry (code order) */
    size_t reg_n;
    int *reg_slot; /* registry index -> catalogue index */
    size_t fam_base[FE_NFAMILIES], fam_count[FE_NFAMILIES];
    size_t n_strings;
    struct fe_params params;
};

/* The catalogue's "# param: <name> <value>" lines: tunable constants of definitions. */
static const struct {
    const char *name;
    size_t offset;
    double def, min, max;
} param_rows[] = {
    {"balance_floor_inr", offsetof(struct fe_params, balance_floor_inr), 1000, 0, 1e9},
};

struct fe_out {
    bool declare;
    enum features_group group;
    /* declare mode */
    struct fe_decl *decl;
    size_t decl_n, decl_cap;
    bool overflow;
    /* compute mode */
    const struct features_catalogue *c;
    struct feature_vector *v;
    size_t pos; /* registry index of the next emit */
};

struct vec_priv {
    char *store;   /* FEATURES_STRING_MAX + 1 bytes per string feature */
    int *str_slot; /* catalogue index -> store slot, -1 for non-strings */
    struct fe_sms *sms;
    size_t sms_cap;
    struct sms_fact *kept; /* the SMS left after leakage control, when any was left out */
    size_t kept_cap;
    struct fe_instrument inst[FE_MAX_INSTRUMENTS];
};

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    if (!err || !err_len)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "features: out of memory\n");
        abort();
    }
    return p;
}

/* ---- emitting ---- */

static void emit(struct fe_out *o, enum features_type type, double v, const char *s,
                 const char *fmt, va_list ap)
{
    if (o->declare) {
        if (o->decl_n == o->decl_cap) {
            size_t cap = o->decl_cap ? o->decl_cap * 2 : 512;
            struct fe_decl *d = realloc(o->decl, cap * sizeof(*d));
            if (!d)
                abort();
            o->decl = d;
            o->decl_cap = cap;
        }
        struct fe_decl *d = &o->decl[o->decl_n++];
        if (vsnprintf(d->name, sizeof(d->name), fmt, ap) >= (int)sizeof(d->name))
            o->overflow = true;
        d->group = o->group;
        d->type = type;
        return;
    }
    int idx = o->c->reg_slot[o->pos++];
    struct vec_priv *p = o->v->priv;
    if (type != FEATURES_TYPE_STRING) {
        o->v->values[idx] = v;
        return;
    }
    o->v->values[idx] = NAN;
    o->v->strings[idx] = NULL;
    if (!s)
        return;
    char *dst = p->store + (size_t)p->str_slot[idx] * (FEATURES_STRING_MAX + 1);
    size_t len = strlen(s);
    if (len > FEATURES_STRING_MAX) {
        len = FEATURES_STRING_MAX;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--; /* do not cut a UTF-8 sequence */
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    o->v->strings[idx] = dst;
}

void fe_num(struct fe_out *o, double v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(o, FEATURES_TYPE_NUMBER, v, NULL, fmt, ap);
    va_end(ap);
}

void fe_bool(struct fe_out *o, double v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(o, FEATURES_TYPE_BOOL, isnan(v) ? NAN : (v != 0 ? 1.0 : 0.0), NULL, fmt, ap);
    va_end(ap);
}

void fe_str(struct fe_out *o, const char *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(o, FEATURES_TYPE_STRING, NAN, s, fmt, ap);
    va_end(ap);
}

void fe_set_group(struct fe_out *o, enum features_group g)
{
    o->group = g;
}

/* ---- helpers for families ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double fe_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char lower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Word by word (one pass, no call per position): this runs on every debit's party. */
bool fe_has_word(const char *s, const char *word)
{
    size_t wl = strlen(word);
    if (!s || !wl)
        return false;
    for (const char *p = s; *p;) {
        while (*p && !is_word_char(*p))
            p++;
        const char *w = p;
        while (is_word_char(*p))
            p++;
        if ((size_t)(p - w) != wl)
            continue;
        size_t k = 0;
        while (k < wl && lower_ascii(w[k]) == lower_ascii(word[k]))
            k++;
        if (k == wl)
            return true;
    }
    return false;
}

double fe_days_since(const struct fe_ctx *ctx, int64_t ts)
{
    if (ts <= 0 || ts > ctx->now)
        return NAN;
    return floor((double)(ctx->now - ts) / 86400.0);
}

/* ---- declaring the registry ---- */

static const struct user_data empty_user = {
    .sms_state = SOURCE_OK, .apps_state = SOURCE_OK, .device_state = SOURCE_OK};

static int declare_all(struct features_catalogue *c, struct fe_out *o, char *err, size_t err_len)
{
    struct fe_shared shared = {NAN, NAN, NAN, false, {0}, 0};
    struct fe_ctx ctx = {.u = &empty_user,
                         .params = &c->params,
                         .shared = &shared,
                         .now = 86400 * 365,
                         .first_day = INT32_MAX,
                         .mask = FEATURES_GROUP_ALL};
    memset(o, 0, sizeof(*o));
    o->declare = true;
    for (size_t f = 0; f < FE_NFAMILIES; f++) {
        c->fam_base[f] = o->decl_n;
        o->group = families[f]->group;
        families[f]->run(&ctx, o);
        c->fam_count[f] = o->decl_n - c->fam_base[f];
    }
    if (o->overflow || o->decl_n > FE_MAX_FEATURES) {
        set_err(err, err_len, "features: a computed name is longer than %d bytes", FE_NAME_MAX - 1);
        return -1;
    }
    c->reg_n = o->decl_n;
    return 0;
}

size_t fe_declared(void (*cb)(const char *name, enum features_group group, enum features_type type,
                              void *arg),
                   void *arg)
{
    struct features_catalogue c;
    struct fe_out o;
    memset(&c, 0, sizeof(c));
    if (declare_all(&c, &o, NULL, 0) < 0) {
        free(o.decl);
        return 0;
    }
    for (size_t i = 0; i < o.decl_n; i++)
        cb(o.decl[i].name, o.decl[i].group, o.decl[i].type, arg);
    free(o.decl);
    return o.decl_n;
}

/* ---- the catalogue ---- */

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int hash_find(const struct features_catalogue *c, const char *name)
{
    size_t mask = c->hash_cap - 1, i = hash_name(name) & mask;
    while (c->hash[i] >= 0) {
        if (strcmp(c->entries[c->hash[i]].name, name) == 0)
            return c->hash[i];
        i = (i + 1) & mask;
    }
    return -1;
}

/* Inserts entry idx; returns false when the name is already there. */
static bool hash_insert(struct features_catalogue *c, int idx)
{
    size_t mask = c->hash_cap - 1, i = hash_name(c->entries[idx].name) & mask;
    while (c->hash[i] >= 0) {
        if (strcmp(c->entries[c->hash[i]].name, c->entries[idx].name) == 0)
            return false;
        i = (i + 1) & mask;
    }
    c->hash[i] = idx;
    return true;
}

static int parse_group(const char *s, enum features_group *g)
{
    static const enum features_group all[] = {FEATURES_GROUP_SMS, FEATURES_GROUP_EXTRACTED_SMS,
                                              FEATURES_GROUP_FRAUD, FEATURES_GROUP_APPS,
                                              FEATURES_GROUP_DEVICE};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(s, features_group_name(all[i])) == 0) {
            *g = all[i];
            return 0;
        }
    return -1;
}

static const char *type_name(enum features_type t)
{
    return t == FEATURES_TYPE_BOOL ? "bool" : t == FEATURES_TYPE_STRING ? "string" : "number";
}

static int parse_type(const char *s, enum features_type *t)
{
    for (int i = 0; i <= FEATURES_TYPE_STRING; i++)
        if (strcmp(s, type_name((enum features_type)i)) == 0) {
            *t = (enum features_type)i;
            return 0;
        }
    return -1;
}

/* Cut line into exactly n tab-separated fields. */
static int split_tabs(char *line, char **f, int n)
{
    int k = 0;
    f[k++] = line;
    for (char *p = line; *p; p++)
        if (*p == '\t') {
            if (k == n)
                return -1;
            *p = '\0';
            f[k++] = p + 1;
        }
    return k == n ? 0 : -1;
}

static int parse_row(struct features_catalogue *c, char *line, size_t lineno, char *err,
                     size_t err_len)
{
    char *f[5];
    struct features_entry *e = &c->entries[c->n];
    if (split_tabs(line, f, 5) < 0 || !*f[0] || !*f[3] || !*f[4]) {
        set_err(err, err_len, "catalogue line %zu: expected 5 tab-separated non-empty fields",
                lineno);
        return -1;
    }
    e->name = f[0];
    e->window = f[3];
    e->definition = f[4];
    if (parse_group(f[1], &e->group) < 0 || parse_type(f[2], &e->type) < 0) {
        set_err(err, err_len, "catalogue line %zu: feature '%s': bad group '%s' or type '%s'",
                lineno, f[0], f[1], f[2]);
        return -1;
    }
    if (!hash_insert(c, (int)c->n)) {
        set_err(err, err_len, "catalogue line %zu: feature '%s' is listed twice", lineno, f[0]);
        return -1;
    }
    c->n++;
    return 0;
}

/* " balance_floor_inr 1000": a known name and a number in its range. */
static int parse_param(struct features_catalogue *c, const char *p, size_t lineno, char *err,
                       size_t err_len)
{
    char name[64];
    size_t n = 0;
    while (*p == ' ')
        p++;
    while (p[n] && p[n] != ' ' && n + 1 < sizeof(name)) {
        name[n] = p[n];
        n++;
    }
    name[n] = '\0';
    const char *value = p + n;
    for (size_t i = 0; n && i < sizeof(param_rows) / sizeof(param_rows[0]); i++) {
        if (strcmp(name, param_rows[i].name) != 0)
            continue;
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        while (*end == ' ')
            end++;
        if (errno || end == value || *end || !(v >= param_rows[i].min) ||
            !(v <= param_rows[i].max)) {
            set_err(err, err_len, "catalogue line %zu: param %s: expected a number in [%g, %g]",
                    lineno, name, param_rows[i].min, param_rows[i].max);
            return -1;
        }
        *(double *)((char *)&c->params + param_rows[i].offset) = v;
        return 0;
    }
    set_err(err, err_len, "catalogue line %zu: unknown param (known: balance_floor_inr)", lineno);
    return -1;
}

static int parse_text(struct features_catalogue *c, char *err, size_t err_len)
{
    size_t lines = 1, lineno = 0;
    bool header = false;
    for (char *p = c->text; *p; p++)
        lines += *p == '\n';
    if (lines > FE_MAX_FEATURES) {
        set_err(err, err_len, "catalogue: more than %d lines", FE_MAX_FEATURES);
        return -1;
    }
    c->entries = xcalloc(lines, sizeof(*c->entries));
    c->hash_cap = 64;
    while (c->hash_cap < lines * 2)
        c->hash_cap <<= 1;
    c->hash = xcalloc(c->hash_cap, sizeof(int));
    memset(c->hash, 0xff, c->hash_cap * sizeof(int));
    for (char *line = c->text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (l == 0)
            continue;
        if (line[0] == '#') {
            if (strncmp(line, "# version:", 10) == 0) {
                const char *v = line + 10;
                while (*v == ' ')
                    v++;
                snprintf(c->version, sizeof(c->version), "%s", v);
            } else if (strncmp(line, "# param:", 8) == 0 &&
                       parse_param(c, line + 8, lineno, err, err_len) < 0) {
                return -1;
            }
            continue;
        }
        if (!header) {
            if (strcmp(line, "name\tgroup\ttype\twindow\tdefinition") != 0) {
                set_err(err, err_len,
                        "catalogue line %zu: expected the header name<TAB>group<TAB>type<TAB>"
                        "window<TAB>definition",
                        lineno);
                return -1;
            }
            header = true;
            continue;
        }
        if (parse_row(c, line, lineno, err, err_len) < 0)
            return -1;
    }
    if (!header) {
        set_err(err, err_len, "catalogue: no header line");
        return -1;
    }
    return 0;
}

/* Both directions: every declared name has a row (same group and type) and vice versa. */
static int match_registry(struct features_catalogue *c, const struct fe_out *o, char *err,
                          size_t err_len)
{
    bool *used = xcalloc(c->n, sizeof(bool));
    int rc = -1;
    c->reg_slot = xcalloc(c->reg_n, sizeof(int));
    for (size_t r = 0; r < c->reg_n; r++) {
        const struct fe_decl *d = &o->decl[r];
        int i = hash_find(c, d->name);
        if (i < 0) {
            set_err(err, err_len, "computed feature '%s' is not in the catalogue", d->name);
            goto out;
        }
        if (used[i]) {
            set_err(err, err_len, "feature '%s' is computed twice", d->name);
            goto out;
        }
        if (c->entries[i].type != d->type || c->entries[i].group != d->group) {
            set_err(err, err_len, "feature '%s': %s/%s in the catalogue, %s/%s in the code",
                    d->name, features_group_name(c->entries[i].group),
                    type_name(c->entries[i].type), features_group_name(d->group),
                    type_name(d->type));
            goto out;
        }
        used[i] = true;
        c->reg_slot[r] = i;
    }
    for (size_t i = 0; i < c->n; i++)
        if (!used[i]) {
            set_err(err, err_len, "feature '%s' has no computing function", c->entries[i].name);
            goto out;
        }
    rc = 0;
out:
    free(used);
    return rc;
}

int features_catalogue_load(const char *bytes, size_t len, struct features_catalogue **out,
                            char *err, size_t err_len)
{
    struct features_catalogue *c = xcalloc(1, sizeof(*c));
    struct fe_out o;
    int rc = -1;
    *out = NULL;
    memset(&o, 0, sizeof(o));
    if (memchr(bytes, '\0', len)) {
        set_err(err, err_len, "catalogue: contains a NUL byte");
        goto out;
    }
    c->text = xcalloc(len + 1, 1);
    memcpy(c->text, bytes, len);
    for (size_t i = 0; i < sizeof(param_rows) / sizeof(param_rows[0]); i++)
        *(double *)((char *)&c->params + param_rows[i].offset) = param_rows[i].def;
    if (parse_text(c, err, err_len) < 0 || declare_all(c, &o, err, err_len) < 0 ||
        match_registry(c, &o, err, err_len) < 0)
        goto out;
    for (size_t i = 0; i < c->n; i++)
        c->n_strings += c->entries[i].type == FEATURES_TYPE_STRING;
    *out = c;
    c = NULL;
    rc = 0;
out:
    free(o.decl);
    features_catalogue_free(c);
    return rc;
}

int features_catalogue_load_file(const char *path, struct features_catalogue **out, char *err,
                                 size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, r;
    int rc = -1;
    *out = NULL;
    if (!f) {
        set_err(err, err_len, "open '%s': %s", path, strerror(errno));
        return -1;
    }
    do {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 262144;
            char *p = realloc(buf, cap);
            if (!p)
                abort();
            buf = p;
        }
        r = fread(buf + len, 1, cap - len, f);
        len += r;
    } while (r > 0 && len < 64u << 20);
    if (ferror(f))
        set_err(err, err_len, "read '%s': %s", path, strerror(errno));
    else
        rc = features_catalogue_load(buf, len, out, err, err_len);
    free(buf);
    fclose(f);
    return rc;
}

void features_catalogue_free(struct features_catalogue *c)
{
    if (!c)
        return;
    free(c->entries);
    free(c->text);
    free(c->hash);
    free(c->reg_slot);
    free(c);
}

size_t features_count(const struct features_catalogue *c)
{
    return c ? c->n : 0;
}

const struct features_entry *features_entry(const struct features_catalogue *c, size_t i)
{
    return c && i < c->n ? &c->entries[i] : NULL;
}

int features_index(const struct features_catalogue *c, const char *name)
{
    return c && name ? hash_find(c, name) : -1;
}

const char *features_catalogue_version(const struct features_catalogue *c)
{
    return c ? c->version : "";
}

/* ---- the vector ---- */

int features_vector_init(struct feature_vector *v, const struct features_catalogue *c)
{
    struct vec_priv *p;
    size_t k = 0;
    memset(v, 0, sizeof(*v));
    p = calloc(1, sizeof(*p));
    v->values = calloc(c->n ? c->n : 1, sizeof(double));
    v->strings = calloc(c->n ? c->n : 1, sizeof(char *));
    if (p) {
        p->str_slot = calloc(c->n ? c->n : 1, sizeof(int));
        p->store = calloc(c->n_strings ? c->n_strings : 1, FEATURES_STRING_MAX + 1);
    }
    v->priv = p;
    if (!p || !v->values || !v->strings || !p->str_slot || !p->store) {
        features_vector_free(v);
        return -1;
    }
    for (size_t i = 0; i < c->n; i++) {
        p->str_slot[i] = c->entries[i].type == FEATURES_TYPE_STRING ? (int)k++ : -1;
        v->values[i] = NAN;
    }
    v->count = c->n;
    return 0;
}

void features_vector_free(struct feature_vector *v)
{
    struct vec_priv *p = v ? v->priv : NULL;
    if (!v)
        return;
    if (p) {
        free(p->store);
        free(p->str_slot);
        free(p->sms);
        free(p->kept);
        free(p);
    }
    free(v->values);
    free(v->strings);
    memset(v, 0, sizeof(*v));
}

/* ---- the SMS pre-pass ---- */

static int month_index_of_day(int64_t day, int *mday)
{
    int y, m, d;
    ist_civil_date(day, &y, &m, &d);
    if (mday)
        *mday = d;
    return y * 12 + (m - 1);
}

static enum fe_kind kind_of(const char *t)
{
    static const struct {
        const char *name;
        enum fe_kind kind;
    } exact[] = {
        {"otp", FE_K_OTP},
        {"promotion", FE_K_PROMO},
        {"salary_credit", FE_K_SALARY},
        {"card_credit_executed", FE_K_CARD_PAYMENT},
        {"refund_reversal", FE_K_REFUND},
        {"transaction_declined", FE_K_DECLINED},
        {"balance_update", FE_K_BALANCE},
        {"statement_generated", FE_K_STATEMENT},
        {"bill_due", FE_K_BILL_DUE},
        {"future_debit", FE_K_FUTURE_DEBIT},
        {"pending_credit", FE_K_PENDING_CREDIT},
        {"upi_collect_request", FE_K_COLLECT},
        {"mandate_setup", FE_K_MANDATE},
        {"bounce_return", FE_K_BOUNCE_RETURN},
        {"bounce_charge", FE_K_BOUNCE_CHARGE},
        {"penalty_charge", FE_K_PENALTY},
        {"loan_application", FE_K_LOAN_APPLICATION},
        {"loan_approval", FE_K_LOAN_APPROVAL},
        {"loan_rejection", FE_K_LOAN_REJECTION},
        {"loan_disbursal", FE_K_LOAN_DISBURSAL},
        {"card_limit_change", FE_K_CARD_LIMIT},
    };
    size_t l;
    if (!t)
        return FE_K_OTHER;
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(t, exact[i].name) == 0)
            return exact[i].kind;
    l = strlen(t);
    if (l > 9 && strcmp(t + l - 9, "_executed") == 0)
        return FE_K_EXECUTED;
    return FE_K_OTHER;
}

static enum fe_channel channel_of(const char *c)
{
    if (!c)
        return FE_CH_OTHER;
    for (int i = 1; i < FE_CH_COUNT; i++)
        if (strcmp(c, fe_channel_names[i]) == 0)
            return (enum fe_channel)i;
    if (strcmp(c, "ecs") == 0 || strcmp(c, "ach") == 0 || strcmp(c, "auto_debit") == 0)
        return FE_CH_NACH;
    if (strcmp(c, "pos") == 0 || strcmp(c, "debit_card") == 0 || strcmp(c, "credit_card") == 0)
        return FE_CH_CARD;
    return FE_CH_OTHER;
}

static bool starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool eq(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/*
 * The rail of an SMS: the one its text names, else the one its kind implies
 * (docs/features.md, "Channels"): an ATM withdrawal is atm even when the text
 * says "card"; an EMI or mandate debit is nach; a UPI-typed record or a
 * counter-party that is a VPA is upi; a card- or wallet-typed one card or wallet.
 */
static enum fe_channel derive_channel(const struct sms_fact *f)
{
    const char *sub = f->sms_sub_type;
    enum fe_channel ch = channel_of(f->channel);
    if (eq(sub, "atm_withdrawal"))
        return FE_CH_ATM;
    if (ch != FE_CH_OTHER)
        return ch;
    if (eq(sub, "emi") || eq(sub, "mandate_failed"))
        return FE_CH_NACH;
    if (starts_with(f->sms_type, "upi_") ||
        (f->transaction_party && strchr(f->transaction_party, '@')))
        return FE_CH_UPI;
    if (starts_with(f->sms_type, "card_"))
        return FE_CH_CARD;
    if (starts_with(f->sms_type, "wallet_"))
        return FE_CH_WALLET;
    return FE_CH_OTHER;
}

static enum fe_sender sender_of(const char *type)
{
    static const struct {
        const char *name;
        enum fe_sender s;
    } map[] = {
        {"bank", FE_S_BANK},
        {"nbfc", FE_S_NBFC},
        {"lender", FE_S_LENDER},
        {"bnpl", FE_S_BNPL},
        {"credit_card", FE_S_CREDIT_CARD},
        {"wallet", FE_S_WALLET},
        {"payment_app", FE_S_WALLET},
        {"telco", FE_S_TELCO},
        {"ecommerce", FE_S_ECOMMERCE},
        {"broker", FE_S_INVESTMENT},
        {"mutual_fund", FE_S_INVESTMENT},
        {"insurance", FE_S_INSURANCE},
        {"gaming", FE_S_GAMING},
    };
    if (!type || !*type)
        return FE_S_UNKNOWN;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(type, map[i].name) == 0)
            return map[i].s;
    return FE_S_OTHER;
}

static bool same_str(const char *a, const char *b)
{
    return a && b && *a && strcmp(a, b) == 0;
}

/*
 * A bank often sends the same transaction twice (an alert and a UPI app
 * notice, or a resend): the same direction and amount within 10 minutes with
 * the same reference, or without references on the same account and type
 * within 2 minutes. Only the first is counted.
 */
static bool is_duplicate(const struct sms_fact *sms, const struct fe_sms *s, size_t i)
{
    const struct sms_fact *a = &sms[i];
    for (size_t j = i; j-- > 0;) {
        const struct sms_fact *b = &sms[j];
        if (a->ts - b->ts > 600)
            break;
        if (!s[j].txn || b->direction != a->direction || fabs(b->amount - a->amount) > 0.005)
            continue;
        bool ra = a->reference_no && *a->reference_no, rb = b->reference_no && *b->reference_no;
        if (ra && rb) {
            if (strcmp(a->reference_no, b->reference_no) == 0)
                return true;
            continue;
        }
        if (a->ts - b->ts <= 120 && same_str(a->account_last_digits, b->account_last_digits) &&
            same_str(a->sms_type, b->sms_type))
            return true;
    }
    return false;
}

/*
 * About a credit card: the issuer sent it, it states a limit, it is a card
 * bill paid or a limit change, or it is a statement or bill with a minimum
 * due (only cards have one).
 */
static bool about_credit_card(const struct sms_fact *f, const struct fe_sms *s)
{
    bool bill = s->kind == FE_K_STATEMENT || s->kind == FE_K_BILL_DUE;
    return s->sender == FE_S_CREDIT_CARD || isfinite(f->credit_limit) ||
           isfinite(f->available_limit) || s->kind == FE_K_CARD_PAYMENT ||
           s->kind == FE_K_CARD_LIMIT || (bill && isfinite(f->min_due)) ||
           (s->kind == FE_K_STATEMENT && isfinite(f->due_amount));
}

static void prepare_one(const struct fe_ctx *ctx, struct fe_sms *all, size_t i)
{
    const struct sms_fact *f = &ctx->sms[i];
    struct fe_sms *s = &all[i];
    int mday = 0;
    int64_t day = ist_day(f->ts);
    memset(s, 0, sizeof(*s));
    s->inst = -1;
    s->day = (int32_t)day;
    s->age_days = (double)(ctx->now - f->ts) / 86400.0;
    s->kind = (unsigned char)kind_of(f->sms_type);
    s->channel = (unsigned char)derive_channel(f);
    s->sender = (unsigned char)sender_of(f->sender_type);
    if (s->sender == FE_S_UNKNOWN && f->sender) {
        const struct maps_sender *ms = maps_sender_lookup(ctx->maps, f->sender);
        if (ms)
            s->sender = (unsigned char)sender_of(ms->type);
    }
    s->credit_card = about_credit_card(f, s);
    int mi = month_index_of_day(day, &mday);
    s->mday = (unsigned char)mday;
    if (f->ts <= ctx->now) {
        for (int w = 0; w < FE_NWIN; w++)
            if (ctx->now - f->ts < (int64_t)fe_win_days[w] * 86400)
                s->win |= (unsigned char)(1u << w);
        int k = ctx->month_index - mi;
        s->month = (signed char)(k >= 0 && k < FE_NMONTH ? k : -1);
    } else {
        s->month = -1;
    }
    s->txn = f->is_transactional && f->direction != SMS_DIRECTION_NONE && f->amount > 0 &&
             isfinite(f->amount);
    /* once per SMS: EMI, SIP and spend rules all ask */
    if (f->transaction_party && (s->txn || s->kind == FE_K_BOUNCE_RETURN ||
                                 s->kind == FE_K_MANDATE || s->kind == FE_K_FUTURE_DEBIT))
        s->cat = maps_merchant_category(ctx->maps, f->transaction_party);
    if (s->txn && is_duplicate(ctx->sms, all, i)) {
        s->dup = true;
        s->txn = false;
    }
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = need + need / 2 + 64;
    void *q = realloc(p, c * size);
    if (!q) {
        fprintf(stderr, "features: out of memory\n");
        abort();
    }
    *cap = c;
    return q;
}

/*
 * Leakage control: the SMS the features read are the user's, without those
 * from the client's own sender headers (client_exclusions.json). The common
 * case, a client with no list, reads u->sms in place.
 */
static bool own_header(const struct fe_ctx *ctx, const char *const *own, size_t n_own,
                       const char *sender)
{
    if (!sender)
        return false;
    for (size_t k = 0; k < n_own; k++)
        if (strcasecmp(sender, own[k]) == 0)
            return true;
    /* a source that passed the header as the phone shows it ("JM-KSHVIC-S") */
    return strchr(sender, '-') && maps_client_has(ctx->maps, false, ctx->u->client_id, sender);
}

static const struct sms_fact *kept_sms(const struct fe_ctx *ctx, struct vec_priv *p, size_t *n)
{
    const struct user_data *u = ctx->u;
    size_t n_own, k = 0, first = *n;
    const char *const *own = maps_client_headers(ctx->maps, u->client_id, &n_own);
    for (size_t i = 0; n_own && i < *n && first == *n; i++)
        if (own_header(ctx, own, n_own, u->sms[i].sender))
            first = i;
    if (first == *n)
        return u->sms; /* nothing of the client's own: read in place */
    p->kept = grow(p->kept, &p->kept_cap, *n, sizeof(*p->kept));
    for (size_t i = 0; i < *n; i++)
        if (i < first || !own_header(ctx, own, n_own, u->sms[i].sender))
            p->kept[k++] = u->sms[i];
    *n = k;
    return p->kept;
}

static void prepare(struct fe_ctx *ctx, struct vec_priv *p)
{
    const struct user_data *u = ctx->u;
    int64_t today = ist_day(u->now);
    ctx->now = u->now;
    ctx->today = (int32_t)today;
    ctx->month_index = month_index_of_day(today, NULL);
    ctx->n = u->sms_state == SOURCE_OK ? u->sms_count : 0;
    ctx->sms = ctx->n ? kept_sms(ctx, p, &ctx->n) : u->sms;
    ctx->first_day = INT32_MAX;
    p->sms = grow(p->sms, &p->sms_cap, ctx->n, sizeof(*p->sms));
    for (size_t i = 0; i < ctx->n; i++) {
        prepare_one(ctx, p->sms, i);
        if (ctx->sms[i].ts <= ctx->now && p->sms[i].day < ctx->first_day)
            ctx->first_day = p->sms[i].day;
    }
    ctx->s = p->sms;
    ctx->inst = p->inst;
    ctx->n_inst = fe_instruments_build(ctx, p->sms, p->inst);
    fe_mark_transfers(ctx, p->sms);
}

/* Days since 1970-01-01 of a civil date (the inverse of civil_from_days). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int32_t fe_civil_day(int y, int m, int d)
{
    return (int32_t)days_from_civil(y, m, d);
}

void fe_civil_date(int32_t day, int *y, int *m, int *d)
{
    ist_civil_date(day, y, m, d);
}

int fe_days_in_month(int y, int m)
{
    return m == 12 ? 31 : (int)(days_from_civil(y, m + 1, 1) - days_from_civil(y, m, 1));
}

int32_t fe_month_first_day(const struct fe_ctx *ctx, int m)
{
    int mi = ctx->month_index - m;
    return (int32_t)days_from_civil(mi / 12, mi % 12 + 1, 1);
}

bool fe_month_observed(const struct fe_ctx *ctx, int m)
{
    if (ctx->first_day == INT32_MAX)
        return true; /* no SMS at all: counts are 0, as in every window */
    return ctx->first_day <= fe_month_first_day(ctx, m);
}

/* ---- compute ---- */

static bool state_usable(enum source_state s)
{
    return s == SOURCE_OK || s == SOURCE_EMPTY;
}

static bool family_runs(const struct fe_family *f, const struct user_data *u, unsigned mask)
{
    if (f->always)
        return true;
    if (!(mask & f->group))
        return false;
    switch (f->group) {
    case FEATURES_GROUP_SMS:
    case FEATURES_GROUP_EXTRACTED_SMS:
        return state_usable(u->sms_state);
    case FEATURES_GROUP_APPS:
        return state_usable(u->apps_state);
    case FEATURES_GROUP_DEVICE:
        return state_usable(u->device_state);
    case FEATURES_GROUP_FRAUD:
        return state_usable(u->apps_state) || state_usable(u->device_state);
    default:
        return false;
    }
}

void features_compute(const struct features_catalogue *c, const struct maps *maps,
                      const struct user_data *u, unsigned groups_mask, struct feature_vector *out)
{
    struct fe_shared shared = {NAN, NAN, NAN, false, {0}, 0};
    struct fe_ctx ctx = {
        .u = u, .maps = maps, .params = &c->params, .shared = &shared, .mask = groups_mask};
    struct fe_out o = {.c = c, .v = out};
    struct vec_priv *p = out->priv;

    groups_mask &= FEATURES_GROUP_ALL;
    ctx.mask = groups_mask;
    out->groups = groups_mask;
    prepare(&ctx, p);
    for (size_t f = 0; f < FE_NFAMILIES; f++) {
        o.pos = c->fam_base[f];
        if (family_runs(families[f], u, groups_mask)) {
            families[f]->run(&ctx, &o);
            continue;
        }
        for (size_t r = c->fam_base[f]; r < c->fam_base[f] + c->fam_count[f]; r++) {
            out->values[c->reg_slot[r]] = NAN;
            out->strings[c->reg_slot[r]] = NULL;
        }
    }
}

/* ---- output ---- */

void features_write_json(const struct features_catalogue *c, const struct feature_vector *v,
                         struct json_writer *w)
{
    for (size_t i = 0; i < c->n && i < v->count; i++) {
        const struct features_entry *e = &c->entries[i];
        double x = v->values[i];
        json_writer_key(w, e->name);
        if (e->type == FEATURES_TYPE_STRING)
            json_writer_string(w, v->strings[i]);
        else if (isnan(x))
            json_writer_null(w);
        else if (e->type == FEATURES_TYPE_BOOL)
            json_writer_bool(w, x != 0);
        else if (x == floor(x) && fabs(x) < 9e15)
            json_writer_int(w, (long long)x);
        else
            json_writer_double(w, round(x * 10000) / 10000);
    }
}

double features_value(const struct features_catalogue *c, const struct feature_vector *v,
                      const char *name)
{
    int i = features_index(c, name);
    return i < 0 || (size_t)i >= v->count ? NAN : v->values[i];
}

const char *features_string(const struct features_catalogue *c, const struct feature_vector *v,
                            const char *name)
{
    int i = features_index(c, name);
    return i < 0 || (size_t)i >= v->count ? NULL : v->strings[i];
}

const char *features_group_name(enum features_group group)
{
    switch (group) {
    case FEATURES_GROUP_SMS:
        return "sms";
    case FEATURES_GROUP_EXTRACTED_SMS:
        return "extracted_sms";
    case FEATURES_GROUP_FRAUD:
        return "fraud";
    case FEATURES_GROUP_APPS:
        return "apps";
    case FEATURES_GROUP_DEVICE:
        return "device";
    default:
        return NULL;
    }
}

int features_grouping_add(const char *name, unsigned *mask, char *err, size_t err_len)
{
    enum features_group g;
    char lower[32];
    size_t n = name ? strlen(name) : 0;

    /* case does not matter ("SMS" is "sms"), as docs/api-insights.md says */
    if (name && n < sizeof(lower)) {
        for (size_t i = 0; i <= n; i++)
            lower[i] = (char)tolower((unsigned char)name[i]);
        name = lower;
    }
    if (name && strcmp(name, "fraud") == 0) {
        *mask |= FEATURES_GROUP_FRAUD | FEATURES_GROUP_APPS | FEATURES_GROUP_DEVICE;
        return 0;
    }
    if (name && parse_group(name, &g) == 0) {
        *mask |= g;
        return 0;
    }
    set_err(err, err_len,
            "unknown grouping (accepted: \"sms\", \"extracted_sms\", \"fraud\", \"apps\", "
            "\"device\")");
    return -1;
}

int features_groupings_parse(const char *csv, unsigned *mask, char *err, size_t err_len)
{
    char buf[256];
    *mask = 0;
    if (!csv || !*csv || strlen(csv) >= sizeof(buf)) {
        set_err(err, err_len, "groupings: expected a non-empty comma-separated list");
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", csv);
    for (char *s = buf, *e; s; s = e) {
        e = strchr(s, ',');
        if (e)
            *e++ = '\0';
        while (*s == ' ')
            s++;
        size_t l = strlen(s);
        while (l && s[l - 1] == ' ')
            s[--l] = '\0';
        if (features_grouping_add(s, mask, err, err_len) < 0)
            return -1;
    }
    return 0;
}

/* Markdown table cells: pipes escaped. */
static void md_cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else
            fputc(*s, f);
    }
}

void features_write_markdown(const struct features_catalogue *c, FILE *f)
{
    static const enum features_group order[] = {FEATURES_GROUP_SMS, FEATURES_GROUP_EXTRACTED_SMS,
                                                FEATURES_GROUP_FRAUD, FEATURES_GROUP_APPS,
                                                FEATURES_GROUP_DEVICE};
    fprintf(f, "# insights-api features\n\n"
               "<!-- DO NOT EDIT! generated by `insights-api --features-docs` from "
               "insights-api/catalogue/features.tsv -->\n\n");
    fprintf(f,
            "Catalogue version `%s`: %zu features. Every feature is a top-level key of the "
            "`/api/insights` reply; a value that cannot be computed is `null`, never 0.\n\n",
            c->version, c->n);
    fprintf(f, "Windows count back from the request time in India time (UTC+05:30): `cN` is the "
               "last N days, `mK` the calendar month K months before the current one (`m0` = the "
               "current month, so far), `all` every record.\n\n"
               "| Request grouping | Feature groups |\n|---|---|\n"
               "| `sms` | sms |\n| `extracted_sms` | extracted_sms |\n"
               "| `fraud` | fraud, apps, device |\n| `apps` (extension) | apps |\n"
               "| `device` (extension) | device |\n\n"
               "`sms_data_null_reason`, `apps_data_null_reason` and `device_data_null_reason` are "
               "always computed: null when the source was used, else `no_data`, "
               "`extraction_failed` (SMS), `fetch_failed` (apps, device) or `not_requested`.\n\n"
               "Null rules: with SMS extraction failed every SMS feature is null; with no SMS "
               "at all counts and sums are 0 while means, ratios, latest values and flags that "
               "need evidence are null or false as their definition says. A calendar month "
               "`mK` the inbox does not cover from its first day (the oldest SMS is later) is "
               "null: a month seen in part would look like a bad month.\n\n"
               "Every window counts back from one time, the request's (`now`), so a "
               "point-in-time replay only has to change that value.\n");
    fputs("\n## How the SMS are read\n\n"
          "- **Leakage control**: the SMS from the API client's own sender headers and its own "
          "app packages (`client_exclusions.json`, docs/insights-artifacts.md) are left out of "
          "every feature of that client's users: the application in progress does not feed "
          "`loan_application_count_c7` or `apps_installed_c7`.\n"
          "- **Accounts and cards**: one key per instrument, (institution, kind, last 4 digits). "
          "The institution is the sender entity; the kind is decided over all the SMS naming "
          "those digits: credit card (a limit, a card bill, a minimum due, a card issuer) before "
          "account before debit card before wallet, so a debit card's tail is never an account "
          "and a debit-card SMS that prints the account number counts for the account. A "
          "lender's \"a/c ending\" (a loan or the user's bank account named by someone else), "
          "OTPs and offers give no instrument; a tail printed with fewer digits joins the one "
          "full tail of the institution that ends with it.\n"
          "- **Channels**: the rail the SMS names, else the one its kind implies: an ATM "
          "withdrawal is `atm` (even when the text says card), an EMI debit or failed mandate "
          "`nach`, a UPI-typed record or a VPA counter-party `upi`, a card- or wallet-typed "
          "record `card` or `wallet`.\n"
          "- **Income** is money in the user earned: credits less loan disbursals (the "
          "lender's SMS and the bank credit of it, within 3 days and up to 15% less for fees), "
          "card-bill payments and card refunds, refunds and reversals, and self-transfers (a "
          "debit and a credit of the same amount between two of the user's accounts within "
          "2 hours with the same reference or party, or a party saying self).\n"
          "- **Salary** is read by pay cycle: credits less than 10 days apart are one cycle, so "
          "a salary paid late stays its month's salary.\n"
          "- **EMIs owed** come from debits, EMI-due notices, lenders' scheduled debits, "
          "e-mandates and bounce notices, de-duplicated per lender and amount; SIPs and other "
          "investments are never EMIs.\n"
          "- **Delinquency** features read the extraction's delinquency kinds (overdue, "
          "final_notice, collection, legal_notice, settlement_offer) and its overdue_amount and "
          "days_past_due (null when a notice states none).\n",
          f);
    fprintf(f,
            "\nCatalogue params (`# param:` lines of the catalogue): balance_floor_inr = "
            "%g.\n",
            c->params.balance_floor_inr);
    for (size_t g = 0; g < sizeof(order) / sizeof(order[0]); g++) {
        size_t n = 0;
        for (size_t i = 0; i < c->n; i++)
            n += c->entries[i].group == order[g];
        fprintf(f,
                "\n## Group `%s` (%zu features)\n\n| Name | Type | Window | Definition |\n"
                "|---|---|---|---|\n",
                features_group_name(order[g]), n);
        for (size_t i = 0; i < c->n; i++) {
            const struct features_entry *e = &c->entries[i];
            if (e->group != order[g])
                continue;
            fprintf(f, "| `%s` | %s | %s | ", e->name, type_name(e->type), e->window);
            md_cell(f, e->definition);
            fputs(" |\n", f);
        }
    }
}
