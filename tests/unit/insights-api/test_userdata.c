/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the user_data builder and the raw message list
 * (insights-api/userdata_build.h): ownership (everything freed by one call,
 * checked under valgrind/ASan), stable sorting, dedupe keeping the latest
 * copy, caps, and the "most recent N" cut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "insights-api/userdata_build.h"

static void test_init_and_free(void **state)
{
    struct user_data u;
    struct user_data zero = {0};

    (void)state;
    user_data_init(&u, "client-a", "user-1", 1700000000);
    assert_string_equal(u.client_id, "client-a");
    assert_string_equal(u.user_id, "user-1");
    assert_int_equal(u.now, 1700000000);
    assert_int_equal(u.sms_state, SOURCE_NOT_ASKED);
    assert_int_equal(u.apps_state, SOURCE_NOT_ASKED);
    assert_int_equal(u.device_state, SOURCE_NOT_ASKED);
    assert_true(isnan(u.device.total_ram_mb));
    assert_null(u.device.model);
    user_data_free(&u);
    assert_null(u.owner);
    user_data_free(&u); /* twice is harmless */
    user_data_free(&zero);
    user_data_free(NULL);

    user_data_init(&u, NULL, NULL, 0);
    assert_null(u.client_id);
    assert_null(user_data_strdup(&u, NULL));
    assert_null(user_data_strndup(&u, NULL, 3));
    user_data_free(&u);
}

static void test_strings_survive_growth(void **state)
{
    struct user_data u;
    const char *keep[5000];
    char buf[64];

    (void)state;
    user_data_init(&u, "c", "u", 0);
    /* enough strings to need many arena blocks, plus one larger than a block */
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "string number %d", i);
        keep[i] = user_data_strdup(&u, buf);
    }
    char *big = malloc(100000);
    memset(big, 'x', 99999);
    big[99999] = '\0';
    const char *bigcopy = user_data_strdup(&u, big);
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "string number %d", i);
        assert_string_equal(keep[i], buf);
    }
    assert_string_equal(bigcopy, big);
    assert_string_equal(user_data_strndup(&u, "abcdef", 3), "abc");
    free(big);
    user_data_free(&u);
}

static void test_sms_facts(void **state)
{
    struct user_data u;
    static const int64_t ts[] = {50, 10, 30, 10, 50, 20, 10};
    size_t n = sizeof(ts) / sizeof(ts[0]);

    (void)state;
    user_data_init(&u, "c", "u", 0);
    for (size_t i = 0; i < n; i++) {
        struct sms_fact *f = user_data_add_sms(&u);
        char id[8];

        assert_non_null(f);
        assert_true(isnan(f->amount));
        assert_true(isnan(f->available_balance));
        assert_true(isnan(f->min_due));
        assert_int_equal(f->direction, SMS_DIRECTION_NONE);
        f->ts = ts[i];
        snprintf(id, sizeof(id), "%zu", i);
        f->sms_id = user_data_strdup(&u, id);
    }
    assert_int_equal(u.sms_count, n);
    user_data_sort_sms(&u);
    /* ascending, and equal times keep insertion order */
    static const char *const want[] = {"1", "3", "6", "5", "2", "0", "4"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(u.sms[i].sms_id, want[i]);
    for (size_t i = 1; i < n; i++)
        assert_true(u.sms[i - 1].ts <= u.sms[i].ts);
    user_data_truncate_sms(&u, 3);
    assert_int_equal(u.sms_count, 3);
    user_data_truncate_sms(&u, 10);
    assert_int_equal(u.sms_count, 3);
    user_data_free(&u);
}

static void test_sort_many(void **state)
{
    struct user_data u;
    uint32_t x = 12345;

    (void)state;
    user_data_init(&u, "c", "u", 0);
    for (int i = 0; i < 3000; i++) {
        struct sms_fact *f = user_data_add_sms(&u);
        x = x * 1103515245u + 12345u;
        f->ts = (x >> 8) % 500; /* many ties */
        f->amount = i;          /* insertion order */
    }
    user_data_sort_sms(&u);
    for (size_t i = 1; i < u.sms_count; i++) {
        assert_true(u.sms[i - 1].ts <= u.sms[i].ts);
        if (u.sms[i - 1].ts == u.sms[i].ts)
            assert_true(u.sms[i - 1].amount < u.sms[i].amount);
    }
    user_data_free(&u);
}

static void test_apps(void **state)
{
    struct user_data u;
    struct app_fact *a;

    (void)state;
    user_data_init(&u, "c", "u", 0);
    a = user_data_add_app(&u);
    a->package_name = user_data_strdup(&u, "com.example.one");
    a = user_data_add_app(&u);
    a->package_name = user_data_strdup(&u, "com.example.two");
    a->install_ts = 7;
    assert_int_equal(u.apps_count, 2);
    a = user_data_find_app(&u, "com.example.two");
    assert_non_null(a);
    assert_int_equal(a->install_ts, 7);
    assert_null(user_data_find_app(&u, "com.example.three"));
    assert_null(user_data_find_app(&u, NULL));
    for (int i = 2; i < USER_DATA_MAX_APPS; i++)
        assert_non_null(user_data_add_app(&u));
    assert_null(user_data_add_app(&u)); /* the cap is an error, not growth */
    assert_int_equal(u.apps_count, USER_DATA_MAX_APPS);
    user_data_free(&u);
}

static void add(struct raw_sms_list *l, const char *id, const char *body, int64_t ts)
{
    assert_int_equal(raw_sms_list_add(l, id, strlen(id), "AX-BANK", 7, body, strlen(body), ts), 0);
}

static void test_raw_list(void **state)
{
    struct raw_sms_list l;

    (void)state;
    raw_sms_list_init(&l);
    raw_sms_list_free(&l); /* empty list */
    raw_sms_list_init(&l);
    add(&l, "a", "first copy of a", 300);
    add(&l, "b", "b", 100);
    add(&l, "c", "c", 200);
    add(&l, "a", "second copy of a", 50); /* a later sync: wins */
    add(&l, "d", "d", 100);
    assert_int_equal(raw_sms_list_add(&l, "e", 1, NULL, 99, "body", 4, 400), 0);
    assert_int_equal(l.count, 6);
    assert_null(l.items[5].sender);
    assert_string_equal(l.items[0].sender, "AX-BANK");

    raw_sms_list_dedupe(&l);
    assert_int_equal(l.count, 5);
    raw_sms_list_sort(&l);
    static const char *const ids[] = {"a", "b", "d", "c", "e"};
    for (size_t i = 0; i < l.count; i++)
        assert_string_equal(l.items[i].sms_id, ids[i]);
    assert_string_equal(l.items[0].body, "second copy of a");
    assert_int_equal(l.items[0].body_len, strlen("second copy of a"));

    raw_sms_list_keep_latest(&l, 0); /* 0 keeps all */
    assert_int_equal(l.count, 5);
    raw_sms_list_keep_latest(&l, 10);
    assert_int_equal(l.count, 5);
    raw_sms_list_keep_latest(&l, 2);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].sms_id, "c");
    assert_string_equal(l.items[1].sms_id, "e");
    raw_sms_list_free(&l);
    assert_null(l.items);
}

/*
 * Many copies of few ids, in a scattered order: after dedupe and sort, exactly the last
 * copy of each id, in (ts, id) order. The reference is a quadratic scan written here.
 */
static void test_dedupe_many(void **state)
{
    struct raw_sms_list l;
    enum { N = 5000, IDS = 700 };
    static int id_of[N];
    static int64_t ts_of[N];
    unsigned x = 12345;
    char id[16], body[32];
    size_t kept = 0;

    (void)state;
    raw_sms_list_init(&l);
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        id_of[i] = (int)((x >> 8) % IDS);
        ts_of[i] = (int64_t)((x >> 4) % 97); /* many equal times: the id decides */
        int n = snprintf(id, sizeof(id), "id%d", id_of[i]);
        int b = snprintf(body, sizeof(body), "copy %d", i);
        assert_int_equal(raw_sms_list_add(&l, id, (size_t)n, NULL, 0, body, (size_t)b, ts_of[i]),
                         0);
    }
    raw_sms_list_dedupe(&l);
    raw_sms_list_sort(&l);
    for (int i = 0; i < N; i++) {
        bool last = true;
        for (int j = i + 1; j < N && last; j++)
            last = id_of[j] != id_of[i];
        if (!last)
            continue;
        kept++;
        snprintf(body, sizeof(body), "copy %d", i);
        bool found = false;
        for (size_t k = 0; k < l.count && !found; k++)
            found = strcmp(l.items[k].body, body) == 0 && l.items[k].ts == ts_of[i];
        if (!found)
            fail_msg("the last copy of id%d (copy %d) is missing", id_of[i], i);
    }
    assert_int_equal(l.count, kept);
    for (size_t k = 1; k < l.count; k++) {
        const struct raw_sms *a = &l.items[k - 1], *b = &l.items[k];
        assert_true(a->ts < b->ts || (a->ts == b->ts && strcmp(a->sms_id, b->sms_id) < 0));
    }
    raw_sms_list_free(&l);
}

static void test_raw_cap(void **state)
{
    struct raw_sms_list l;
    char id[16];

    (void)state;
    raw_sms_list_init(&l);
    for (int i = 0; i < USER_DATA_MAX_SMS; i++) {
        int n = snprintf(id, sizeof(id), "%d", i);
        assert_int_equal(raw_sms_list_add(&l, id, (size_t)n, NULL, 0, "x", 1, i), 0);
    }
    assert_int_equal(raw_sms_list_add(&l, "over", 4, NULL, 0, "x", 1, 0), -1);
    assert_int_equal(l.count, USER_DATA_MAX_SMS);
    raw_sms_list_dedupe(&l); /* all distinct */
    assert_int_equal(l.count, USER_DATA_MAX_SMS);
    raw_sms_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_free), cmocka_unit_test(test_strings_survive_growth),
        cmocka_unit_test(test_sms_facts),     cmocka_unit_test(test_sort_many),
        cmocka_unit_test(test_apps),          cmocka_unit_test(test_raw_list),
        cmocka_unit_test(test_raw_cap),       cmocka_unit_test(test_dedupe_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
