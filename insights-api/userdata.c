/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory for one user's data. A request gathers thousands of short strings
 * (sender names, parties, ids) that all die together when the reply is sent,
 * so they go into an arena, a chain of blocks freed in one pass, instead of
 * thousands of malloc/free pairs. The SMS and app arrays grow (they are
 * appended one record at a time as replies arrive) and are plain arrays owned
 * by the same user_data. Raw messages get their own arena so their bodies can
 * be wiped and released right after extraction.
 */
#include <math.h>

#include "common/alloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insights-api/userdata.h"
#include "insights-api/userdata_build.h"

#define ARENA_BLOCK_MIN 16384 /* first block; later blocks double up to ARENA_BLOCK_MAX */
#define ARENA_BLOCK_MAX (1u << 20)
#define ARENA_ALIGN 16

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
    struct arena_block *head; /* current block (most recent) */
    size_t next_size;
    size_t sms_cap;  /* allocated entries of the user's sms array */
    size_t apps_cap; /* allocated entries of the user's apps array */
};

static struct arena *arena_new(void)
{
    struct arena *a = alloc_bytes(sizeof(*a));

    memset(a, 0, sizeof(*a));
    a->next_size = ARENA_BLOCK_MIN;
    return a;
}

/* Free every block; with wipe, zero the bytes first (raw message bodies). */
static void arena_free(struct arena *a, bool wipe)
{
    struct arena_block *b, *next;

    if (!a)
        return;
    for (b = a->head; b; b = next) {
        next = b->next;
        if (wipe)
            explicit_bzero(b->data, b->used);
        free(b);
    }
    free(a);
}

static void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_block *b = a->head;
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    size_t size;

    if (b && b->size - b->used >= need) {
        void *p = b->data + b->used;
        b->used += need;
        return p;
    }
    size = a->next_size;
    if (size < ARENA_BLOCK_MAX)
        a->next_size = size * 2;
    if (size < need)
        size = need;
    b = alloc_bytes(sizeof(*b) + size);
    b->size = size;
    b->used = need;
    b->next = a->head;
    a->head = b;
    return b->data;
}

static char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* ---- user_data ---------------------------------------------------------- */

void user_data_device_clear(struct device_fact *d)
{
    memset(d, 0, sizeof(*d));
    d->total_ram_mb = NAN;
    d->total_storage_mb = NAN;
}

void user_data_init(struct user_data *u, const char *client_id, const char *user_id, int64_t now)
{
    memset(u, 0, sizeof(*u));
    u->owner = arena_new();
    u->now = now;
    u->sms_state = SOURCE_NOT_ASKED;
    u->apps_state = SOURCE_NOT_ASKED;
    u->device_state = SOURCE_NOT_ASKED;
    user_data_device_clear(&u->device);
    u->client_id = user_data_strdup(u, client_id);
    u->user_id = user_data_strdup(u, user_id);
}

void user_data_free(struct user_data *u)
{
    if (!u)
        return;
    arena_free(u->owner, false);
    free(u->sms);
    free(u->apps);
    memset(u, 0, sizeof(*u));
}

static struct arena *owner(struct user_data *u)
{
    if (!u->owner)
        u->owner = arena_new();
    return u->owner;
}

const char *user_data_strndup(struct user_data *u, const char *s, size_t len)
{
    if (!s)
        return NULL;
    return arena_strndup(owner(u), s, len);
}

const char *user_data_strdup(struct user_data *u, const char *s)
{
    if (!s)
        return NULL;
    return arena_strndup(owner(u), s, strlen(s));
}

/* Grow *items (of elem bytes) so it holds one more than count; cap is in/out. */
static void *grow(void *items, size_t *cap, size_t count, size_t elem)
{
    size_t ncap;

    if (count < *cap)
        return items;
    ncap = *cap ? *cap * 2 : 64;
    items = alloc_resize(items, ncap * elem);
    *cap = ncap;
    return items;
}

struct sms_fact *user_data_add_sms(struct user_data *u)
{
    struct arena *a = owner(u);
    struct sms_fact *f;

    if (u->sms_count >= USER_DATA_MAX_SMS)
        return NULL;
    u->sms = grow(u->sms, &a->sms_cap, u->sms_count, sizeof(*u->sms));
    f = &u->sms[u->sms_count++];
    memset(f, 0, sizeof(*f));
    f->direction = SMS_DIRECTION_NONE;
    f->amount = NAN;
    f->available_balance = NAN;
    f->credit_limit = NAN;
    f->available_limit = NAN;
    f->due_amount = NAN;
    f->min_due = NAN;
    f->overdue_amount = NAN;
    f->days_past_due = NAN;
    return f;
}

void user_data_truncate_sms(struct user_data *u, size_t n)
{
    if (n < u->sms_count)
        u->sms_count = n;
}

struct app_fact *user_data_add_app(struct user_data *u)
{
    struct arena *a = owner(u);
    struct app_fact *app;

    if (u->apps_count >= USER_DATA_MAX_APPS)
        return NULL;
    u->apps = grow(u->apps, &a->apps_cap, u->apps_count, sizeof(*u->apps));
    app = &u->apps[u->apps_count++];
    memset(app, 0, sizeof(*app));
    return app;
}

struct app_fact *user_data_find_app(struct user_data *u, const char *package_name)
{
    if (!package_name)
        return NULL;
    for (size_t i = 0; i < u->apps_count; i++)
        if (u->apps[i].package_name && strcmp(u->apps[i].package_name, package_name) == 0)
            return &u->apps[i];
    return NULL;
}

bool user_data_app_after(const struct app_fact *a, int64_t as_of)
{
    return a->install_ts > as_of;
}

void user_data_cut(struct user_data *u, int64_t as_of)
{
    size_t kept = 0;

    for (size_t i = 0; i < u->apps_count; i++) {
        struct app_fact *a = &u->apps[i];

        if (user_data_app_after(a, as_of))
            continue;
        if (a->update_ts > as_of)
            a->update_ts = 0; /* the update we know of came later: unknown at as_of */
        u->apps[kept++] = *a;
    }
    u->apps_count = kept;
    if (u->apps_state == SOURCE_OK && kept == 0)
        u->apps_state = SOURCE_EMPTY;
    if (u->device_state == SOURCE_OK && u->device.captured_ts > as_of) {
        user_data_device_clear(&u->device);
        u->device_state = SOURCE_EMPTY;
    }
}

/*
 * Stable merge sort by ts (qsort is not stable, and equal times must keep
 * the extractor's order so replies are reproducible).
 */
static void sms_merge_sort(struct sms_fact *v, struct sms_fact *tmp, size_t n)
{
    size_t mid = n / 2, i = 0, j = mid, k = 0;

    if (n < 2)
        return;
    sms_merge_sort(v, tmp, mid);
    sms_merge_sort(v + mid, tmp, n - mid);
    if (v[mid - 1].ts <= v[mid].ts)
        return;
    while (i < mid && j < n)
        tmp[k++] = v[j].ts < v[i].ts ? v[j++] : v[i++];
    while (i < mid)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

void user_data_sort_sms(struct user_data *u)
{
    struct sms_fact *tmp;

    if (u->sms_count < 2)
        return;
    tmp = alloc_bytes(u->sms_count * sizeof(*tmp));
    sms_merge_sort(u->sms, tmp, u->sms_count);
    free(tmp);
}

/* ---- raw messages ------------------------------------------------------- */

void raw_sms_list_init(struct raw_sms_list *l)
{
    memset(l, 0, sizeof(*l));
}

void raw_sms_list_free(struct raw_sms_list *l)
{
    if (!l)
        return;
    arena_free(l->arena, true);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

int raw_sms_list_add(struct raw_sms_list *l, const char *sms_id, size_t id_len, const char *sender,
                     size_t sender_len, const char *body, size_t body_len, int64_t ts)
{
    struct raw_sms *m;

    if (l->count >= USER_DATA_MAX_SMS)
        return -1;
    if (!l->arena)
        l->arena = arena_new();
    l->items = grow(l->items, &l->cap, l->count, sizeof(*l->items));
    m = &l->items[l->count];
    m->sms_id = arena_strndup(l->arena, sms_id ? sms_id : "", sms_id ? id_len : 0);
    m->sender = sender ? arena_strndup(l->arena, sender, sender_len) : NULL;
    m->body = arena_strndup(l->arena, body ? body : "", body ? body_len : 0);
    m->body_len = body ? body_len : 0;
    m->ts = ts;
    m->seq = (uint32_t)l->count;
    l->count++;
    return 0;
}

/* FNV-1a of a NUL-terminated id. */
static uint64_t id_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/*
 * One pass with a hash table of the ids seen (open addressing, at most half
 * full), instead of sorting by id: a sort by id was a strcmp per comparison,
 * ~23,000 of them for a 2,000-message user, and the sort by time follows
 * anyway. A later copy of an id drops the one in the table.
 */
void raw_sms_list_dedupe(struct raw_sms_list *l)
{
    size_t size = 16, out = 0;
    uint32_t *table;      /* index + 1 of the latest message with an id; 0: empty */
    unsigned char *later; /* 1: a later message has the same id */

    if (l->count < 2)
        return;
    while (size < 2 * l->count)
        size *= 2;
    table = alloc_zeroed(size, sizeof(*table));
    later = alloc_zeroed(l->count, 1);
    for (size_t i = 0; i < l->count; i++) {
        size_t k = (size_t)id_hash(l->items[i].sms_id) & (size - 1);

        while (table[k] && strcmp(l->items[table[k] - 1].sms_id, l->items[i].sms_id) != 0)
            k = (k + 1) & (size - 1);
        if (table[k])
            later[table[k] - 1] = 1;
        table[k] = (uint32_t)i + 1;
    }
    for (size_t i = 0; i < l->count; i++)
        if (!later[i])
            l->items[out++] = l->items[i];
    l->count = out;
    free(table);
    free(later);
}

static int cmp_ts_then_seq(const void *a, const void *b)
{
    const struct raw_sms *x = a, *y = b;

    int c;

    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    c = strcmp(x->sms_id, y->sms_id);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void raw_sms_list_sort(struct raw_sms_list *l)
{
    if (l->count > 1)
        qsort(l->items, l->count, sizeof(*l->items), cmp_ts_then_seq);
}

void raw_sms_list_cut(struct raw_sms_list *l, int64_t as_of)
{
    size_t lo = 0, hi = l->count;

    /* sorted by ts: keep the prefix dated at or before as_of (the rest stays in the arena,
     * wiped with it) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (l->items[mid].ts <= as_of)
            lo = mid + 1;
        else
            hi = mid;
    }
    l->count = lo;
}

void raw_sms_list_keep_latest(struct raw_sms_list *l, size_t n)
{
    size_t drop;

    if (n == 0 || l->count <= n)
        return;
    drop = l->count - n;
    memmove(l->items, l->items + drop, n * sizeof(*l->items));
    l->count = n;
}
