#!/usr/bin/env bash
# A client of our own written from Credeau's documented behaviour (credeau.md §2-§3), against
# insights-api with real PostgreSQL, the MongoDB peer and a real sms-extraction (issue 15):
# sync insights; async polling as Credeau's sample client does it (200 done, 202 wait, 502/504
# retry, anything else an error) seeing 202 then 200; fetch_extracted_data without
# cnt_sms_threshold, newest first, with Credeau's record fields; a user who syncs after a
# "user not found" gets their features from async, and new data is never answered from an
# older result; with extraction down the message is not "featurization completed" (and with
# EXTRACTION_STRICT the status is one the sample client retries).
# Expected values are worked out by hand from the three messages below and credeau.md §3.2
# (whose first example record is this very SBI UPI debit of 80.0 from A/c x3028).
source "$(dirname "$0")/ins_lib.sh"

: "${PGPORT:?run through scripts/run-integration.sh (needs PostgreSQL)}"
: "${MONGO_URI:?run through scripts/run-integration.sh (needs MongoDB)}"
db="ins_credeau_$$"
use_database "$db"
# shellcheck disable=SC2046
export $(mongo_env)
tok=$("$BUILD/insights-api" client add --client "$INS_CLIENT" | jq -r .token)
privacy_secret "$tok"

# --- the user's messages, by hand --------------------------------------------------------
ms() { echo $(($(TZ=Asia/Kolkata date -d "$1" +%s) * 1000)); }
body1="Dear UPI user A/C X3028 debited by 80.0 on date 22Sep26 trf to VINOD KUMAR SAH Refno 526512345678. If not u? call 1800111109. -SBI"
body2="Your parcel is out for delivery today $(privacy_marker pm)"
body3="Dear SBI User, your A/c X3028-credited by Rs.1500 on 23Sep26 transfer from RAMESH KUMAR Ref No 526698765432 -SBI"
uid="cc-user-$$"
# user_file OUT N: the user with the first N of the messages (m1 oldest .. m3 newest, m4 newer).
user_file() {
    jq -n --arg c "$INS_CLIENT" --arg u "$uid" --argjson n "$2" \
        --arg b1 "$body1" --arg b2 "$body2" --arg b3 "$body3" \
        --argjson t1 "$(ms '2026-09-22 16:27:01')" --argjson t2 "$(ms '2026-09-23 10:00:00')" \
        --argjson t3 "$(ms '2026-09-23 18:45:00')" --argjson t4 "$(ms '2026-09-24 09:00:00')" \
        '{client_id: $c, user_id: $u, apps: [], device: {},
          sms: [{sms_id: "m1", sms_sender: "VM-SBIUPI", sms_body: $b1, sms_inbox_date: $t1},
                {sms_id: "m2", sms_sender: "VM-ZQXWVU", sms_body: $b2, sms_inbox_date: $t2},
                {sms_id: "m3", sms_sender: "AD-SBIUPI", sms_body: $b3, sms_inbox_date: $t3},
                {sms_id: "m4", sms_sender: "VM-ZQXWVU", sms_body: "Parcel delivered", sms_inbox_date: $t4}
               ][0:$n]}' >"$1"
}
load_one() { MONGO_URI=$MONGO_URI "$BUILD/tools/load-user" --drop --syncs 1 "$1" >/dev/null; }

start_smsx_bg || fail "sms-extraction did not start"
start_insights || {
    fail "insights-api did not start: $(tail -n 5 "$D_LOG")"
    finish
}

# --- async polling as Credeau's sample client does it ------------------------------------
# poll BODYFILE: POST until 200 (max_retries 20, retry_delay 0.5 s); 202, 502 and 504 are
# retried, anything else stops. Sets H_* to the last reply and SEEN to the statuses seen.
poll() {
    SEEN=
    for _ in $(seq 20); do
        api /api/async_insights "$1" "$INS_CLIENT" "$tok"
        SEEN="$SEEN $H_STATUS"
        case $H_STATUS in
        200) return 0 ;;
        202 | 502 | 504) sleep 0.5 ;;
        *) return 1 ;;
        esac
    done
    return 1
}

# --- a user who syncs after asking --------------------------------------------------------
insights_body "$T_TMP/all.json" "$uid"
poll "$T_TMP/all.json"
assert_eq "async before the user synced: 202 then 200" "202 200" "$(echo $SEEN)"
assert_eq "... user not found" "user not found" "$(jqr .message)"
user_file "$T_TMP/u3.json" 3
load_one "$T_TMP/u3.json" || fail "load-user failed"
poll "$T_TMP/all.json"
assert_eq "async after the user synced: 202 then 200 (never the old 'user not found')" \
    "202 200" "$(echo $SEEN)"
assert_eq "... featurization completed" "featurization completed" "$(jqr .message)"
assert_eq "... all three messages counted" 3 "$(jqr .all_sms_count_nlp)"
job1=$(jqr .request_id)
poll "$T_TMP/all.json"
assert_eq "the same data again: the finished result, at once" "200 $job1" "$(echo $SEEN) $(jqr .request_id)"

# --- sync ---------------------------------------------------------------------------------
api /api/insights "$T_TMP/all.json" "$INS_CLIENT" "$tok"
assert_eq "sync insights: 200 featurization completed" "200 featurization completed" \
    "$H_STATUS $(jqr .message)"
assert_eq "... all_sms_count_nlp 3" 3 "$(jqr .all_sms_count_nlp)"
assert_true "... request_id is 32 hex digits" grep -Eq '^[0-9a-f]{32}$' <<<"$(jqr .request_id)"
assert_true "... data_requested_time and data_processed_time are YYYY-MM-DD HH:MM:SS" \
    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' \
    <<<"$(jqr .data_requested_time) $(jqr .data_processed_time)"
insights_body "$T_TMP/upper.json" "$uid" '["SMS"]'
api /api/insights "$T_TMP/upper.json" "$INS_CLIENT" "$tok"
assert_eq 'groupings ["SMS"] is "sms": 200 featurization completed' "200 featurization completed" \
    "$H_STATUS $(jqr .message)"
insights_body "$T_TMP/none.json" "nobody-$$" '[]'
api /api/insights "$T_TMP/none.json" "$INS_CLIENT" "$tok"
assert_eq 'groupings [] for an unknown user: 200 user not found' "200 user not found" \
    "$H_STATUS $(jqr .message)"

# --- new data is never answered from an older result --------------------------------------
user_file "$T_TMP/u4.json" 4
load_one "$T_TMP/u4.json" || fail "load-user failed"
poll "$T_TMP/all.json"
assert_eq "async after a fourth message synced: 202 then 200" "202 200" "$(echo $SEEN)"
assert_eq "... all_sms_count_nlp 4 (not the old 3)" 4 "$(jqr .all_sms_count_nlp)"
load_one "$T_TMP/u3.json" || fail "load-user failed"

# --- fetch_extracted_data, as documented ---------------------------------------------------
jq -cn --arg u "$uid" --arg c "$INS_CLIENT" '{user_id: $u, client_id: $c}' >"$T_TMP/fetch.json"
api /api/fetch_extracted_data "$T_TMP/fetch.json" "$INS_CLIENT" "$tok"
assert_eq "fetch without cnt_sms_threshold: 200" 200 "$H_STATUS"
assert_eq "... newest first" "m3 m2 m1" "$(jqr '[.extracted_sms_data[].sms_id] | join(" ")')"
credeau_fields='["_id","user_id","client_id","request_id","sms_id","sms_sender","sms_inbox_date",
  "sms_body","created_at","created_date","template_hash","is_classified","is_extracted",
  "account_last_digits","transaction","transaction_party","sms_sub_type","sms_type",
  "sender_name","sender_type","sms_nlp_tag","unique_pan","is_transactional","transaction_type",
  "acc_number_nlp","transaction_nlp","unique_pan_nlp"]'
missing=$(printf '%s' "$H_BODY" | jq -c --argjson f "$credeau_fields" \
    '[.extracted_sms_data[] | . as $r | $f[] | select(. as $k | $r | has($k) | not)] | unique')
assert_eq "... every record has every field of Credeau's records (§3.2)" "[]" "$missing"
rec1() { printf '%s' "$H_BODY" | jq -r ".extracted_sms_data[2].$1"; }
rec2() { printf '%s' "$H_BODY" | jq -r ".extracted_sms_data[1].$1"; }
assert_eq "m1 as Credeau's example: sender, sender_name, sender_type, sms_sub_type" \
    "sbiupi|state bank of india|bank|bank" \
    "$(rec1 sms_sender)|$(rec1 sender_name)|$(rec1 sender_type)|$(rec1 sms_sub_type)"
assert_eq "... a debit; sms_nlp_tag is our sms_type" "debit-transaction|$(rec1 sms_type)" \
    "$(rec1 transaction_type)|$(rec1 sms_nlp_tag)"
assert_eq "... account x3028, unique_pan with the last two digits" \
    "3028|x3028|bank | state bank of india | 28|bank | state bank of india | 28" \
    "$(rec1 account_last_digits)|$(rec1 acc_number_nlp)|$(rec1 unique_pan)|$(rec1 unique_pan_nlp)"
# (jq prints 80.0 as 80: the reply text itself is checked)
assert_true "... the amount printed 80.0, as Credeau does, not 80" grep -q '"transaction":80\.0,' <<<"$H_BODY"
assert_true "... transaction_nlp too" grep -q '"transaction_nlp":80\.0,' <<<"$H_BODY"
assert_eq "... sms_body is the synced text" "$body1" "$(rec1 sms_body)"
assert_eq "... owner and request on the record" "$uid|$INS_CLIENT|$(jqr .request_id)" \
    "$(rec1 user_id)|$(rec1 client_id)|$(rec1 request_id)"
assert_true "... _id is 24 hex digits (an ObjectId's form)" grep -Eq '^[0-9a-f]{24}$' <<<"$(rec1 _id)"
assert_true "... template_hash is a UUID" \
    grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' <<<"$(rec1 template_hash)"
assert_eq "... created_date is created_at's date" "$(rec1 'created_at[0:10]')" "$(rec1 created_date)"
assert_eq "m2, an unknown sender: sender_name not_in_the_list (not null), no template" \
    "not_in_the_list|null" "$(rec2 sender_name)|$(rec2 template_hash)"

# threshold JSON: fetch with cnt_sms_threshold written exactly so (jq would print 2.0 as 2)
threshold() {
    printf '{"user_id":"%s","client_id":"%s","cnt_sms_threshold":%s}' "$uid" "$INS_CLIENT" "$1" \
        >"$T_TMP/t.json"
    api /api/fetch_extracted_data "$T_TMP/t.json" "$INS_CLIENT" "$tok"
}
for t in '"2"' '2.0' '2'; do
    threshold "$t"
    assert_eq "cnt_sms_threshold $t (pydantic accepts it): the newest 2" "200 m3 m2" \
        "$H_STATUS $(jqr '[.extracted_sms_data[].sms_id] | join(" ")')"
done
threshold 0
assert_eq "cnt_sms_threshold 0: no threshold, all 3" "200 3" "$H_STATUS $(jqr '.extracted_sms_data | length')"
threshold 2.5
assert_eq "cnt_sms_threshold 2.5: 422 int_from_float" "422 int_from_float" "$H_STATUS $(jqr '.detail[0].type')"
threshold '"ten"'
assert_eq 'cnt_sms_threshold "ten": 422 int_parsing' "422 int_parsing" "$H_STATUS $(jqr '.detail[0].type')"
threshold -1
assert_eq "cnt_sms_threshold -1: 422 greater_than_equal" "422 greater_than_equal" \
    "$H_STATUS $(jqr '.detail[0].type')"

# --- Credeau's 401 body, byte for byte but for the request_id (FastAPI's JSONResponse is
# compact: json.dumps with separators (",", ":"); the docs print it with a space) ----------
api /api/insights "$T_TMP/all.json" "$INS_CLIENT" "wrong-token"
assert_eq "wrong token: 401 with Credeau's body" \
    '401 {"error":"Could not validate credentials. (request_id=ID). It has been logged successfully on our servers. Please contact us with the request_id for assistance."}' \
    "$H_STATUS $(printf '%s' "$H_BODY" | sed -E 's/request_id=[0-9a-f]+\)/request_id=ID)/')"

# --- extraction down ----------------------------------------------------------------------
stop_daemon "$SMSX_PID"
api /api/insights "$T_TMP/all.json" "$INS_CLIENT" "$tok"
assert_eq "extraction down: 200, and the message is not 'featurization completed'" \
    "200 featurization incomplete" "$H_STATUS $(jqr .message)"
assert_eq "... failed_groups names the SMS groups" '["extracted_sms","sms"]' \
    "$(printf '%s' "$H_BODY" | jq -c '.failed_groups | sort')"
api /api/fetch_extracted_data "$T_TMP/fetch.json" "$INS_CLIENT" "$tok"
assert_eq "fetch with extraction down: 502 (the sample client retries it), not 503" 502 "$H_STATUS"
stop_daemon "$INS_PID"
start_insights EXTRACTION_STRICT=true SMS_EXTRACTOR_RETRIES=0 || {
    fail "strict insights-api did not start: $(tail -n 5 "$D_LOG")"
    finish
}
api /api/insights "$T_TMP/all.json" "$INS_CLIENT" "$tok"
assert_eq "EXTRACTION_STRICT, extraction refusing connections: 502" 502 "$H_STATUS"
stop_daemon "$INS_PID"

# Stand-ins for an sms-extraction that sheds load (503 + Retry-After, as ours does when its
# queue is full) and for one that never answers: the real one does neither on demand.
cat >"$T_TMP/peer.py" <<'PY'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
def shed(c):
    c.recv(65536)
    body = b'{"detail":"Server is overloaded, retry later","code":"overloaded"}'
    c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
              b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
              % (len(body), body))
    c.close()
while True:
    c, _ = s.accept()
    if sys.argv[2] == "shed":
        threading.Thread(target=shed, args=(c,), daemon=True).start()
    else:
        held.append(c)
PY
for mode in shed hang; do
    port=$(free_port)
    python3 "$T_TMP/peer.py" "$port" "$mode" </dev/null >/dev/null 2>&1 &
    T_PIDS+=("$!")
    for _ in $(seq 200); do port_open "$port" && break; sleep 0.05; done
    SMSX_URL=http://127.0.0.1:$port start_insights EXTRACTION_STRICT=true SMS_EXTRACTOR_RETRIES=0 \
        SMS_EXTRACTOR_TIMEOUT_MS=1000 || fail "strict insights-api ($mode) did not start: $(tail -n 5 "$D_LOG")"
    api /api/insights "$T_TMP/all.json" "$INS_CLIENT" "$tok"
    if [ $mode = shed ]; then
        assert_eq "EXTRACTION_STRICT, extraction shedding load: 503 with Retry-After" "503 yes" \
            "$H_STATUS $([ -n "$(header Retry-After)" ] && echo yes)"
    else
        assert_eq "EXTRACTION_STRICT, extraction not answering: 504 (the sample client retries it)" \
            504 "$H_STATUS"
    fi
    stop_daemon "$INS_PID"
done
psql_q postgres "DROP DATABASE $db" >/dev/null 2>&1
finish
