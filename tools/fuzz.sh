#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_<target>.c, see
# cmake/fuzz.cmake) with clang, ASan and UBSan in build-fuzz and runs each
# for a bounded time, $(nproc) at a time. New corpus entries go to a scratch
# folder outside the repository (/dev/shm when writable, else $TMPDIR;
# VKMIST_FUZZ_TMP overrides), so the committed seeds stay small. A crash,
# leak, hang (> 10 s per input) or runaway allocation (> 2 GiB) fails the run
# and its input is copied to tests/fuzz/regress/<target>/, where
# test_fuzz_regress replays it from then on.
#   tools/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target (default 60);
#                                         targets: checkpoint nifti discover cache
#   tools/fuzz.sh --seeds                 rewrites tests/fuzz/corpus (commit it)
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/deps.sh
vkmist_install_deps
build="${VKMIST_FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${VKMIST_FUZZ_JOBS:-$(nproc)}"

if [ "${1:-}" = "--seeds" ]; then
    seedbuild="${VKMIST_BUILD_DIR:-build}"
    cmake -S . -B "$seedbuild" -DCMAKE_BUILD_TYPE=Release -DVKMIST_ASSERTS=ON >/dev/null
    cmake --build "$seedbuild" -j"$jobs" --target fuzz_make_corpus
    rm -rf tests/fuzz/corpus
    "$seedbuild/fuzz_make_corpus" tests/fuzz/corpus
    echo "tools/fuzz.sh: seed corpora written to tests/fuzz/corpus ($(du -sh tests/fuzz/corpus | cut -f1))"
    exit 0
fi

secs="${1:-60}"
[ $# -gt 0 ] && shift
case "$secs" in ''|*[!0-9]*) echo "tools/fuzz.sh: SECONDS must be a number, got '$secs'" >&2; exit 2;; esac
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in tests/fuzz/fuzz_*.c; do
        t=$(basename "$f" .c); t=${t#fuzz_}
        [ "$t" = util ] || targets+=("$t")
    done
fi
for t in "${targets[@]}"; do
    [ -f "tests/fuzz/fuzz_$t.c" ] || { echo "tools/fuzz.sh: no fuzz target '$t' (tests/fuzz/fuzz_$t.c)" >&2; exit 2; }
done

start=$(date +%s)
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVKMIST_FUZZ=ON >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}"
echo "tools/fuzz.sh: built ${#targets[@]} targets in $(( $(date +%s) - start )) s; fuzzing each for $secs s, $jobs at a time"

# tmpfs when there is one: every run writes its input to a file
tmp="${VKMIST_FUZZ_TMP:-}"
[ -z "$tmp" ] && { [ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm || tmp="${TMPDIR:-/tmp}"; }
scratch=$(mktemp -d "$tmp/vkmist-fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Runs one target; its log and any crashing input stay under $scratch/$1.
run_one() {
    local t=$1 w="$scratch/$1"
    mkdir -p "$w/corpus" "$w/artifacts"
    local dirs=("$w/corpus" "tests/fuzz/corpus/$t")
    [ -d "tests/fuzz/regress/$t" ] && dirs+=("tests/fuzz/regress/$t")
    local rc=0
    TMPDIR="$w" "$build/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$w/artifacts/" "${dirs[@]}" >"$w/log" 2>&1 || rc=$?
    echo "$rc" >"$w/rc"
}

running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait || true

failed=0
for t in "${targets[@]}"; do
    w="$scratch/$t"
    rc=$(cat "$w/rc" 2>/dev/null || echo 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$w/log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$w/log" | tail -1 || true)
    echo "fuzz_$t: ${execs:-?} runs, ${rate:-?} exec/s, ${cov:-no coverage line}, exit $rc"
    if [ "$rc" != 0 ]; then
        kept=0
        for a in "$w"/artifacts/*; do
            [ -f "$a" ] || continue
            # a timeout that does not recur was the machine stalling (load,
            # memory pressure), not the input: say so, keep nothing
            if [ "${a##*/timeout-}" != "$a" ] &&
               "$build/fuzz_$t" -timeout=10 -runs=3 "$a" >"$w/retry.log" 2>&1; then
                echo "fuzz_$t: warning: timeout on $(basename "$a") did not recur on a rerun (machine stall?); not kept"
                continue
            fi
            mkdir -p "tests/fuzz/regress/$t"
            cp "$a" "tests/fuzz/regress/$t/"
            kept=1
            echo "fuzz_$t: FAILED; input kept as tests/fuzz/regress/$t/$(basename "$a") (replayed by test_fuzz_regress)"
        done
        if [ "$kept" = 1 ] || ! ls "$w"/artifacts/* >/dev/null 2>&1; then
            failed=1
            tail -n 60 "$w/log"
        fi
    fi
done
echo "tools/fuzz.sh: finished in $(( $(date +%s) - start )) s"
exit "$failed"
