#!/usr/bin/env bash
# Offline checks of everything ops deploy (issue 5), with the real tools, failing on any
# error: the Kubernetes overlays rendered with `kubectl kustomize` and each object validated
# against the Kubernetes schemas (kubernetes-models) and for unknown fields (TypeScript
# excess-property check), the issue's policy promises (tests/deploy/k8s-policy.mjs), the DAU
# rung overlays against tools/ladder, yamllint, dockerfilelint on the Dockerfiles,
# `docker-compose config` on deploy/compose.yml, `promtool check rules` and `promtool test
# rules` on the alerts, the alert/dashboard metric names against the daemons' sources, the
# OpenAPI file (swagger-parser), and the .env examples against the daemons' --config-docs.
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
run "grafana dashboard is JSON with panels" python3 -c '
import json, sys
d = json.load(open("deploy/observability/grafana-dashboard.json"))
assert d["panels"] and all(p["targets"] for p in d["panels"]), "panels without targets"'

# ---- API description, env examples -----------------------------------------------------------
run "OpenAPI docs/openapi.yaml (swagger-parser)" node "$DEPS/bin/openapi-validate.mjs" docs/openapi.yaml
run "deploy/env/*.env.example match --config-docs ($BUILD)" scripts/gen-env-examples.sh "$BUILD" --check

echo "deploy: $PASS passed, $FAILN failed"
[ "$FAILN" = 0 ]
