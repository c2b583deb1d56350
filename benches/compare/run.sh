#!/usr/bin/env bash
# Side-by-side comparison of levator with scipy, BrainFlow, NeuroKit2 and
# BioSPPy on one generated signal, and the recording-length scaling of
# `levator analyze` (wall time, peak RSS). Not part of CI. See README.md.
#
#   benches/compare/run.sh            # both parts
#   benches/compare/run.sh compare    # tools side by side only
#   benches/compare/run.sh scaling    # 1 / 10 / 60 min of input only
#
# Environment: CARGO_TARGET_DIR (default: <repo>/target), PYTHON (default
# python3.11), LEVATOR_COMPARE_WORK (inputs and outputs, default
# /tmp/levator-compare; the 60 min input is ~80 MB, keep it out of the repo),
# REPEAT (timed repeats of the fast tools, default 7).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mode=${1:-all}
case "$mode" in compare | scaling | all) ;; *)
    echo "usage: $0 [compare|scaling|all]" >&2
    exit 2
    ;;
esac
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
work=${LEVATOR_COMPARE_WORK:-/tmp/levator-compare}
python=${PYTHON:-python3.11}
repeat=${REPEAT:-7}
venv=$here/.venv
mkdir -p "$work"

load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "== machine"
echo "date: $(date -u +'%Y-%m-%d %H:%M UTC')"
echo "nproc: $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "load average: $(load)"
echo "rustc: $(rustc --version)"
if rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null); then
    git -C "$repo" diff --quiet HEAD -- crates benches Cargo.toml || rev="$rev (+ uncommitted changes)"
    echo "git: $rev"
else
    echo "git: (not a git checkout)"
fi

echo "== build (release)"
(cd "$repo" && cargo build --release -p levator-cli --quiet)
levator=$CARGO_TARGET_DIR/release/levator
# the criterion bench executable, also used in its CPU-time repeat mode
bench_exe=$(cd "$repo" && cargo bench --bench pipeline --no-run 2>&1 |
    sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
[ -x "$bench_exe" ] || {
    echo "cannot find the pipeline bench executable" >&2
    exit 1
}

if [ "$mode" != scaling ]; then
    echo "== python environment ($venv)"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
    # pinned; a no-op when already installed
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

    echo "== signal: 340 s Glazer session, healthy subject, 2-channel sEMG at 1 kHz, with truth"
    rec=$work/glazer_healthy_emg_s1.csv
    "$levator" simulate --scenario glazer --subject healthy --device emg-probe --seed 1 --out "$rec"

    echo "== levator library: criterion (wall time) on the same recording (load $(load))"
    rm -rf "$CARGO_TARGET_DIR"/criterion/recording/*/external # no stale results
    (cd "$repo" && LEVATOR_BENCH_CSV=$rec cargo bench --quiet --bench pipeline -- \
        '^recording/[a-z_]+/external$' 2>&1 | grep -E '^recording|time:|thrpt:')

    echo "== python tools and levator analyze, same sitting (load $(load))"
    "$venv/bin/python" "$here/compare.py" --csv "$rec" --truth "${rec%.csv}.truth.jsonl" \
        --levator "$levator" --criterion-dir "$CARGO_TARGET_DIR" --bench-exe "$bench_exe" --repeat "$repeat" \
        --json-out "$work/compare.json"
    echo "load average after: $(load)"
fi

if [ "$mode" != compare ]; then
    echo "== scaling: whole Pipeline, CPU time per channel-sample vs channels, block size, rate (load $(load))"
    "$python" "$here/cpu_time.py" --exe "$bench_exe" --rounds 3 --min-seconds 1.0 \
        pipeline/{tick,block32,block256}/{1,2,4,8} six_roles/{tick,block256}/6 rate/{250,1000,2000}/2 \
        rate_block256/{250,1000,2000}/2 \
        --json-out "$work/scaling_cpu.json"
    echo "== scaling: levator analyze on 1, 10 and 60 minutes of 1 kHz 2-channel sEMG"
    echo "   (10 s rest, then Kegels 5 s on / 5 s rest; peak RSS from /usr/bin/time -v)"
    printf '| input | rows | CSV size | wall (s) | user (s) | max RSS (kB) | events | load |\n'
    printf '|---|---:|---:|---:|---:|---:|---:|---|\n'
    for min in 1 10 60; do
        toml=$work/kegels_${min}min.toml
        cat >"$toml" <<EOF
name = "kegels_${min}min"
description = "10 s rest, then Kegels of 5 s on / 5 s rest (${min} min)"

[[step]]
kind = "rest"
duration_s = 10.0

[[step]]
kind = "contraction"
repeat = $((min * 6 - 1))
on_s = 5.0
rest_s = 5.0
level = 0.7
jitter_level = 0.1
EOF
        rec=$work/kegels_${min}min.csv
        "$levator" simulate --scenario "$toml" --device emg-probe --seed 1 --out "$rec" >/dev/null 2>&1
        rows=$(grep -vc '^#' "$rec")
        size=$(du -h "$rec" | cut -f1)
        for run in 1 2 3; do
            l=$(load)
            /usr/bin/time -v -o "$work/time_${min}.txt" "$levator" analyze --format jsonl "$rec" \
                >"$work/events_${min}min.jsonl"
            wall=$(grep 'Elapsed (wall clock)' "$work/time_${min}.txt" | awk '{print $NF}')
            user=$(grep 'User time' "$work/time_${min}.txt" | awk '{print $NF}')
            rss=$(grep 'Maximum resident set size' "$work/time_${min}.txt" | awk '{print $NF}')
            events=$(wc -l <"$work/events_${min}min.jsonl")
            printf '| %s min (run %s) | %s | %s | %s | %s | %s | %s | %s |\n' \
                "$min" "$run" "$((rows - 1))" "$size" "$wall" "$user" "$rss" "$events" "$l"
        done
    done
fi
