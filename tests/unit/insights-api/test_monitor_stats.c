/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the monitoring statistics (insights-api/monitor_stats.h) on small
 * fixtures worked out by hand (the arithmetic is in each comment). The same
 * functions are checked against scikit-learn on thousands of rows by
 * tests/integration/test_ins_monitor.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "insights-api/monitor_stats.h"

/*
 * Reference counts 4,3,2,1 against current 1,2,3,4 (k = 4 bins, smoothing 0.5 per bin):
 *   e = (4.5, 3.5, 2.5, 1.5) / 12, a = (1.5, 2.5, 3.5, 4.5) / 12
 *   bin 0: (1.5-4.5)/12 ln(1.5/4.5) = -0.25 x -ln 3   = 0.25 ln 3
 *   bin 1: (2.5-3.5)/12 ln(2.5/3.5) = -1/12 x -ln 1.4 = ln(1.4) / 12
 *   bin 2: (3.5-2.5)/12 ln(3.5/2.5) =  1/12 x  ln 1.4 = ln(1.4) / 12
 *   bin 3: (4.5-1.5)/12 ln(4.5/1.5) =  0.25 x  ln 3   = 0.25 ln 3
 *   PSI = 0.5 ln 3 + ln(1.4) / 6 = 0.549306144334055 + 0.056078706103535 = 0.605384850437590
 */
static void psi_by_hand(void **state)
{
    double ref[] = {4, 3, 2, 1}, cur[] = {1, 2, 3, 4};

    (void)state;
    assert_true(fabs(mon_psi(ref, cur, 4) - 0.605384850437590) < 1e-12);
    assert_true(fabs(mon_psi(ref, ref, 4)) < 1e-15);
}

/*
 * An empty reference bin is smoothed, not a division by zero: reference 10,0 against 5,5
 *   e = (10.5, 0.5) / 11, a = (5.5, 5.5) / 11
 *   PSI = (-5/11) ln(5.5/10.5) + (5/11) ln(5.5/0.5) = (5/11) ln(10.5 x 11 / 5.5) = (5/11) ln 21
 *       = 0.454545454545455 x 3.044522437723423 = 1.383873835328829
 */
static void psi_empty_bin_smoothed(void **state)
{
    double ref[] = {10, 0}, cur[] = {5, 5}, none[] = {0, 0};

    (void)state;
    assert_true(fabs(mon_psi(ref, cur, 2) - 1.383873835328829) < 1e-12);
    assert_true(isnan(mon_psi(ref, none, 2)));
    assert_true(isnan(mon_psi(none, cur, 2)));
}

/*
 * scores 0.1 0.4 0.35 0.8, bad 0 0 1 1: of the 4 (bad, good) pairs, 3 rank the bad one
 * higher (0.35>0.1, 0.8>0.1, 0.8>0.4; 0.35<0.4): AUC 3/4. Thresholds from the top: 0.8
 * (tpr 1/2, fpr 0), 0.4 (1/2, 1/2), 0.35 (1, 1/2), 0.1 (1, 1): KS = max(tpr-fpr) = 1/2.
 */
static void auc_ks_by_hand(void **state)
{
    double s[] = {0.1, 0.4, 0.35, 0.8};
    bool bad[] = {false, false, true, true};

    (void)state;
    assert_true(fabs(mon_auc(s, bad, 4) - 0.75) < 1e-15);
    assert_true(fabs(mon_ks(s, bad, 4) - 0.5) < 1e-15);
}

/* A tie between a bad and a good counts half: AUC 1/2; tpr-fpr moves 0 -> 0: KS 0. */
static void auc_ties_and_one_class(void **state)
{
    double s[] = {0.5, 0.5};
    bool bad[] = {false, true}, all_bad[] = {true, true};

    (void)state;
    assert_true(fabs(mon_auc(s, bad, 2) - 0.5) < 1e-15);
    assert_true(fabs(mon_ks(s, bad, 2)) < 1e-15);
    assert_true(isnan(mon_auc(s, all_bad, 2)));
    assert_true(isnan(mon_ks(s, all_bad, 2)));
}

/* A NaN score (a null read as a number) gives NaN, not a hang in the tie groups. */
static void nan_score_refused(void **state)
{
    double s[] = {0.2, NAN, 0.4};
    bool bad[] = {false, true, true};
    struct mon_calibration_bin out[MON_DECILES];

    (void)state;
    assert_true(isnan(mon_auc(s, bad, 3)));
    assert_true(isnan(mon_ks(s, bad, 3)));
    assert_int_equal(mon_calibration(s, bad, 3, out), 0);
}

/* Edges 1,2,3: (-inf,1] -> 0, (1,2] -> 1, (2,3] -> 2, above -> 3, NaN -> 4 */
static void bins_right_closed(void **state)
{
    double e[] = {1, 2, 3};

    (void)state;
    assert_int_equal(mon_bin_of(e, 3, 0.5), 0);
    assert_int_equal(mon_bin_of(e, 3, 1), 0);
    assert_int_equal(mon_bin_of(e, 3, 1.5), 1);
    assert_int_equal(mon_bin_of(e, 3, 2), 1);
    assert_int_equal(mon_bin_of(e, 3, 3), 2);
    assert_int_equal(mon_bin_of(e, 3, 9), 3);
    assert_int_equal(mon_bin_of(e, 3, NAN), 4);
}

/*
 * Scores 0.05, 0.15, ..., 0.95 (10 values): numpy's percentiles at q = 0.1 i put edge i at
 * index 0.9 i, so each score sits alone in its own decile (0.15 lies in (0.14, 0.23]),
 * bad rate = its label, mean_pred = the score itself.
 */
static void calibration_one_per_decile(void **state)
{
    double s[10];
    bool bad[10];
    struct mon_calibration_bin out[MON_DECILES];

    (void)state;
    for (int i = 0; i < 10; i++) {
        s[i] = 0.05 + 0.1 * i;
        bad[i] = i % 3 == 0;
    }
    assert_int_equal(mon_calibration(s, bad, 10, out), 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(out[i].count, 1);
        assert_true(fabs(out[i].mean_pred - s[i]) < 1e-15);
        assert_true(out[i].bad_rate == (bad[i] ? 1.0 : 0.0));
    }
    assert_int_equal(mon_calibration(s, bad, 0, out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(psi_by_hand),
        cmocka_unit_test(psi_empty_bin_smoothed),
        cmocka_unit_test(auc_ks_by_hand),
        cmocka_unit_test(auc_ties_and_one_class),
        cmocka_unit_test(nan_score_refused),
        cmocka_unit_test(bins_right_closed),
        cmocka_unit_test(calibration_one_per_decile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
