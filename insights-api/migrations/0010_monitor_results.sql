-- SPDX-License-Identifier: Apache-2.0
-- Model monitoring results (issue 18; docs/monitoring.md), written by `insights-api monitor`:
-- one row per number, long format, so a new metric or predictor needs no migration. A run is
-- every row of one run_at. Per score, model version, arm and shadow flag:
--   metric 'volume'            predictions in the window (value)
--   metric 'labelled'          predictions joined to an outcome (value)
--   metric 'bad_rate'          share of labelled predictions whose outcome is bad
--   metric 'auc', 'ks'         on the labelled predictions; reference = the model's training AUC/KS
--   metric 'psi'               feature 'score' or a predictor name; top = a top predictor
--   metric 'calibration'       bin = score decile 0..9; value = observed bad rate,
--                              mean_pred = mean score, count = predictions in the decile
-- The rows hold aggregates only (no borrower data): they are not partitioned or erased by
-- `forget`, and are kept for the PSI-over-time chart of `insights-api report`.
CREATE TABLE IF NOT EXISTS monitor_results (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_at timestamptz NOT NULL,
    window_start timestamptz NOT NULL,
    window_end timestamptz NOT NULL,
    score_name text NOT NULL,
    model_version text NOT NULL,
    arm text NOT NULL,
    shadow boolean NOT NULL,
    metric text NOT NULL,
    feature text NOT NULL DEFAULT '',
    top boolean NOT NULL DEFAULT false,
    bin integer,
    value double precision,
    reference double precision,
    mean_pred double precision,
    count bigint
);
CREATE INDEX IF NOT EXISTS monitor_results_run_at_idx ON monitor_results (run_at);
CREATE INDEX IF NOT EXISTS monitor_results_model_idx
    ON monitor_results (score_name, model_version, arm, metric, run_at);
