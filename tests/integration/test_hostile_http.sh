#!/usr/bin/env bash
# Hostile clients against both daemons' HTTP front (issue 11), each sending exactly the
# traffic of the report, with small limits set through the environment: Content-Length over
# the limit refused from the head in JSON, bodies in progress counted against
# MAX_BUFFERED_BYTES, accept paused at MAX_CONNECTIONS, HEAD without a body, slowloris cut by
# REQUEST_HEAD_TIMEOUT_MS, MAX_CONNECTIONS_PER_IP, the request-smuggling forms refused with
# 400, 415 for a non-JSON body on both daemons, one "service" key per log line, and the
# accept loop out of file descriptors (backs off, logs JSON, recovers). No timing or RSS
# assertions: each check is a status, a closed connection, or a count of log lines.
source "$(dirname "$0")/ins_lib.sh"

RAW="python3 $REPO_ROOT/tests/integration/rawhttp.py"
H='Host: x\r\n'

# log_lines_are_json LOG: every line of the daemon's output is one JSON object without
# a repeated key (a second "service" used to be added to "listening" and "stopped").
log_lines_are_json() {
    python3 - "$1" <<'PY'
import json, sys
def no_dup(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("repeated key in " + repr(keys))
    return dict(pairs)
bad = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8", errors="replace"), 1):
    try:
        json.loads(line, object_pairs_hook=no_dup)
    except ValueError as e:
        bad += 1
        if bad <= 3:
            print(f"line {n}: {e}: {line[:120]!r}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# ---- sms-extraction --------------------------------------------------------------------
start_smsx MAX_BODY_BYTES=4096 MAX_BUFFERED_BYTES=10000 MAX_CONNECTIONS=6 \
    REQUEST_HEAD_TIMEOUT_MS=500 REQUEST_TIMEOUT_MS=30000 || {
    fail "sms-extraction did not start: $(tail -n 5 "$D_LOG")"
    finish
}
P=$D_PORT

# item 1: the limit decided from the head, in our JSON, before any body byte
r=$($RAW send "$P" "POST /api/extract HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 62914560\r\n\r\n")
assert_eq "60 MB Content-Length: 413 from the head" 413 "$(jq '.responses[0].status' <<<"$r")"
assert_eq "... in our JSON" body_too_large "$(jq -r '.responses[0].body | fromjson | .code' <<<"$r" 2>/dev/null)"
assert_eq "... and the connection closed" true "$(jq .closed <<<"$r")"
r=$($RAW send "$P" "POST /api/extract HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 8000\r\n\r\n")
assert_eq "just over MAX_BODY_BYTES, body unsent: 413 at once" 413 "$(jq '.responses[0].status' <<<"$r")"

# item 1: two stalled uploads of 4,000 bytes hold 8,002 of the 10,000-byte budget
r=$($RAW partial "$P" 2 4000)
assert_eq "a third body past MAX_BUFFERED_BYTES: 503" 503 "$(jq .status <<<"$r")"
assert_eq "... overloaded" overloaded "$(jq -r '.body | fromjson | .code' <<<"$r" 2>/dev/null)"
assert_true "... with Retry-After" test -n "$(jq -r '.headers["retry-after"] // empty' <<<"$r")"

# item 1: at MAX_CONNECTIONS accept pauses; the next client is served once one leaves
r=$($RAW capped "$P" 6)
assert_eq "the 7th connection waits while 6 are open" false "$(jq .answered_at_cap <<<"$r")"
assert_eq "... and is served when one closes" true "$(jq .answered_after_close <<<"$r")"

# item 3: HEAD has Content-Length and no body; the next reply follows at once
r=$($RAW head "$P" "HEAD /health HTTP/1.1\r\n${H}\r\nGET /health HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
assert_eq "HEAD /health: 200" 200 "$(jq .status <<<"$r")"
assert_eq "... with the length GET would send" 15 "$(jq -r '.headers["content-length"]' <<<"$r")"
assert_eq "... and no body: the next reply starts right after" "HTTP/1.1 200" "$(jq -r .next <<<"$r")"
r=$($RAW head "$P" "HEAD /api/extract HTTP/1.1\r\n${H}\r\nGET /health HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
assert_eq "HEAD /api/extract: 405 without a body" "405 HTTP/1.1 200" "$(jq -r '"\(.status) \(.next)"' <<<"$r")"

# item 7: slowloris, a header byte every 100 ms, is cut at REQUEST_HEAD_TIMEOUT_MS
r=$($RAW slowloris "$P" 8)
assert_eq "slowloris: 408" 408 "$(jq .status <<<"$r")"
assert_eq "... and closed (after $(jq .seconds <<<"$r") s, not the 8 s it kept sending)" true \
    "$(jq .closed <<<"$r")"

# item 8: what a proxy and we could read two ways is 400 before routing
smuggle() { # NAME REQUEST STATUS
    local r
    r=$($RAW send "$P" "$2")
    assert_eq "$1: $3" "$3" "$(jq '.responses[0].status' <<<"$r")"
    [ "$3" -ge 400 ] && assert_eq "$1: connection closed" true "$(jq .closed <<<"$r")"
}
J='Content-Type: application/json\r\n'
smuggle "two different Content-Lengths" "POST /api/extract HTTP/1.1\r\n${H}${J}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" 400
smuggle "Content-Length: +2" "POST /api/extract HTTP/1.1\r\n${H}${J}Content-Length: +2\r\n\r\n{}" 400
smuggle "a space before the colon" "POST /api/extract HTTP/1.1\r\n${H}${J}Content-Length : 2\r\n\r\n{}" 400
smuggle "a NUL cutting a value" "GET /health HTTP/1.1\r\n${H}X-Token: token\x00junk\r\n\r\n" 400
smuggle "Content-Length with chunked" "POST /api/extract HTTP/1.1\r\n${H}${J}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" 400
smuggle "a bad chunk size" "POST /api/extract HTTP/1.1\r\n${H}${J}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n" 400
smuggle "gzip before chunked: 501" "POST /api/extract HTTP/1.1\r\n${H}${J}Transfer-Encoding: gzip, chunked\r\n\r\n" 501
smuggle "HTTP/2.0 as text: 505" "GET /health HTTP/2.0\r\n${H}\r\n" 505
smuggle "an Expect we do not know: 417" "POST /api/extract HTTP/1.1\r\n${H}${J}Expect: magic\r\nContent-Length: 2\r\n\r\n" 417
big=$(printf 'a%.0s' $(seq 17000))
smuggle "a 17 KB header: 431" "GET /health HTTP/1.1\r\n${H}X-Big: $big\r\n\r\n" 431
r=$($RAW send "$P" "POST /api/extract HTTP/1.1\r\n${H}${J}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2;ext=1\r\n{}\r\n0\r\n\r\n")
assert_eq "chunk extensions are accepted (the body reaches validation: 422)" 422 \
    "$(jq '.responses[0].status' <<<"$r")"

# item 12 on sms-extraction
r=$($RAW send "$P" "POST /api/extract HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}")
assert_eq "text/plain: 415" 415 "$(jq '.responses[0].status' <<<"$r")"
http GET "$D_URL/health"
assert_eq "still healthy after all of it" 200 "$H_STATUS"
stop_daemon
assert_eq "stops cleanly" 0 "$D_EXIT"
assert_true "every log line is JSON with no repeated key (one \"service\")" log_lines_are_json "$D_LOG"

# ---- item 4: out of file descriptors ---------------------------------------------------
DAEMON_WRAPPER="prlimit --nofile=64 --" start_smsx MAX_CONNECTIONS=1000 || {
    fail "sms-extraction did not start under a 64-descriptor limit: $(tail -n 5 "$D_LOG")"
    finish
}
r=$($RAW hold "$D_PORT" 150 3)
assert_true "150 connections opened against 64 descriptors ($(jq .opened <<<"$r"))" \
    test "$(jq .opened <<<"$r")" -ge 100
warnings=$(grep -c 'out of file descriptors' "$D_LOG")
assert_true "accept backs off: $warnings warning line(s) in 3 s, not a spin" test "$warnings" -ge 1 -a "$warnings" -le 3
for i in $(seq 50); do
    http GET "$D_URL/health"
    [ "$H_STATUS" = 200 ] && break
    sleep 0.1
done
assert_eq "healthy again once the clients left" 200 "$H_STATUS"
assert_true "the descriptors came back (refused count in /metrics)" \
    bash -c "curl -s '$D_ADMIN_URL/metrics' | grep -q 'http_connections_refused_total{reason=\"out_of_descriptors\"}'"
stop_daemon
assert_true "... and every log line stayed JSON (no plain-text warnings)" log_lines_are_json "$D_LOG"

# ---- insights-api ----------------------------------------------------------------------
# MAX_BODY_BYTES 64 MiB: a 60 MB body passes the 413 from the head, so what refuses it
# without credentials is the credentials check from the head (issue 11, item 1)
start_insights DEMO_CLIENTS="$INS_CLIENT:tok-hostile" MAX_BODY_BYTES=67108864 || {
    fail "insights-api did not start: $(tail -n 5 "$D_LOG")"
    finish
}
privacy_secret tok-hostile
P=$D_PORT
C="x-client-id: $INS_CLIENT\r\nx-auth-token: tok-hostile\r\n"
B='{"user_id":"u1","client_id":"'$INS_CLIENT'","sms_data":[],"apps_data":[],"device_data":null}'
L=${#B}
for ct in "text/plain" "multipart/form-data; boundary=zz" "application/x-www-form-urlencoded"; do
    r=$($RAW send "$P" "POST /api/generate_features HTTP/1.1\r\n${H}${C}Content-Type: $ct\r\nContent-Length: $L\r\nConnection: close\r\n\r\n$B")
    assert_eq "insights-api, $ct with valid credentials: 415" 415 "$(jq '.responses[0].status' <<<"$r")"
done
r=$($RAW send "$P" "POST /api/generate_features HTTP/1.1\r\n${H}${C}Content-Type: application/json\r\nContent-Length: $L\r\nConnection: close\r\n\r\n$B")
assert_eq "... application/json: 200" 200 "$(jq '.responses[0].status' <<<"$r")"
r=$($RAW send "$P" "POST /api/generate_features HTTP/1.1\r\n${H}${C}x-auth-token: other\r\nContent-Type: application/json\r\nContent-Length: $L\r\n\r\n$B")
assert_eq "a second x-auth-token: 400" 400 "$(jq '.responses[0].status' <<<"$r")"
r=$($RAW send "$P" "POST /api/generate_features HTTP/1.1\r\n${H}x-client-id: $INS_CLIENT\r\nx-client-id: other\r\nx-auth-token: tok-hostile\r\nContent-Type: application/json\r\nContent-Length: $L\r\n\r\n$B")
assert_eq "a second x-client-id: 400" 400 "$(jq '.responses[0].status' <<<"$r")"
r=$($RAW send "$P" "POST /api/generate_features HTTP/1.1\r\n${H}x-client-id: $INS_CLIENT\r\nx-auth-token: tok-hostile\x00junk\r\nContent-Type: application/json\r\nContent-Length: $L\r\n\r\n$B")
assert_eq "a NUL after the token: 400 (it used to authenticate)" 400 "$(jq '.responses[0].status' <<<"$r")"
r=$($RAW send "$P" "POST /api/generate_features HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 83886080\r\n\r\n")
assert_eq "80 MB without a token: 413 from the head" 413 "$(jq '.responses[0].status' <<<"$r")"
# 60 MB announced, not one body byte sent: the credentials are checked from the head, so the
# refusal comes without the body (main waited for 60 MB it would have buffered)
r=$($RAW send "$P" "POST /api/generate_features HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 62914560\r\n\r\n" --wait 5)
assert_eq "60 MB without a token: 401 before the body" 401 "$(jq '.responses[0].status' <<<"$r")"
r=$($RAW send "$P" "POST /api/generate_features HTTP/1.1\r\n${H}x-client-id: $INS_CLIENT\r\nx-auth-token: wrong\r\nContent-Type: application/json\r\nContent-Length: 62914560\r\nExpect: 100-continue\r\n\r\n" --wait 5)
assert_eq "60 MB with a wrong token and Expect: 401, no 100 Continue" "401 1" \
    "$(jq -r '"\(.responses[0].status) \(.responses | length)"' <<<"$r")"
r=$($RAW send "$P" "POST /api/generate_features HTTP/1.1\r\n${H}${C}Content-Type: application/json\r\nContent-Length: 62914560\r\nExpect: 100-continue\r\n\r\n" --wait 2)
assert_eq "... the same with valid credentials: 100 Continue, then the body is awaited" "100 1" \
    "$(jq -r '"\(.responses[0].status) \(.responses | length)"' <<<"$r")"
r=$($RAW head "$P" "HEAD /health HTTP/1.1\r\n${H}\r\nGET /health HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
assert_eq "insights-api HEAD /health: no body, in step" "200 HTTP/1.1 200" "$(jq -r '"\(.status) \(.next)"' <<<"$r")"
stop_daemon "$INS_PID"
assert_true "insights-api log lines are JSON with one \"service\"" log_lines_are_json "$D_LOG"
finish
