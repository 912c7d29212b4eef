#!/usr/bin/env bash
# `insights-api monitor` as the k8s CronJob runs it (k8s/base/monitor-cronjob.yaml,
# docs/monitoring.md): `--since 30d`, a window ending now, and `--push URL`, the gauges PUT to
# a Pushgateway group. Against the real PostgreSQL peer and a small HTTP receiver standing in
# for the Pushgateway. Planted log, worked out by hand: 4 predictions 10 days old (scores 0.1
# good, 0.35 good, 0.4 bad, 0.8 bad: AUC 1) and one 40 days old (0.9 good). `--since 30d`
# must see 4 (AUC 1), `--since 60d` 5 (AUC 4/6). The pushed body equals the --prom file byte
# for byte; a Pushgateway answering 500 fails the run (exit 1) naming the status, never the
# URL (it may carry credentials); an unparsable relative window is refused.
source "$(dirname "$0")/ins_lib.sh"

: "${PGPORT:?run through scripts/run-integration.sh (needs PostgreSQL)}"
db="ins_monitor_push_$$"
use_database "$db"
"$BUILD/insights-api" migrate >/dev/null || fail "migrate failed"

q "INSERT INTO prediction_log (created_at, request_id, client_id, user_key, score_name,
    model_version, arm, shadow, value) VALUES
    (now() - interval '10 days', 'r1', 'c', 'u1', 'credeau_payday_score', 'demo-payday-v2', 'a', false, 0.1),
    (now() - interval '10 days', 'r2', 'c', 'u2', 'credeau_payday_score', 'demo-payday-v2', 'a', false, 0.35),
    (now() - interval '10 days', 'r3', 'c', 'u3', 'credeau_payday_score', 'demo-payday-v2', 'a', false, 0.4),
    (now() - interval '10 days', 'r4', 'c', 'u4', 'credeau_payday_score', 'demo-payday-v2', 'a', false, 0.8),
    (now() - interval '40 days', 'r5', 'c', 'u5', 'credeau_payday_score', 'demo-payday-v2', 'a', false, 0.9);
   INSERT INTO outcomes (client_id, user_key, request_id, outcome, observed_at) VALUES
    ('c', 'u1', 'r1', 'good', now()), ('c', 'u2', 'r2', 'good', now()),
    ('c', 'u3', 'r3', 'bad', now()), ('c', 'u4', 'r4', 'bad', now()),
    ('c', 'u5', 'r5', 'good', now())" >/dev/null || fail "planting the log failed"

# The stand-in Pushgateway: answers STATUS to every request, keeps the last one's method,
# path, Content-Type and body.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T_TMP/gateway.py" <<'EOF'
import http.server, sys
out, status = sys.argv[2], int(sys.argv[3])
class H(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out + ".body", "wb") as f:
            f.write(body)
        with open(out + ".req", "w") as f:
            f.write(f"{self.command} {self.path} {self.headers.get('Content-Type')}\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_POST = do_PUT
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
start_gateway() {
    python3 "$T_TMP/gateway.py" "$port" "$T_TMP/gw" "$1" &
    gw_pid=$!
    for _ in $(seq 50); do
        python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' \
            "$port" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
stop_gateway() { kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null; }

start_gateway 200 || fail "the stand-in Pushgateway did not start"
url="http://127.0.0.1:$port/metrics/job/insights-model-monitor"
if "$BUILD/insights-api" monitor --since 30d --prom "$T_TMP/m.prom" --push "$url" \
    >"$T_TMP/m.out" 2>"$T_TMP/m.err"; then
    ok "monitor --since 30d --push ran"
else
    fail "monitor --since 30d --push failed: $(cat "$T_TMP/m.err")"
fi
stop_gateway
assert_eq "--since 30d sees the 4 predictions of 10 days ago, not the one of 40" "4 1" \
    "$(jq -r '"\(.volume) \(.auc)"' "$T_TMP/m.out")"
assert_eq "the window starts 30 days before the run" "t" \
    "$(q "SELECT bool_and(abs(extract(epoch from run_at - window_start) - 30 * 86400) < 1
          AND window_end = run_at) FROM monitor_results")"
assert_eq "the gauges went to the group URL with a PUT of the text format" \
    "PUT /metrics/job/insights-model-monitor text/plain; version=0.0.4" "$(cat "$T_TMP/gw.req" 2>/dev/null)"
assert_true "the pushed body is the --prom file, byte for byte" cmp -s "$T_TMP/gw.body" "$T_TMP/m.prom"
assert_contains "the pushed body has the AUC gauge" "$(cat "$T_TMP/gw.body" 2>/dev/null)" \
    'insights_model_auc{score="credeau_payday_score",version="demo-payday-v2",arm="a",shadow="false"} 1'

"$BUILD/insights-api" monitor --since 60d >"$T_TMP/m60.out" 2>&1 || fail "monitor --since 60d failed"
assert_eq "--since 60d also sees the one of 40 days ago (AUC 4/6)" "5 0.66667" \
    "$(jq -r '"\(.volume) \(.auc * 100000 | round / 100000)"' "$T_TMP/m60.out")"

start_gateway 500 || fail "the stand-in Pushgateway did not start"
secret="pw-$$-$RANDOM"
if "$BUILD/insights-api" monitor --since 30d --push "http://ops:$secret@127.0.0.1:$port/metrics/job/x" \
    >/dev/null 2>"$T_TMP/p500.err"; then
    fail "a Pushgateway answering 500 did not fail the run"
else
    assert_contains "a Pushgateway answering 500 fails the run naming the status" \
        "$(cat "$T_TMP/p500.err")" "pushing the gauges failed: HTTP 500"
fi
stop_gateway
assert_not_contains "the failed push does not echo the URL's credentials" "$(cat "$T_TMP/p500.err")" "$secret"

before=$(q "SELECT count(*) FROM monitor_results")
if "$BUILD/insights-api" monitor --since 30days >/dev/null 2>"$T_TMP/bad.err"; then
    fail "an unparsable relative --since was accepted"
else
    assert_contains "an unparsable relative --since is refused" "$(cat "$T_TMP/bad.err")" "monitor failed:"
fi
assert_eq "a refused run writes no row" "$before" "$(q "SELECT count(*) FROM monitor_results")"
psql_q postgres "DROP DATABASE $db" >/dev/null
finish
