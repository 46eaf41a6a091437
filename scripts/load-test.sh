#!/usr/bin/env bash
# Runs `npm test` N times in a row while busy-loop processes hold the CPU cores, to show that no test depends on
# wall-clock speed (issue 14 §5). Exits 0 only if every run passed; prints one summary line per run.
set -u

usage() {
  cat <<'HELP'
Usage
  scripts/load-test.sh [--runs N] [--busy K] [--log-dir DIR] [-- extra npm test args]

Runs `npm test` N times in a row while K busy-loop processes spin (one per core by default), so the suite is
checked under a load of about K + its own workers. Prints "run i/N: pass|FAIL (S s, P passed, F failed)" per run and
exits 0 only when every run passed. The busy loops are ended (by their process ids) when the script exits.

Options
  --runs N      how many consecutive `npm test` runs (default 3)
  --busy K      how many busy-loop processes (default: the number of cores, `nproc`)
  --log-dir DIR where each run's full output is kept (default: a new directory under $TMPDIR or /tmp)
  -h, --help    this help

Examples
  scripts/load-test.sh                 # 3 runs with both cores of a 2-core machine busy
  scripts/load-test.sh --runs 1 --busy 4
HELP
}

runs=3
busy=$(nproc 2>/dev/null || echo 2)
log_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --runs) runs="${2:-}"; shift 2 ;;
    --runs=*) runs="${1#*=}"; shift ;;
    --busy) busy="${2:-}"; shift 2 ;;
    --busy=*) busy="${1#*=}"; shift ;;
    --log-dir) log_dir="${2:-}"; shift 2 ;;
    --log-dir=*) log_dir="${1#*=}"; shift ;;
    --) shift; break ;;
    *) echo "load-test.sh: unknown option \`$1\` (see --help)" >&2; exit 2 ;;
  esac
done
case "$runs" in ''|*[!0-9]*|0) echo "load-test.sh: Expected --runs to be a whole number ≥ 1, got \`$runs\`" >&2; exit 2 ;; esac
case "$busy" in ''|*[!0-9]*) echo "load-test.sh: Expected --busy to be a whole number ≥ 0, got \`$busy\`" >&2; exit 2 ;; esac
[ -n "$log_dir" ] || log_dir=$(mktemp -d "${TMPDIR:-/tmp}/failmode-load-test.XXXXXX")
mkdir -p "$log_dir"

cd "$(dirname "$0")/.." || exit 2

pids=()
stop_busy() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap stop_busy EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 "$busy"); do
  ( while :; do :; done ) &
  pids+=($!)
done
echo "load-test: $busy busy loop(s) (pids ${pids[*]:-none}); $runs run(s) of npm test; logs in $log_dir"

failed=0
for i in $(seq 1 "$runs"); do
  log="$log_dir/run-$i.log"
  start=$(date +%s)
  npm test "$@" >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  pass=$(grep -E '^# pass ' "$log" | tail -1 | awk '{print $3}')
  fail=$(grep -E '^# fail ' "$log" | tail -1 | awk '{print $3}')
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
  if [ "$rc" -eq 0 ]; then
    echo "run $i/$runs: pass ($secs s, ${pass:-?} passed, ${fail:-?} failed, load average $load)"
  else
    failed=$((failed + 1))
    echo "run $i/$runs: FAIL ($secs s, ${pass:-?} passed, ${fail:-?} failed, load average $load; see $log)"
    grep -E '^not ok|^# Subtest|failureType|error:' "$log" | grep -B1 -A0 'not ok' | head -20 | sed 's/^/    /'
  fi
done
[ "$failed" -eq 0 ] && echo "load-test: all $runs run(s) passed" || echo "load-test: $failed of $runs run(s) failed"
[ "$failed" -eq 0 ]
