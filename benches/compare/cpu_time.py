#!/usr/bin/env python3
"""CPU time per element of cases of levator's `benches/pipeline.rs`, run in
its repeat mode (LEVATOR_BENCH_CASE / LEVATOR_BENCH_REPEAT, no criterion).

For each case: the process CPU time (user + system, getrusage of the
child) of 1 + K runs minus that of 1 run, divided by K x elements, so that
start-up and set-up (simulating or reading the input) cancel out. K is
chosen so that the K runs take about --min-seconds of CPU. Cases are
interleaved round by round; the median and the best round are reported.

CPU time is what the work costs: unlike wall time it does not grow when
other processes take the cores away (it still includes cache and memory
contention from the other core).

    cpu_time.py --exe target/release/deps/pipeline-HASH pipeline/tick/2 rate/2000/2
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_case(exe, case, repeat, env):
    """(CPU seconds, elements) of one child process running `case` `repeat` times."""
    env = dict(env, LEVATOR_BENCH_CASE=case, LEVATOR_BENCH_REPEAT=str(repeat))
    before = child_cpu()
    out = subprocess.run([exe], env=env, check=True, capture_output=True, text=True).stdout
    cpu = child_cpu() - before
    fields = dict(kv.split("=", 1) for kv in out.split())
    return cpu, int(fields["elements"])


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def measure(exe, cases, rounds=3, min_seconds=1.0, csv=None, log=sys.stderr):
    """{case: dict(median_ns, best_ns, rounds_ns, k, elements, load)}."""
    env = dict(os.environ)
    if csv:
        env["LEVATOR_BENCH_CSV"] = csv
    plan = {}
    for case in cases:
        c1, elements = run_case(exe, case, 1, env)
        c3, _ = run_case(exe, case, 3, env)
        per_run = max((c3 - c1) / 2, 1e-4)
        plan[case] = dict(k=max(2, round(min_seconds / per_run)), elements=elements)
    results = {c: [] for c in cases}
    loads = {c: [] for c in cases}
    for r in range(rounds):
        for case in cases:
            k = plan[case]["k"]
            loads[case].append(load_average())
            base, _ = run_case(exe, case, 1, env)
            total, _ = run_case(exe, case, 1 + k, env)
            ns = (total - base) / (k * plan[case]["elements"]) * 1e9
            results[case].append(ns)
            print(f"  round {r + 1}: {case}: {ns:.2f} ns/element (K={k}, load {loads[case][-1]})",
                  file=log, flush=True)
    return {
        c: dict(median_ns=statistics.median(v), best_ns=min(v), rounds_ns=v, k=plan[c]["k"],
                elements=plan[c]["elements"], load=loads[c][0])
        for c, v in results.items()
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", required=True, help="the pipeline bench executable")
    ap.add_argument("--csv", help="LEVATOR_BENCH_CSV for the recording/*/external cases")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-seconds", type=float, default=1.0)
    ap.add_argument("--json-out")
    ap.add_argument("cases", nargs="+")
    args = ap.parse_args()
    res = measure(args.exe, args.cases, args.rounds, args.min_seconds, args.csv)
    print("| case | CPU ns per channel-sample, median | best | rounds | load at start |")
    print("|---|---:|---:|---|---|")
    for c, r in res.items():
        rounds = " / ".join(f"{v:.1f}" for v in r["rounds_ns"])
        print(f"| `{c}` | {r['median_ns']:.1f} | {r['best_ns']:.1f} | {rounds} | {r['load']} |")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
