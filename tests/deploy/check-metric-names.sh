#!/usr/bin/env bash
# Every metric the alert rules and the Grafana dashboard query must be one a daemon really
# registers: insights_<x> in insights-api/ or common/, smsx_<x> in sms-extraction/ or common/
# (the daemons register "<x>" under their prefix; common/metrics.c prints "%s<x>"). A renamed metric
# would otherwise leave a silent alert. kube_*/container_* come from kube-state-metrics and
# cAdvisor and are not checked. usage: tests/deploy/check-metric-names.sh (repo root)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
bad=0
n=0
names=$(grep -ohE '\b(insights|smsx)_[a-z0-9_]+' deploy/observability/alerts.yml \
    deploy/observability/grafana-dashboard.json | sed -E 's/_(bucket|sum|count)$//' | sort -u)
for m in $names; do
    n=$((n + 1))
    case "$m" in
    insights_*) dirs="insights-api common" base=${m#insights_} ;;
    smsx_*) dirs="sms-extraction common" base=${m#smsx_} ;;
    esac
    # shellcheck disable=SC2086
    if grep -rqE "\"$base\"|%s$base\b" --include='*.c' $dirs; then
        echo "ok   metric $m"
    else
        echo "FAIL metric $m: no \"$base\" registered in $dirs"
        bad=$((bad + 1))
    fi
done
echo "check-metric-names: $((n - bad)) passed, $bad failed"
[ "$bad" = 0 ] && [ "$n" -gt 0 ]
