/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `insights-api report --since DATE --out DIR` (docs/monitoring.md, "The report"): one
 * self-contained HTML page (inline SVG, no script, no link, nothing fetched) with the score
 * distribution per arm, the ROC curves, the PSI of the score over time and the calibration
 * table, and the same numbers as CSV (DIR/report.html, DIR/report.csv). Each chart draws
 * exactly one mark per CSV row of that chart, at the row's values.
 */
#ifndef INSIGHTS_REPORT_H
#define INSIGHTS_REPORT_H

#include <libpq-fe.h>
#include <stddef.h>

/* 0, or -1 with err set (nothing is left half-written under DIR's report names). */
int report_run(PGconn *conn, const char *since, const char *out_dir, char *err, size_t err_len);

#endif
