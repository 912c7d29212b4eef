/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading and looking up the mapping artifacts. Credeau ships these as
 * encrypted JSON/CSV next to pickled models; we keep the open formats and
 * replace the merchant and company models with the merchant mapping plus a
 * few documented rules (here) and employer detection from salary credits
 * (features_salary.c).
 *
 * DESIGN
 * Each artifact is parsed once with jansson (or by hand for the CSV) into
 * open-addressing hash tables of lower-cased keys, all strings copied into
 * the struct maps, so lookups on the request path are a hash and a compare
 * with no allocation. Reloading builds a new struct maps.
 */
#include "common/file.h"
#include "common/sender.h"
#include "insights-api/maps.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAPS_KEY_MAX 128
#define MAPS_MAX_ENTRIES 200000
#define MAPS_MAX_BANDS 16
#define MAPS_MAX_MARKERS 64
#define MAPS_MAX_CLASSES 64
#define MAPS_MAX_PAYER_KINDS 16

/* Open-addressing table: lower-cased key -> index into the owner's value array. */
struct strmap {
    char **keys;
    int *vals;
    size_t cap; /* power of two */
    size_t n;
};

struct band {
    char *name;
    double max_inr; /* INFINITY for the last */
};

struct device_row {
    double price;
    int year;
};

/* A RAM/storage class: phones with at least this much of both cost about price. */
struct memory_class {
    double ram_gb, storage_gb, price;
};

struct kind_data {
    bool loaded;
    char version[64];
};

struct maps {
    struct kind_data kinds[MAPS_KIND_COUNT];

    struct strmap apps; /* package -> apps_val index */
    struct maps_app *apps_val;
    size_t apps_n;

    struct strmap fraud; /* package -> fraud_cat index */
    char **fraud_cat;
    size_t fraud_n;
    char *markers[3][MAPS_MAX_MARKERS]; /* brand, model, manufacturer */
    int marker_n[3];

    struct strmap devices; /* model key -> dev index */
    struct device_row *dev;
    size_t dev_n;

    struct strmap brands; /* brand -> brand_price index */
    double *brand_price;
    size_t brand_n;
    struct strmap aliases; /* sub-brand -> brand_alias index */
    char **brand_alias;
    size_t alias_n;
    struct band bands[MAPS_MAX_BANDS];
    int band_n;
    struct memory_class classes[MAPS_MAX_CLASSES];
    int class_n;

    struct strmap merchants; /* key -> merchant_cat index */
    char **merchant_cat;
    size_t merchant_n;
    const char *rule_vpa_mobile, *rule_vpa_person, *rule_person_name; /* into merchant_cat */

    struct strmap senders; /* header -> sender_val index */
    struct maps_sender *sender_val;
    size_t sender_n;
    struct strmap lenders; /* entity name -> 1 */

    struct strmap payers; /* normalised payer key -> index into payer_val */
    struct maps_payer *payer_val;
    size_t payer_n;
    char *payer_kinds[MAPS_MAX_PAYER_KINDS];
    int payer_kind_n;

    struct strmap client_keys; /* "s|client|header" or "a|client|package" -> 1 */
    struct strmap clients;     /* client_id -> index into client_headers */
    struct client_headers {
        char **v; /* normalised headers, strings owned by the maps */
        size_t n;
    } * client_headers;

    char **strings; /* every string we copied, freed with the maps */
    size_t strings_n, strings_cap;
};

static const struct maps_kind_info kind_info[MAPS_KIND_COUNT] = {
    [MAPS_APPS] = {"apps_mapping", "APPS_MAPPING_PATH", "insights-api/artifacts/apps_mapping.json"},
    [MAPS_FRAUD_APPS] = {"fraud_apps_mapping", "FRAUD_APPS_MAPPING_PATH",
                         "insights-api/artifacts/fraud_apps_mapping.json"},
    [MAPS_DEVICE_PRICING] = {"device_pricing", "DEVICE_MAPPING_PATH",
                             "insights-api/artifacts/device_pricing.json"},
    [MAPS_AVG_DEVICE_PRICE] = {"avg_device_price", "AVG_DEVICE_MAPPING_PATH",
                               "insights-api/artifacts/avg_device_price.json"},
    [MAPS_MERCHANTS] = {"merchant_mapping", "MERCHANT_MAPPING_PATH",
                        "insights-api/artifacts/merchant_mapping.csv"},
    [MAPS_SMS_SENDERS] = {"sms_sender_mapping", "SMS_MAPPING_PATH",
                          "insights-api/artifacts/sms_sender_mapping.json"},
    [MAPS_PAYERS] = {"payer_mapping", "PAYER_MAPPING_PATH",
                     "insights-api/artifacts/payer_mapping.json"},
    [MAPS_CLIENT_EXCLUSIONS] = {"client_exclusions", "CLIENT_EXCLUSIONS_PATH",
                                "insights-api/artifacts/client_exclusions.json"},
};

const struct maps_kind_info *maps_kind_info(enum maps_kind kind)
{
    if ((int)kind < 0 || kind >= MAPS_KIND_COUNT)
        return NULL;
    return &kind_info[kind];
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "maps: out of memory\n");
        abort();
    }
    return p;
}

/* ---- string table ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void strmap_free(struct strmap *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof(*t));
}

static void strmap_init(struct strmap *t, size_t expected)
{
    strmap_free(t);
    size_t cap = 16;
    while (cap < expected * 2 + 1)
        cap <<= 1;
    t->keys = xcalloc(cap, sizeof(*t->keys));
    t->vals = xcalloc(cap, sizeof(*t->vals));
    t->cap = cap;
}

/* Insert key (already lower case); an existing key keeps its first value. */
static void strmap_put(struct strmap *t, const char *key, int val)
{
    size_t mask = t->cap - 1, i = hash_str(key) & mask;
    while (t->keys[i]) {
        if (strcmp(t->keys[i], key) == 0)
            return;
        i = (i + 1) & mask;
    }
    t->keys[i] = strdup(key);
    if (!t->keys[i])
        abort();
    t->vals[i] = val;
    t->n++;
}

static int strmap_get(const struct strmap *t, const char *key)
{
    if (!t->cap)
        return -1;
    size_t mask = t->cap - 1, i = hash_str(key) & mask;
    while (t->keys[i]) {
        if (strcmp(t->keys[i], key) == 0)
            return t->vals[i];
        i = (i + 1) & mask;
    }
    return -1;
}

/* Lower-case, trim, collapse runs of spaces; false when empty or too long. */
static bool norm_key(const char *in, char *out, size_t out_len)
{
    size_t n = 0;
    bool space = false;
    if (!in)
        return false;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        if (isspace(c)) {
            space = n > 0;
            continue;
        }
        if (space) {
            if (n + 1 >= out_len)
                return false;
            out[n++] = ' ';
            space = false;
        }
        if (n + 1 >= out_len)
            return false;
        out[n++] = (char)tolower(c);
    }
    out[n] = '\0';
    return n > 0;
}

static char *keep(struct maps *m, const char *s)
{
    if (m->strings_n == m->strings_cap) {
        size_t cap = m->strings_cap ? m->strings_cap * 2 : 256;
        char **p = realloc(m->strings, cap * sizeof(*p));
        if (!p)
            abort();
        m->strings = p;
        m->strings_cap = cap;
    }
    char *d = strdup(s);
    if (!d)
        abort();
    m->strings[m->strings_n++] = d;
    return d;
}

struct maps *maps_new(void)
{
    return calloc(1, sizeof(struct maps));
}

static void free_apps(struct maps *m)
{
    strmap_free(&m->apps);
    free(m->apps_val);
    m->apps_val = NULL;
    m->apps_n = 0;
}

static void free_fraud(struct maps *m)
{
    strmap_free(&m->fraud);
    free(m->fraud_cat);
    m->fraud_cat = NULL;
    m->fraud_n = 0;
    memset(m->marker_n, 0, sizeof(m->marker_n));
}

static void free_devices(struct maps *m)
{
    strmap_free(&m->devices);
    free(m->dev);
    m->dev = NULL;
    m->dev_n = 0;
}

static void free_avg(struct maps *m)
{
    strmap_free(&m->brands);
    strmap_free(&m->aliases);
    free(m->brand_price);
    free(m->brand_alias);
    m->brand_price = NULL;
    m->brand_alias = NULL;
    m->brand_n = m->alias_n = 0;
    m->band_n = 0;
    m->class_n = 0;
}

static void free_merchants(struct maps *m)
{
    strmap_free(&m->merchants);
    free(m->merchant_cat);
    m->merchant_cat = NULL;
    m->merchant_n = 0;
    m->rule_vpa_mobile = m->rule_vpa_person = m->rule_person_name = NULL;
}

static void free_senders(struct maps *m)
{
    strmap_free(&m->senders);
    strmap_free(&m->lenders);
    free(m->sender_val);
    m->sender_val = NULL;
    m->sender_n = 0;
}

static void free_payers(struct maps *m)
{
    strmap_free(&m->payers);
    free(m->payer_val);
    m->payer_val = NULL;
    m->payer_n = 0;
    m->payer_kind_n = 0;
}

static void free_clients(struct maps *m)
{
    for (size_t i = 0; m->client_headers && i < m->clients.n; i++)
        free(m->client_headers[i].v);
    free(m->client_headers);
    m->client_headers = NULL;
    strmap_free(&m->client_keys);
    strmap_free(&m->clients);
}

void maps_free(struct maps *m)
{
    if (!m)
        return;
    free_payers(m);
    free_clients(m);
    free_apps(m);
    free_fraud(m);
    free_devices(m);
    free_avg(m);
    free_merchants(m);
    free_senders(m);
    for (size_t i = 0; i < m->strings_n; i++)
        free(m->strings[i]);
    free(m->strings);
    free(m);
}

/* ---- JSON loaders ---- */

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

/* Parse the common envelope: an object with format 1 and a string version. */
static json_t *load_json(struct maps *m, enum maps_kind kind, const char *bytes, size_t len,
                         char *err, size_t err_len)
{
    json_error_t je;
    const char *name = kind_info[kind].name;
    json_t *root = json_loadb(bytes, len, 0, &je);
    if (!root) {
        set_err(err, err_len, "%s: invalid JSON at line %d: %s", name, je.line, je.text);
        return NULL;
    }
    json_t *fmt = json_object_get(root, "format");
    json_t *ver = json_object_get(root, "version");
    if (!json_is_object(root) || !json_is_integer(fmt) || json_integer_value(fmt) != 1) {
        set_err(err, err_len, "%s: expected an object with \"format\": 1", name);
        goto fail;
    }
    if (!json_is_string(ver) || json_string_length(ver) == 0 ||
        json_string_length(ver) >= sizeof(m->kinds[kind].version)) {
        set_err(err, err_len, "%s: \"version\" must be a non-empty string of at most %zu bytes",
                name, sizeof(m->kinds[kind].version) - 1);
        goto fail;
    }
    snprintf(m->kinds[kind].version, sizeof(m->kinds[kind].version), "%s", json_string_value(ver));
    return root;
fail:
    json_decref(root);
    return NULL;
}

static json_t *get_array(json_t *root, const char *key, const char *name, char *err, size_t err_len)
{
    json_t *a = json_object_get(root, key);
    if (!json_is_array(a) || json_array_size(a) > MAPS_MAX_ENTRIES) {
        set_err(err, err_len, "%s: \"%s\" must be an array of at most %d entries", name, key,
                MAPS_MAX_ENTRIES);
        return NULL;
    }
    return a;
}

static const char *str_member(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int load_apps(struct maps *m, json_t *root, char *err, size_t err_len)
{
    json_t *a = get_array(root, "apps", "apps_mapping", err, err_len), *e;
    size_t i;
    char key[MAPS_KEY_MAX];
    if (!a)
        return -1;
    free_apps(m);
    m->apps_val = xcalloc(json_array_size(a), sizeof(*m->apps_val));
    strmap_init(&m->apps, json_array_size(a));
    json_array_foreach(a, i, e)
    {
        const char *pkg = str_member(e, "package"), *cat = str_member(e, "category");
        const char *sub = str_member(e, "sub_category");
        if (!norm_key(pkg, key, sizeof(key)) || !cat || !*cat) {
            set_err(err, err_len, "apps_mapping: apps[%zu] needs \"package\" and \"category\"", i);
            return -1;
        }
        m->apps_val[m->apps_n].category = keep(m, cat);
        m->apps_val[m->apps_n].sub_category = sub && *sub ? keep(m, sub) : NULL;
        strmap_put(&m->apps, key, (int)m->apps_n++);
    }
    return 0;
}

static int load_markers(struct maps *m, json_t *root, char *err, size_t err_len)
{
    static const char *const fields[3] = {"brand", "model", "manufacturer"};
    json_t *mk = json_object_get(root, "emulator_markers");
    char key[MAPS_KEY_MAX];
    if (!mk)
        return 0;
    for (int f = 0; f < 3; f++) {
        json_t *a = json_object_get(mk, fields[f]), *e;
        size_t i;
        if (!a)
            continue;
        if (!json_is_array(a) || json_array_size(a) > MAPS_MAX_MARKERS) {
            set_err(err, err_len,
                    "fraud_apps_mapping: emulator_markers.%s must be an array of at most %d "
                    "strings",
                    fields[f], MAPS_MAX_MARKERS);
            return -1;
        }
        json_array_foreach(a, i, e)
        {
            if (!norm_key(json_string_value(e), key, sizeof(key))) {
                set_err(err, err_len,
                        "fraud_apps_mapping: emulator_markers.%s[%zu] is not a string", fields[f],
                        i);
                return -1;
            }
            m->markers[f][m->marker_n[f]++] = keep(m, key);
        }
    }
    return 0;
}

static int load_fraud(struct maps *m, json_t *root, char *err, size_t err_len)
{
    json_t *a = get_array(root, "apps", "fraud_apps_mapping", err, err_len), *e;
    size_t i;
    char key[MAPS_KEY_MAX];
    if (!a)
        return -1;
    free_fraud(m);
    m->fraud_cat = xcalloc(json_array_size(a), sizeof(*m->fraud_cat));
    strmap_init(&m->fraud, json_array_size(a));
    json_array_foreach(a, i, e)
    {
        const char *pkg = str_member(e, "package"), *cat = str_member(e, "category");
        if (!norm_key(pkg, key, sizeof(key)) || !cat || !*cat) {
            set_err(err, err_len,
                    "fraud_apps_mapping: apps[%zu] needs \"package\" and \"category\"", i);
            return -1;
        }
        m->fraud_cat[m->fraud_n] = keep(m, cat);
        strmap_put(&m->fraud, key, (int)m->fraud_n++);
    }
    return load_markers(m, root, err, err_len);
}

/* "2023" or "2023-07": when the price was stated (a row without one cannot be audited). */
static bool valid_price_date(const char *d)
{
    size_t n = strlen(d);
    for (size_t i = 0; i < n; i++)
        if (i != 4 && !isdigit((unsigned char)d[i]))
            return false;
    if (n == 4)
        return true;
    return n == 7 && d[4] == '-' && (d[5] == '0' || d[5] == '1') && !(d[5] == '0' && d[6] == '0') &&
           !(d[5] == '1' && d[6] > '2');
}

static int load_devices(struct maps *m, json_t *root, char *err, size_t err_len)
{
    json_t *a = get_array(root, "devices", "device_pricing", err, err_len), *e;
    size_t i, total = 0;
    char key[MAPS_KEY_MAX];
    if (!a)
        return -1;
    free_devices(m);
    json_array_foreach(a, i, e) total += json_array_size(json_object_get(e, "models"));
    m->dev = xcalloc(json_array_size(a), sizeof(*m->dev));
    strmap_init(&m->devices, total);
    json_array_foreach(a, i, e)
    {
        json_t *models = json_object_get(e, "models"), *price = json_object_get(e, "price_inr");
        json_t *year = json_object_get(e, "launch_year"), *mo;
        const char *source = str_member(e, "source"), *date = str_member(e, "price_date");
        size_t j;
        if (!json_is_array(models) || !json_is_number(price) || json_number_value(price) <= 0) {
            set_err(err, err_len,
                    "device_pricing: devices[%zu] needs \"models\" (array) and a positive "
                    "\"price_inr\"",
                    i);
            return -1;
        }
        if (!source || !*source || !date || !valid_price_date(date)) {
            set_err(err, err_len,
                    "device_pricing: devices[%zu] needs a \"source\" and a \"price_date\" "
                    "(YYYY or YYYY-MM)",
                    i);
            return -1;
        }
        m->dev[m->dev_n].price = json_number_value(price);
        m->dev[m->dev_n].year = json_is_integer(year) ? (int)json_integer_value(year) : 0;
        json_array_foreach(models, j, mo)
        {
            if (!norm_key(json_string_value(mo), key, sizeof(key))) {
                set_err(err, err_len, "device_pricing: devices[%zu].models[%zu] is not a string", i,
                        j);
                return -1;
            }
            strmap_put(&m->devices, key, (int)m->dev_n);
        }
        m->dev_n++;
    }
    return 0;
}

static int load_bands(struct maps *m, json_t *root, char *err, size_t err_len)
{
    json_t *a = json_object_get(root, "bands"), *e;
    size_t i;
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAPS_MAX_BANDS) {
        set_err(err, err_len, "avg_device_price: \"bands\" must be an array of 1 to %d bands",
                MAPS_MAX_BANDS);
        return -1;
    }
    json_array_foreach(a, i, e)
    {
        const char *name = str_member(e, "name");
        json_t *max = json_object_get(e, "max_inr");
        bool last = i + 1 == json_array_size(a);
        double v = json_is_number(max) ? json_number_value(max) : INFINITY;
        if (!name || !*name || (!last && !json_is_number(max)) ||
            (m->band_n && v <= m->bands[m->band_n - 1].max_inr)) {
            set_err(err, err_len,
                    "avg_device_price: bands[%zu] needs a name and an increasing max_inr (only "
                    "the last may be null)",
                    i);
            return -1;
        }
        m->bands[m->band_n].name = keep(m, name);
        m->bands[m->band_n++].max_inr = v;
    }
    return 0;
}

/* Optional "memory_classes": [{"ram_gb": 4, "storage_gb": 64, "price_inr": 9000}, ...]. */
static int load_classes(struct maps *m, json_t *root, char *err, size_t err_len)
{
    json_t *a = json_object_get(root, "memory_classes"), *e;
    size_t i;
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > MAPS_MAX_CLASSES) {
        set_err(err, err_len,
                "avg_device_price: \"memory_classes\" must be an array of at most %d classes",
                MAPS_MAX_CLASSES);
        return -1;
    }
    json_array_foreach(a, i, e)
    {
        json_t *r = json_object_get(e, "ram_gb"), *st = json_object_get(e, "storage_gb");
        json_t *p = json_object_get(e, "price_inr");
        if (!json_is_number(r) || !json_is_number(st) || !json_is_number(p) ||
            json_number_value(r) <= 0 || json_number_value(st) <= 0 || json_number_value(p) <= 0) {
            set_err(err, err_len,
                    "avg_device_price: memory_classes[%zu] needs positive ram_gb, storage_gb and "
                    "price_inr",
                    i);
            return -1;
        }
        m->classes[m->class_n++] = (struct memory_class){
            json_number_value(r), json_number_value(st), json_number_value(p)};
    }
    return 0;
}

static int load_avg(struct maps *m, json_t *root, char *err, size_t err_len)
{
    json_t *brands = json_object_get(root, "brands"), *aliases = json_object_get(root, "aliases");
    const char *k;
    json_t *v;
    char key[MAPS_KEY_MAX];
    free_avg(m);
    if (!json_is_object(brands)) {
        set_err(err, err_len, "avg_device_price: \"brands\" must be an object brand -> price");
        return -1;
    }
    m->brand_price = xcalloc(json_object_size(brands), sizeof(double));
    strmap_init(&m->brands, json_object_size(brands));
    json_object_foreach(brands, k, v)
    {
        if (!norm_key(k, key, sizeof(key)) || !json_is_number(v) || json_number_value(v) <= 0) {
            set_err(err, err_len, "avg_device_price: brands.%s must be a positive number", k);
            return -1;
        }
        m->brand_price[m->brand_n] = json_number_value(v);
        strmap_put(&m->brands, key, (int)m->brand_n++);
    }
    size_t na = json_is_object(aliases) ? json_object_size(aliases) : 0;
    m->brand_alias = xcalloc(na, sizeof(char *));
    strmap_init(&m->aliases, na);
    if (na) {
        json_object_foreach(aliases, k, v)
        {
            char to[MAPS_KEY_MAX];
            if (!norm_key(k, key, sizeof(key)) || !norm_key(json_string_value(v), to, sizeof(to))) {
                set_err(err, err_len, "avg_device_price: aliases.%s must be a brand name", k);
                return -1;
            }
            m->brand_alias[m->alias_n] = keep(m, to);
            strmap_put(&m->aliases, key, (int)m->alias_n++);
        }
    }
    if (load_classes(m, root, err, err_len) < 0)
        return -1;
    return load_bands(m, root, err, err_len);
}

static int load_senders(struct maps *m, json_t *root, char *err, size_t err_len)
{
    json_t *a = get_array(root, "senders", "sms_sender_mapping", err, err_len), *e;
    json_t *lt = json_object_get(root, "lender_types");
    size_t i, total = 0;
    char key[MAPS_KEY_MAX];
    if (!a)
        return -1;
    free_senders(m);
    json_array_foreach(a, i, e) total += json_array_size(json_object_get(e, "headers"));
    m->sender_val = xcalloc(json_array_size(a), sizeof(*m->sender_val));
    strmap_init(&m->senders, total);
    strmap_init(&m->lenders, json_array_size(a));
    json_array_foreach(a, i, e)
    {
        const char *ent = str_member(e, "entity"), *type = str_member(e, "type");
        json_t *hs = json_object_get(e, "headers"), *h;
        size_t j, k;
        if (!ent || !*ent || !type || !*type || !json_is_array(hs)) {
            set_err(err, err_len,
                    "sms_sender_mapping: senders[%zu] needs \"entity\", \"type\" and \"headers\"",
                    i);
            return -1;
        }
        m->sender_val[m->sender_n].entity = keep(m, ent);
        m->sender_val[m->sender_n].type = keep(m, type);
        json_array_foreach(hs, j, h)
        {
            char header[MAPS_KEY_MAX];
            const char *text = json_string_value(h);

            /* the extractor's rule (common/sender.h): "VM-HDFCBK-S" here is "hdfcbk" there */
            if (text)
                sender_normalise(text, strlen(text), header, sizeof(header));
            if (!text || !norm_key(header, key, sizeof(key))) {
                set_err(err, err_len,
                        "sms_sender_mapping: senders[%zu].headers[%zu] is not a string", i, j);
                return -1;
            }
            strmap_put(&m->senders, key, (int)m->sender_n);
        }
        json_t *t;
        json_array_foreach(lt, k, t)
        {
            if (json_is_string(t) && strcmp(json_string_value(t), type) == 0 &&
                norm_key(ent, key, sizeof(key)))
                strmap_put(&m->lenders, key, 1);
        }
        m->sender_n++;
    }
    return 0;
}

/*
 * payer_mapping.json: {"kinds": ["gig_platform"], "payers": [{"name": "Swiggy",
 * "kind": "gig_platform", "keys": ["swiggy", "bundl technologies"]}]}.
 */
static int payer_kind_index(struct maps *m, json_t *kinds, const char *kind)
{
    json_t *k;
    size_t i;
    json_array_foreach(kinds, i, k)
    {
        if (!json_is_string(k) || strcmp(json_string_value(k), kind) != 0)
            continue;
        for (int j = 0; j < m->payer_kind_n; j++)
            if (strcmp(m->payer_kinds[j], kind) == 0)
                return j;
        if (m->payer_kind_n == MAPS_MAX_PAYER_KINDS)
            return -1;
        m->payer_kinds[m->payer_kind_n] = keep(m, kind);
        return m->payer_kind_n++;
    }
    return -1;
}

static int load_payers(struct maps *m, json_t *root, char *err, size_t err_len)
{
    json_t *a = get_array(root, "payers", "payer_mapping", err, err_len), *e;
    json_t *kinds = json_object_get(root, "kinds");
    size_t i, total = 0;
    char key[MAPS_KEY_MAX];
    if (!a)
        return -1;
    free_payers(m);
    if (!json_is_array(kinds)) {
        set_err(err, err_len, "payer_mapping: \"kinds\" must be an array of kind names");
        return -1;
    }
    json_array_foreach(a, i, e) total += json_array_size(json_object_get(e, "keys"));
    strmap_init(&m->payers, total);
    m->payer_val = xcalloc(json_array_size(a), sizeof(*m->payer_val));
    json_array_foreach(a, i, e)
    {
        const char *name = str_member(e, "name"), *kind = str_member(e, "kind");
        json_t *keys = json_object_get(e, "keys"), *k;
        int ki = kind ? payer_kind_index(m, kinds, kind) : -1;
        size_t j;
        if (!name || !*name || ki < 0 || !json_is_array(keys) || json_array_size(keys) == 0) {
            set_err(err, err_len,
                    "payer_mapping: payers[%zu] needs \"name\", a \"kind\" listed in "
                    "\"kinds\" and \"keys\"",
                    i);
            return -1;
        }
        json_array_foreach(keys, j, k)
        {
            if (!norm_key(json_string_value(k), key, sizeof(key))) {
                set_err(err, err_len, "payer_mapping: payers[%zu].keys[%zu] is not a string", i, j);
                return -1;
            }
            strmap_put(&m->payers, key, (int)m->payer_n);
        }
        m->payer_val[m->payer_n].name = keep(m, name);
        m->payer_val[m->payer_n++].kind = m->payer_kinds[ki];
    }
    return 0;
}

/*
 * A sender header as the extractor normalises it: lower case, without an
 * operator prefix ("JM-") or a -S/-T/-P/-G suffix.
 */
static bool header_key(const char *in, char *out, size_t len)
{
    char buf[MAPS_KEY_MAX];
    if (!norm_key(in, buf, sizeof(buf)))
        return false;
    char *p = buf;
    size_t n = strlen(p);
    if (n > 3 && p[2] == '-' && isalnum((unsigned char)p[0]) && isalnum((unsigned char)p[1])) {
        p += 3;
        n -= 3;
    }
    if (n > 2 && p[n - 2] == '-' && isalpha((unsigned char)p[n - 1]))
        p[n -= 2] = '\0';
    if (n == 0 || n >= len)
        return false;
    memcpy(out, p, n + 1);
    return true;
}

/* "s|client|header" / "a|client|package"; false when the parts do not fit. */
static bool client_key(char *out, size_t len, bool app, const char *client, const char *item)
{
    int n = snprintf(out, len, "%c|%s|%s", app ? 'a' : 's', client, item);
    return n > 0 && (size_t)n < len;
}

static int load_client_list(struct maps *m, json_t *e, size_t i, const char *client, bool app,
                            struct client_headers *own, char *err, size_t err_len)
{
    const char *field = app ? "app_packages" : "sender_headers";
    json_t *a = json_object_get(e, field), *x;
    size_t j;
    char item[MAPS_KEY_MAX], key[3 * MAPS_KEY_MAX];
    if (!a)
        return 0;
    if (!json_is_array(a)) {
        set_err(err, err_len, "client_exclusions: clients[%zu].%s must be an array", i, field);
        return -1;
    }
    json_array_foreach(a, j, x)
    {
        const char *v = json_string_value(x);
        bool ok = app ? norm_key(v, item, sizeof(item)) : header_key(v, item, sizeof(item));
        if (!ok || !client_key(key, sizeof(key), app, client, item)) {
            set_err(err, err_len, "client_exclusions: clients[%zu].%s[%zu] is not a %s", i, field,
                    j, app ? "package name" : "sender header");
            return -1;
        }
        strmap_put(&m->client_keys, key, 1);
        if (!app) {
            char **v = realloc(own->v, (own->n + 1) * sizeof(*v));
            if (!v)
                abort();
            own->v = v;
            own->v[own->n++] = keep(m, item);
        }
    }
    return 0;
}

/*
 * client_exclusions.json: {"clients": [{"client_id": "c", "sender_headers":
 * ["KSHVIC"], "app_packages": ["in.example.app"]}]}.
 */
static int load_clients(struct maps *m, json_t *root, char *err, size_t err_len)
{
    json_t *a = get_array(root, "clients", "client_exclusions", err, err_len), *e;
    size_t i, total = 0;
    if (!a)
        return -1;
    free_clients(m);
    json_array_foreach(a, i, e)
    {
        total += json_array_size(json_object_get(e, "sender_headers")) +
                 json_array_size(json_object_get(e, "app_packages"));
    }
    strmap_init(&m->client_keys, total);
    strmap_init(&m->clients, json_array_size(a));
    m->client_headers = xcalloc(json_array_size(a), sizeof(*m->client_headers));
    json_array_foreach(a, i, e)
    {
        const char *client = str_member(e, "client_id");
        if (!client || !*client || strlen(client) >= MAPS_KEY_MAX ||
            strmap_get(&m->clients, client) >= 0) {
            set_err(err, err_len,
                    "client_exclusions: clients[%zu] needs a \"client_id\" of its own", i);
            return -1;
        }
        size_t k = m->clients.n;
        strmap_put(&m->clients, client, (int)k);
        if (load_client_list(m, e, i, client, false, &m->client_headers[k], err, err_len) < 0 ||
            load_client_list(m, e, i, client, true, NULL, err, err_len) < 0)
            return -1;
    }
    return 0;
}

/* ---- merchant CSV ---- */

static int merchant_row(struct maps *m, const char *line, size_t len, size_t lineno, char *err,
                        size_t err_len)
{
    char buf[2 * MAPS_KEY_MAX], key[MAPS_KEY_MAX], cat[MAPS_KEY_MAX];
    const char *comma = memchr(line, ',', len);
    if (len >= sizeof(buf) || !comma) {
        set_err(err, err_len, "merchant_mapping: line %zu: expected key,category", lineno);
        return -1;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    buf[comma - line] = '\0';
    if (!norm_key(buf, key, sizeof(key)) || !norm_key(buf + (comma - line) + 1, cat, sizeof(cat)) ||
        strchr(cat, ',')) {
        set_err(err, err_len, "merchant_mapping: line %zu: expected key,category", lineno);
        return -1;
    }
    char *c = keep(m, cat);
    if (key[0] == '@') {
        if (strcmp(key, "@vpa_mobile") == 0)
            m->rule_vpa_mobile = c;
        else if (strcmp(key, "@vpa_person") == 0)
            m->rule_vpa_person = c;
        else if (strcmp(key, "@person_name") == 0)
            m->rule_person_name = c;
        else {
            set_err(err, err_len, "merchant_mapping: line %zu: unknown rule '%s'", lineno, key);
            return -1;
        }
        return 0;
    }
    m->merchant_cat[m->merchant_n] = c;
    strmap_put(&m->merchants, key, (int)m->merchant_n++);
    return 0;
}

static int load_merchants(struct maps *m, const char *bytes, size_t len, char *err, size_t err_len)
{
    size_t lines = 1, lineno = 0, pos = 0;
    bool header = false;
    free_merchants(m);
    for (size_t i = 0; i < len; i++)
        lines += bytes[i] == '\n';
    if (lines > MAPS_MAX_ENTRIES) {
        set_err(err, err_len, "merchant_mapping: more than %d lines", MAPS_MAX_ENTRIES);
        return -1;
    }
    m->merchant_cat = xcalloc(lines, sizeof(char *));
    strmap_init(&m->merchants, lines);
    while (pos < len) {
        const char *line = bytes + pos, *nl = memchr(line, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - line) : len - pos;
        pos += l + 1;
        lineno++;
        if (l && line[l - 1] == '\r')
            l--;
        if (l == 0)
            continue;
        if (line[0] == '#') {
            static const char vtag[] = "# version:";
            if (l > sizeof(vtag) - 1 && memcmp(line, vtag, sizeof(vtag) - 1) == 0) {
                char v[64];
                size_t vl = l - (sizeof(vtag) - 1);
                if (vl >= sizeof(v))
                    vl = sizeof(v) - 1;
                memcpy(v, line + sizeof(vtag) - 1, vl);
                v[vl] = '\0';
                norm_key(v, m->kinds[MAPS_MERCHANTS].version,
                         sizeof(m->kinds[MAPS_MERCHANTS].version));
            }
            continue;
        }
        if (!header) {
            if (l != 12 || memcmp(line, "key,category", 12) != 0) {
                set_err(err, err_len, "merchant_mapping: line %zu: expected header key,category",
                        lineno);
                return -1;
            }
            header = true;
            continue;
        }
        if (merchant_row(m, line, l, lineno, err, err_len) < 0)
            return -1;
    }
    if (!header || !m->kinds[MAPS_MERCHANTS].version[0]) {
        set_err(err, err_len, "merchant_mapping: needs a '# version: X' line and a header");
        return -1;
    }
    return 0;
}

int maps_load(struct maps *m, enum maps_kind kind, const char *bytes, size_t len, char *err,
              size_t err_len)
{
    json_t *root = NULL;
    int rc = -1;
    if (!m || (int)kind < 0 || kind >= MAPS_KIND_COUNT || !bytes) {
        set_err(err, err_len, "maps: bad arguments");
        return -1;
    }
    m->kinds[kind].loaded = false;
    if (kind == MAPS_MERCHANTS) {
        m->kinds[kind].version[0] = '\0';
        rc = load_merchants(m, bytes, len, err, err_len);
        goto out;
    }
    root = load_json(m, kind, bytes, len, err, err_len);
    if (!root)
        return -1;
    switch (kind) {
    case MAPS_APPS:
        rc = load_apps(m, root, err, err_len);
        break;
    case MAPS_FRAUD_APPS:
        rc = load_fraud(m, root, err, err_len);
        break;
    case MAPS_DEVICE_PRICING:
        rc = load_devices(m, root, err, err_len);
        break;
    case MAPS_AVG_DEVICE_PRICE:
        rc = load_avg(m, root, err, err_len);
        break;
    case MAPS_SMS_SENDERS:
        rc = load_senders(m, root, err, err_len);
        break;
    case MAPS_PAYERS:
        rc = load_payers(m, root, err, err_len);
        break;
    case MAPS_CLIENT_EXCLUSIONS:
        rc = load_clients(m, root, err, err_len);
        break;
    default:
        break;
    }
out:
    json_decref(root);
    if (rc == 0)
        m->kinds[kind].loaded = true;
    return rc;
}

struct maps *maps_load_defaults(const char *repo_root, char *err, size_t err_len)
{
    struct maps *m = maps_new();
    if (!m) {
        set_err(err, err_len, "maps: out of memory");
        return NULL;
    }
    for (int k = 0; k < MAPS_KIND_COUNT; k++) {
        char path[2048];
        size_t len = 0;
        char *bytes;
        if (repo_root && *repo_root)
            snprintf(path, sizeof(path), "%s/%s", repo_root, kind_info[k].default_path);
        else
            snprintf(path, sizeof(path), "%s", kind_info[k].default_path);
        bytes = file_read(path, 0, &len, err, err_len);
        if (!bytes || maps_load(m, (enum maps_kind)k, bytes, len, err, err_len) < 0) {
            free(bytes);
            maps_free(m);
            return NULL;
        }
        free(bytes);
    }
    return m;
}

const char *maps_version(const struct maps *m, enum maps_kind kind)
{
    if (!m || (int)kind < 0 || kind >= MAPS_KIND_COUNT)
        return "";
    return m->kinds[kind].version;
}

bool maps_loaded(const struct maps *m, enum maps_kind kind)
{
    return m && (int)kind >= 0 && kind < MAPS_KIND_COUNT && m->kinds[kind].loaded;
}

/* ---- lookups ---- */

const struct maps_app *maps_app_lookup(const struct maps *m, const char *package)
{
    char key[MAPS_KEY_MAX];
    int i;
    if (!m || !norm_key(package, key, sizeof(key)) || (i = strmap_get(&m->apps, key)) < 0)
        return NULL;
    return &m->apps_val[i];
}

const char *maps_fraud_app_lookup(const struct maps *m, const char *package)
{
    char key[MAPS_KEY_MAX];
    int i;
    if (!m || !norm_key(package, key, sizeof(key)) || (i = strmap_get(&m->fraud, key)) < 0)
        return NULL;
    return m->fraud_cat[i];
}

bool maps_is_emulator(const struct maps *m, const char *brand, const char *model,
                      const char *manufacturer)
{
    const char *vals[3] = {brand, model, manufacturer};
    char key[MAPS_KEY_MAX];
    if (!m)
        return false;
    for (int f = 0; f < 3; f++) {
        if (!norm_key(vals[f], key, sizeof(key)))
            continue;
        for (int i = 0; i < m->marker_n[f]; i++) {
            /* brand and manufacturer markers are whole values, model markers substrings */
            if (f == 1 ? strstr(key, m->markers[f][i]) != NULL : strcmp(key, m->markers[f][i]) == 0)
                return true;
        }
    }
    return false;
}

static double brand_average(const struct maps *m, const char *brand_key)
{
    int i = strmap_get(&m->brands, brand_key);
    if (i < 0) {
        int a = strmap_get(&m->aliases, brand_key);
        if (a >= 0)
            i = strmap_get(&m->brands, m->brand_alias[a]);
    }
    return i >= 0 ? m->brand_price[i] : NAN;
}

const char *maps_price_source_name(enum maps_price_source s)
{
    switch (s) {
    case MAPS_PRICE_MODEL:
        return "model";
    case MAPS_PRICE_MEMORY_CLASS:
        return "memory_class";
    case MAPS_PRICE_BRAND:
        return "brand_average";
    }
    return NULL;
}

/* The model row of a normalised model and brand, or -1. */
static int model_row(const struct maps *m, const char *key, const char *bkey, bool have_brand)
{
    size_t bl = have_brand ? strlen(bkey) : 0;
    int i = strmap_get(&m->devices, key);
    if (i >= 0 || !have_brand)
        return i;
    /* "itel A665L": the brand repeated before the model code */
    if (strncmp(key, bkey, bl) == 0 && key[bl] == ' ' &&
        (i = strmap_get(&m->devices, key + bl + 1)) >= 0)
        return i;
    /* "Galaxy A14" reported as model with brand prefix stripped, or the reverse */
    char both[2 * MAPS_KEY_MAX];
    snprintf(both, sizeof(both), "%s %s", bkey, key);
    return strmap_get(&m->devices, both);
}

/*
 * The size a phone is sold with from what it reports: Android shows a little
 * less RAM than fitted and storage in GiB, so the smallest marketed size the
 * reading fits under (within 5%).
 */
static double marketed_size(double gb, const double *sizes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (gb <= sizes[i] * 1.05)
            return sizes[i];
    return sizes[n - 1];
}

/* Price of the largest RAM class, then storage class, the device reaches; NAN when none. */
static double class_price(const struct maps *m, double ram_mb, double storage_mb)
{
    static const double ram_sizes[] = {1, 2, 3, 4, 6, 8, 12, 16, 24};
    static const double storage_sizes[] = {8, 16, 32, 64, 128, 256, 512, 1024, 2048};
    if (!(ram_mb > 0) || !(storage_mb > 0))
        return NAN;
    double ram = marketed_size(ram_mb / 1024, ram_sizes, sizeof(ram_sizes) / sizeof(ram_sizes[0]));
    double st = marketed_size(storage_mb / 1024, storage_sizes,
                              sizeof(storage_sizes) / sizeof(storage_sizes[0]));
    const struct memory_class *best = NULL;
    for (int i = 0; i < m->class_n; i++) {
        const struct memory_class *c = &m->classes[i];
        if (c->ram_gb > ram || c->storage_gb > st)
            continue;
        if (!best || c->ram_gb > best->ram_gb ||
            (c->ram_gb == best->ram_gb && c->storage_gb > best->storage_gb))
            best = c;
    }
    return best ? best->price : NAN;
}

bool maps_device_price(const struct maps *m, const char *brand, const char *model, double ram_mb,
                       double storage_mb, struct maps_device_price *out)
{
    char key[MAPS_KEY_MAX], bkey[MAPS_KEY_MAX];
    int i = -1;
    if (!m || !out)
        return false;
    bool have_brand = norm_key(brand, bkey, sizeof(bkey));
    if (norm_key(model, key, sizeof(key)))
        i = model_row(m, key, bkey, have_brand);
    out->launch_year = 0;
    if (i >= 0) {
        out->price_inr = m->dev[i].price;
        out->launch_year = m->dev[i].year;
        out->source = MAPS_PRICE_MODEL;
        return true;
    }
    out->price_inr = class_price(m, ram_mb, storage_mb);
    out->source = MAPS_PRICE_MEMORY_CLASS;
    if (!isnan(out->price_inr))
        return true;
    out->price_inr = have_brand ? brand_average(m, bkey) : NAN;
    out->source = MAPS_PRICE_BRAND;
    return !isnan(out->price_inr);
}

int maps_price_band_rank(const struct maps *m, double price_inr)
{
    if (!m || isnan(price_inr))
        return -1;
    for (int i = 0; i < m->band_n; i++)
        if (price_inr < m->bands[i].max_inr)
            return i;
    return -1;
}

const char *maps_price_band(const struct maps *m, double price_inr)
{
    int r = maps_price_band_rank(m, price_inr);
    return r < 0 ? NULL : m->bands[r].name;
}

const struct maps_sender *maps_sender_lookup(const struct maps *m, const char *header)
{
    char key[MAPS_KEY_MAX];
    int i;
    if (!m || !norm_key(header, key, sizeof(key)) || (i = strmap_get(&m->senders, key)) < 0)
        return NULL;
    return &m->sender_val[i];
}

bool maps_is_lender_name(const struct maps *m, const char *name)
{
    char key[MAPS_KEY_MAX];
    return m && norm_key(name, key, sizeof(key)) && strmap_get(&m->lenders, key) >= 0;
}

bool maps_client_known(const struct maps *m, const char *client_id)
{
    return m && client_id && m->clients.cap && strmap_get(&m->clients, client_id) >= 0;
}

const char *const *maps_client_headers(const struct maps *m, const char *client_id, size_t *n)
{
    int i = maps_client_known(m, client_id) ? strmap_get(&m->clients, client_id) : -1;
    *n = i >= 0 ? m->client_headers[i].n : 0;
    return *n ? (const char *const *)m->client_headers[i].v : NULL;
}

bool maps_client_has(const struct maps *m, bool app, const char *client_id, const char *key)
{
    char item[MAPS_KEY_MAX], full[3 * MAPS_KEY_MAX];
    if (!maps_client_known(m, client_id))
        return false;
    bool ok = app ? norm_key(key, item, sizeof(item)) : header_key(key, item, sizeof(item));
    return ok && client_key(full, sizeof(full), app, client_id, item) &&
           strmap_get(&m->client_keys, full) >= 0;
}

/* ---- merchant categorisation ---- */

#define MERCHANT_MAX_WORDS 16

struct words {
    char buf[MAPS_KEY_MAX];
    const char *w[MERCHANT_MAX_WORDS];
    int n;
    bool vpa, vpa_digits, all_alpha;
};

/* Split the party into lower-case alphanumeric words; note VPA shape. */
static void split_words(const char *party, struct words *out)
{
    size_t n = 0, digits = 0, local = 0;
    bool in_word = false, after_at = false;
    memset(out, 0, sizeof(*out));
    out->all_alpha = true;
    for (const char *p = party; *p && n + 2 < sizeof(out->buf); p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '@' && !after_at) {
            out->vpa = true;
            after_at = true;
            out->vpa_digits = local >= 10 && digits * 10 >= local * 8;
        }
        if (!after_at && !isspace(c)) {
            local++;
            digits += isdigit(c) != 0;
        }
        if (isalnum(c) || c == '&' || c == '\'') {
            if (!in_word) {
                if (out->n == MERCHANT_MAX_WORDS)
                    break;
                out->w[out->n++] = out->buf + n;
                in_word = true;
            }
            if (!isalpha(c) && c != '&' && c != '\'')
                out->all_alpha = false;
            out->buf[n++] = (char)tolower(c);
        } else {
            if (in_word)
                out->buf[n++] = '\0';
            in_word = false;
            if (!isspace(c) && c != '.')
                out->all_alpha = false;
        }
    }
    out->buf[n] = '\0';
}

const char *maps_merchant_category(const struct maps *m, const char *party)
{
    struct words w;
    char key[MAPS_KEY_MAX];
    int i;
    if (!m || !party || !*party || !m->merchant_cat)
        return NULL;
    if (norm_key(party, key, sizeof(key)) && (i = strmap_get(&m->merchants, key)) >= 0)
        return m->merchant_cat[i];
    split_words(party, &w);
    /* two-word keys first (more specific), then single words */
    for (int k = 0; k + 1 < w.n; k++) {
        snprintf(key, sizeof(key), "%s %s", w.w[k], w.w[k + 1]);
        if ((i = strmap_get(&m->merchants, key)) >= 0)
            return m->merchant_cat[i];
    }
    for (int k = 0; k < w.n; k++)
        if ((i = strmap_get(&m->merchants, w.w[k])) >= 0)
            return m->merchant_cat[i];
    if (w.vpa)
        return w.vpa_digits ? m->rule_vpa_mobile : m->rule_vpa_person;
    if (w.all_alpha && w.n >= 2 && w.n <= 4)
        return m->rule_person_name;
    return NULL;
}

const struct maps_payer *maps_payer_lookup(const struct maps *m, const char *party)
{
    struct words w;
    char key[MAPS_KEY_MAX];
    int i;
    if (!m || !party || !*party || !m->payers.cap)
        return NULL;
    if (norm_key(party, key, sizeof(key)) && (i = strmap_get(&m->payers, key)) >= 0)
        return &m->payer_val[i];
    split_words(party, &w);
    /* longer runs first: "amazon flex" before a lone "amazon" */
    for (int len = 3; len >= 1; len--)
        for (int k = 0; k + len <= w.n; k++) {
            size_t n = 0;
            for (int j = k; j < k + len && n < sizeof(key); j++)
                n += (size_t)snprintf(key + n, sizeof(key) - n, "%s%s", j > k ? " " : "", w.w[j]);
            if (n < sizeof(key) && (i = strmap_get(&m->payers, key)) >= 0)
                return &m->payer_val[i];
        }
    return NULL;
}
