#!/usr/bin/env bash
# Offline checks of everything ops deploy (issues 5 and 17), with the real tools, failing on
# any error: the Kubernetes overlays rendered with `kubectl kustomize` and each object validated
# against the Kubernetes schemas (kubernetes-models, @kubernetes-models/prometheus-operator)
# and for unknown fields (TypeScript excess-property check), the policy promises
# (tests/deploy/k8s-policy.mjs), kustomize 2.0 syntax only (kubectl 1.20; with
# KUBECTL_COMPAT=<kubectl 1.20> every overlay is rendered with both and compared), the DAU
# rung overlays against tools/ladder, the PrometheusRule copy and a runbook per alert, yamllint, dockerfilelint on the Dockerfiles,
# `docker-compose config` on deploy/compose.yml, `promtool check rules` and `promtool test
# rules` on the alerts, the alert/dashboard metric names against the daemons' sources, the
# OpenAPI file (swagger-parser), and the .env examples against the daemons' --config-docs.
# Whether each overlay's configuration really starts both daemons is an integration test
# (tests/integration/test_deploy_overlays.sh: it needs the builds and the peers).
# Pinned npm packages (tests/deploy/package.json + package-lock.json) are installed into
# .deps/deploy on first use (`npm ci`); Debian packages needed: kubectl (or Google Cloud
# SDK's), nodejs/npm, yamllint, docker-compose, prometheus (promtool). A missing tool is a
# failure, not a skip. Ends with "deploy: N passed, M failed".
# usage: scripts/check-deploy.sh [BUILD_DIR]     (BUILD_DIR holds sms-extraction, insights-api)
#        scripts/check-deploy.sh --deps-only     (just install the npm packages)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
REPO_ROOT=$(pwd)
DEPS=$REPO_ROOT/.deps/deploy
BUILD=build
DEPS_ONLY=0
for a in "$@"; do
    case "$a" in
    --deps-only) DEPS_ONLY=1 ;;
    *) BUILD=$a ;;
    esac
done

# ---- npm dependencies (idempotent: npm ci only when the lock file changed) ------------------
install_deps() {
    mkdir -p "$DEPS/bin"
    if [ ! -d "$DEPS/node_modules" ] || ! cmp -s tests/deploy/package-lock.json "$DEPS/.installed-lock.json"; then
        cp tests/deploy/package.json tests/deploy/package-lock.json "$DEPS/" || return 1
        (cd "$DEPS" && npm ci --no-audit --no-fund --loglevel=error >"$DEPS/npm.log" 2>&1) || {
            tail -n 20 "$DEPS/npm.log" >&2
            return 1
        }
        cp tests/deploy/package-lock.json "$DEPS/.installed-lock.json"
    fi
    # ES modules resolve packages from their own directory: run the checkers from there.
    cp tests/deploy/*.mjs "$DEPS/bin/"
}
if ! install_deps; then
    echo "FAIL deploy: npm ci of tests/deploy/package.json into .deps/deploy failed"
    [ "$DEPS_ONLY" = 1 ] && exit 1
    echo "deploy: 0 passed, 1 failed"
    exit 1
fi
[ "$DEPS_ONLY" = 1 ] && exit 0

PASS=0
FAILN=0
TMP=$(mktemp -d /tmp/check-deploy.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# run NAME COMMAND...: one check; its output is shown only when it fails.
run() {
    local name=$1
    shift
    if "$@" >"$TMP/out" 2>&1; then
        PASS=$((PASS + 1))
        echo "ok   deploy: $name"
    else
        FAILN=$((FAILN + 1))
        echo "FAIL deploy: $name"
        grep -v '^ok ' "$TMP/out" | head -n 40 | sed 's/^/    /'
    fi
}

need() { command -v "$1" >/dev/null || {
    echo "$1 not found: install the Debian package $2"
    return 1
}; }

# ---- Kubernetes ------------------------------------------------------------------------------
render() { need kubectl kubectl && kubectl kustomize "$1" >"$2"; }
OVERLAYS=(k8s/base)
for o in k8s/overlays/*/; do OVERLAYS+=("${o%/}"); done
RENDERED=()
for o in "${OVERLAYS[@]}"; do
    name=$(basename "$o")
    out=$TMP/$name.yaml
    run "kubectl kustomize $o" render "$o" "$out" || true
    [ -s "$out" ] || continue
    RENDERED+=("$out")
    run "$name: schema (kubernetes-models)" node "$DEPS/bin/k8s-validate.mjs" "$out"
    run "$name: policy (probes, securityContext, grace, HPA, PDB, NetworkPolicy)" \
        node "$DEPS/bin/k8s-policy.mjs" "$name" "$out"
done
if [ ${#RENDERED[@]} -gt 0 ]; then
    run "all overlays: no unknown fields (TypeScript excess-property check)" \
        node "$DEPS/bin/k8s-strict.mjs" "$TMP/strict" "${RENDERED[@]}"
fi
run "kustomizations use only kustomize 2.0 syntax (kubectl 1.20 renders them too)" \
    node "$DEPS/bin/kustomize-compat.mjs" "$REPO_ROOT/k8s"
# With KUBECTL_COMPAT naming a kubectl 1.20 (Debian 12's kubernetes-client), every overlay is
# also rendered with it and must describe the same objects as the main render.
if [ -n "${KUBECTL_COMPAT:-}" ]; then
    for o in "${OVERLAYS[@]}"; do
        name=$(basename "$o")
        [ -s "$TMP/$name.yaml" ] || continue
        run "$name: $KUBECTL_COMPAT renders the same objects" sh -c \
            '$1 kustomize "$2" >"$3" && node "$4" "$3" "$5"' _ "$KUBECTL_COMPAT" "$o" "$TMP/$name.compat.yaml" \
            "$DEPS/bin/render-compare.mjs" "$TMP/$name.yaml"
    done
fi
run "DAU rung overlays match tools/ladder" python3 tools/ladder --check k8s/overlays
run "tools/ladder arithmetic (tests/deploy/test_ladder.py)" env PYTHONDONTWRITEBYTECODE=1 python3 tests/deploy/test_ladder.py

# ---- YAML, Dockerfiles, compose --------------------------------------------------------------
run "yamllint" sh -c 'command -v yamllint >/dev/null || { echo "install the Debian package yamllint"; exit 1; }
    yamllint -s -c tests/deploy/yamllint.yml k8s deploy/compose.yml deploy/observability/alerts.yml \
        docs/openapi.yaml tests/deploy/alerts.test.yml tests/deploy/yamllint.yml'
run "dockerfilelint deploy/*.Dockerfile" "$DEPS/node_modules/.bin/dockerfilelint" \
    deploy/sms-extraction.Dockerfile deploy/insights-api.Dockerfile
run "docker-compose config deploy/compose.yml" sh -c \
    'command -v docker-compose >/dev/null || { echo "install the Debian package docker-compose"; exit 1; }
     docker-compose -f deploy/compose.yml config -q'

# ---- observability ---------------------------------------------------------------------------
run "promtool check rules" sh -c 'command -v promtool >/dev/null || { echo "install the Debian package prometheus"; exit 1; }
    promtool check rules deploy/observability/alerts.yml'
run "promtool test rules tests/deploy/alerts.test.yml" sh -c 'command -v promtool >/dev/null || exit 1
    promtool test rules tests/deploy/alerts.test.yml'
run "alert and dashboard metric names exist in the daemons" tests/deploy/check-metric-names.sh
run "k8s/base/prometheusrule.yaml is the alert rules (tools/prometheusrule --check)" python3 tools/prometheusrule --check
run "every alert has a runbook_url with its section in docs/runbooks.md" python3 -c '
import re, sys
alerts = re.findall(r"- alert: (\w+)", open("deploy/observability/alerts.yml").read())
urls = re.findall(r"runbook_url: \"docs/runbooks.md#([a-z0-9-]+)\"", open("deploy/observability/alerts.yml").read())
heads = {h.lower() for h in re.findall(r"^## (\w+)$", open("docs/runbooks.md").read(), re.M)}
bad = [a for a in alerts if a.lower() not in urls or a.lower() not in heads]
print("alerts without a runbook section or url:", bad or "none", "(%d alerts)" % len(alerts))
sys.exit(1 if bad or len(urls) != len(alerts) else 0)'

run "grafana dashboard is JSON with panels" python3 -c '
import json, sys
d = json.load(open("deploy/observability/grafana-dashboard.json"))
assert d["panels"] and all(p["targets"] for p in d["panels"]), "panels without targets"'

# ---- API description, env examples -----------------------------------------------------------
run "OpenAPI docs/openapi.yaml (swagger-parser)" node "$DEPS/bin/openapi-validate.mjs" docs/openapi.yaml
run "deploy/env/*.env.example match --config-docs ($BUILD)" scripts/gen-env-examples.sh "$BUILD" --check

echo "deploy: $PASS passed, $FAILN failed"
[ "$FAILN" = 0 ]
