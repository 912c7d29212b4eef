#!/usr/bin/env bash
# The function complexity ceiling, machine-checked (style: small functions, early
# returns): pmccabe's cyclomatic number of every function of the daemons, common/,
# tools/ and bench/ must stay at or below COMPLEXITY_MAX (default 25; the highest today
# is 24). Tests are left out: a table-driven test reads best in one piece. Prints one line
# per function over the ceiling and exits 1 when there is any.
set -u
cd "$(dirname "$0")/.."
max=${COMPLEXITY_MAX:-25}
command -v pmccabe >/dev/null || {
    echo "complexity: pmccabe not installed (scripts/deps.sh installs it)"
    exit 1
}
files=$(git ls-files 'common/*.c' 'sms-extraction/*.c' 'insights-api/*.c' 'tools/*.c' 'bench/*.c')
# pmccabe: modified-cyclomatic cyclomatic statements first-line lines file(line): function
report=$(pmccabe $files 2>/dev/null)
over=$(awk -v max="$max" '$2 > max {print "complexity: " $6 " " $7 ": " $2 " (ceiling " max ")"}' <<<"$report")
if [ -n "$over" ]; then
    echo "$over"
    exit 1
fi
top=$(sort -k2,2nr <<<"$report" | head -n 1 | awk '{print $2 " (" $7 ")"}')
echo "complexity: ok ($(wc -l <<<"$report") functions, highest $top, ceiling $max)"
