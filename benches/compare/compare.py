#!/usr/bin/env python3
"""Side-by-side timing and onset accuracy of levator and the Python tools
users would pick instead, on ONE labelled recording (see README.md; run
through run.sh, which builds the environment and the inputs).

Every tool gets the same samples: the 2-channel 1 kHz sEMG recording that
`levator simulate` wrote (levator-csv v1) and its truth (REC.truth.jsonl).
Times are wall-clock per call over the whole recording, repeated; reported
as ns per channel-sample (best and median of the repeats). levator's library
numbers come from criterion's raw samples (sample.json) of
`cargo bench --bench pipeline -- recording/.../external` and
`cargo bench --bench conditioning`, run by run.sh in the same sitting.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

os.environ.setdefault("MPLBACKEND", "Agg")
# NeuroKit2 warns "No events found" for channels without bursts (the
# abdominal one); the onsets are scored on the pelvic channel only.
warnings.filterwarnings("ignore", module="neurokit2")

import numpy as np  # noqa: E402


def load_recording(path):
    """levator-csv v1 -> (rate_hz, {column: array})."""
    rate = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                for tok in line[1:].split():
                    if tok.startswith("rate_hz="):
                        rate = float(tok.split("=", 1)[1])
                continue
            header = line.strip().split(",")
            break
        data = np.loadtxt(f, delimiter=",", ndmin=2)
    if rate is None:
        sys.exit(f"{path}: no rate_hz header")
    return rate, {name: np.ascontiguousarray(data[:, i]) for i, name in enumerate(header)}


def truth_onsets(path):
    onsets = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if (
                e.get("kind") == "contraction"
                and e.get("phase") == "start"
                and e.get("channel", "pelvic_emg") == "pelvic_emg"
            ):
                onsets.append(e["onset_s"])
    return sorted(onsets)


def match(truth, detected, tolerance_s):
    """One-to-one matching in time order: each truth onset takes the nearest
    unused detected onset within the tolerance. Returns (errors_s, n_matched)."""
    detected = sorted(detected)
    used = [False] * len(detected)
    errors = []
    for t in truth:
        best = None
        for i, d in enumerate(detected):
            if used[i] or abs(d - t) > tolerance_s:
                continue
            if best is None or abs(d - t) < abs(detected[best] - t):
                best = i
        if best is not None:
            used[best] = True
            errors.append(detected[best] - t)
    return errors, len(errors)


def timed(fn, repeat):
    """(wall, CPU) seconds of each call, after one untimed warm-up call. CPU
    is the whole Python process's (all threads), so a tool that used more
    than one thread would show it."""
    fn()
    out = []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0, time.process_time() - c0))
    return out


def naive_onsets(env, rate, rest_from_s=1.0, rest_to_s=6.0, k_sd=3.0, min_on_s=0.1, min_off_s=0.5):
    """Textbook threshold rule for the filter-only tools (written here, not
    part of any library): threshold = mean + 3 SD of the envelope over
    1-6 s (rest); an onset is the first sample of a run above it lasting
    >= 100 ms, after >= 500 ms below it."""
    a, b = int(rest_from_s * rate), int(rest_to_s * rate)
    thr = env[a:b].mean() + k_sd * env[a:b].std()
    above = env > thr
    onsets = []
    i, n = b, len(env)
    below_run = 0
    min_on, min_off = int(min_on_s * rate), int(min_off_s * rate)
    while i < n:
        if above[i]:
            j = i
            while j < n and above[j]:
                j += 1
            if j - i >= min_on and below_run >= min_off:
                onsets.append(i / rate)
            if j - i >= min_on:
                below_run = 0
            i = j
        else:
            below_run += 1
            i += 1
    return onsets


def moving_mean(x, window):
    c = np.cumsum(np.concatenate(([0.0], x)))
    out = np.empty_like(x)
    out[window - 1 :] = (c[window:] - c[:-window]) / window
    out[: window - 1] = c[1:window] / np.arange(1, window)
    return out


def criterion_result(target_dir, bench_id):
    """(best, median) ns per element from criterion's raw samples."""
    base = os.path.join(target_dir, "criterion", *bench_id.split("/"), "new")
    with open(os.path.join(base, "sample.json")) as f:
        s = json.load(f)
    with open(os.path.join(base, "benchmark.json")) as f:
        b = json.load(f)
    elements = b["throughput"]["Elements"]
    per_iter = [t / i for t, i in zip(s["times"], s["iters"])]
    return min(per_iter) / elements, statistics.median(per_iter) / elements


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--levator", required=True, help="the levator binary")
    ap.add_argument("--criterion-dir", required=True, help="CARGO_TARGET_DIR of the criterion run (wall times)")
    ap.add_argument("--bench-exe", required=True, help="the benches/pipeline.rs executable (CPU-time mode)")
    ap.add_argument("--cpu-rounds", type=int, default=3, help="rounds of the levator CPU-time measurement")
    ap.add_argument("--cpu-seconds", type=float, default=1.0, help="CPU seconds per levator measurement")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--slow-repeat", type=int, default=3, help="repeats of NeuroKit2/BioSPPy")
    ap.add_argument("--tolerance", type=float, default=1.0, help="onset match tolerance (s)")
    ap.add_argument("--json-out", help="write the results here as JSON")
    args = ap.parse_args()

    import brainflow
    import neurokit2 as nk
    import scipy
    from biosppy.signals import emg as bemg
    from brainflow.data_filter import AggOperations, DataFilter, FilterTypes
    from scipy import signal

    rate, cols = load_recording(args.csv)
    names = ["pelvic_emg_uv", "abdominal_emg_uv"]
    missing = [c for c in names if c not in cols]
    if missing:
        sys.exit(f"{args.csv}: missing columns {missing}")
    x = np.ascontiguousarray(np.vstack([cols[c] for c in names]))
    channels, n = x.shape
    samples = channels * n
    truth = truth_onsets(args.truth)
    fs = int(rate)
    print(f"signal: {args.csv}: {n} samples x {channels} channels at {rate:g} Hz "
          f"({n / rate:.0f} s), {len(truth)} truth contraction onsets (pelvic_emg)")
    from importlib.metadata import version

    print("versions: python " + sys.version.split()[0] + ", " + ", ".join(
        f"{p} {version(p)}" for p in ("numpy", "scipy", "brainflow", "neurokit2", "biosppy")))

    rows = []

    def stats(ns):
        return dict(best=min(ns), median=statistics.median(ns))

    def add(tool, timed_what, times, onsets=None, note="", elements=samples):
        wall = stats([w / elements * 1e9 for w, _ in times])
        cpu = stats([c / elements * 1e9 for _, c in times])
        rows.append(dict(tool=tool, timed=timed_what, wall=wall, cpu=cpu, onsets=onsets, note=note,
                         load=load_average()))
        print(f"  {tool}: CPU median {cpu['median']:.2f} (best {cpu['best']:.2f}), wall median "
              f"{wall['median']:.2f} (best {wall['best']:.2f}) ns per channel-sample "
              f"(load {rows[-1]['load']})", flush=True)

    # --- scipy -----------------------------------------------------------
    sos = signal.butter(4, [20, 450], "bandpass", fs=rate, output="sos")
    add("scipy sosfilt", "band-pass 4th-order 20-450 Hz (4 sections), both channels in one call",
        timed(lambda: signal.sosfilt(sos, x, axis=-1), args.repeat))
    filt = signal.sosfilt(sos, x[0])
    scipy_env = np.sqrt(moving_mean(filt * filt, int(0.05 * rate)))
    scipy_onsets = naive_onsets(scipy_env, rate)

    # --- BrainFlow -------------------------------------------------------
    bw = FilterTypes.BUTTERWORTH.value
    mean_op = AggOperations.MEAN.value
    period = int(0.05 * rate)

    def bf_copy():
        return x.copy()

    def bf_bandpass():
        d = x.copy()
        for ch in range(channels):
            DataFilter.perform_bandpass(d[ch], fs, 20.0, 450.0, 4, bw, 0.0)
        return d

    def bf_rolling():
        d = x.copy()
        for ch in range(channels):
            DataFilter.perform_rolling_filter(d[ch], period, mean_op)
        return d

    def bf_both():
        d = x.copy()
        for ch in range(channels):
            DataFilter.perform_bandpass(d[ch], fs, 20.0, 450.0, 4, bw, 0.0)
            DataFilter.perform_rolling_filter(d[ch], period, mean_op)
        return d

    copy_times = timed(bf_copy, args.repeat)
    copy_note = f"includes a numpy copy of the input (in-place API): {min(c for _, c in copy_times) / samples * 1e9:.2f} ns"
    add("BrainFlow perform_bandpass", "band-pass Butterworth 4th-order 20-450 Hz, per channel",
        timed(bf_bandpass, args.repeat), note=copy_note)
    add("BrainFlow perform_rolling_filter", "rolling mean, 50 samples, per channel",
        timed(bf_rolling, args.repeat), note=copy_note)
    add("BrainFlow band-pass + rolling filter", "both, per channel (the issue's target pair)",
        timed(bf_both, args.repeat), note=copy_note)
    d = x[0].copy()
    DataFilter.perform_bandpass(d, fs, 20.0, 450.0, 4, bw, 0.0)
    np.abs(d, out=d)
    DataFilter.perform_rolling_filter(d, period, mean_op)
    bf_onsets = naive_onsets(d, rate)

    # --- NeuroKit2 -------------------------------------------------------
    nk_result = {}

    def nk_run():
        for ch in range(channels):
            _, info = nk.emg_process(x[ch], sampling_rate=fs)
            nk_result[ch] = info

    add("NeuroKit2 emg_process", "clean + amplitude + activation (onsets), per channel",
        timed(nk_run, args.slow_repeat))
    nk_onsets = [i / rate for i in np.asarray(nk_result[0]["EMG_Onsets"]).ravel()
                 if np.isfinite(i)]

    # --- BioSPPy ---------------------------------------------------------
    bs_result = {}

    def bs_run():
        for ch in range(channels):
            bs_result[ch] = bemg.emg(signal=x[ch], sampling_rate=rate, show=False)

    add("BioSPPy emg.emg", "filter + onsets, per channel", timed(bs_run, args.slow_repeat))
    bs_onsets = [i / rate for i in np.asarray(bs_result[0]["onsets"]).ravel()]

    # --- levator library: CPU time (repeat mode) + criterion wall time ---
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import cpu_time

    lev_rows = [
        ("levator Pipeline (library)", "frames",
         "whole Pipeline on parsed frames, default config: conditioning (14 biquads: high-pass, band-pass, "
         "9 mains notches) + 50 ms RMS + quality + baseline + all detectors"),
        ("levator Pipeline, comb notch (library)", "frames_comb",
         "the same with notch_kind = comb: 5 biquads + one comb filter for every mains harmonic"),
        ("levator Pipeline, blocks of 256 (library)", "blocks",
         "the default Pipeline fed 256 frames per Pipeline::process call (same events): the chains run "
         "over each block as a wavefront before the detectors take the frames"),
        ("levator Pipeline, comb notch, blocks of 256 (library)", "blocks_comb",
         "the comb-notch Pipeline fed in blocks of 256 frames"),
        ("levator CsvReader + Pipeline (library)", "csv",
         "levator-csv parsing + the whole Pipeline (analyze without output)"),
        ("levator band-pass (library)", "bandpass",
         "only the same 4th-order 20-450 Hz band-pass (scipy's sosfilt, like for like)"),
        ("levator band-pass + 50 ms RMS (library)", "bandpass_rms",
         "only the same band-pass + a 50 ms moving RMS (BrainFlow's pair, like for like)"),
        ("levator EMG Chain (library)", "emg_chain", "the full EMG conditioning chain alone"),
        ("levator EMG Chain, comb notch (library)", "emg_chain_comb",
         "the EMG conditioning chain with the comb notch alone"),
    ]
    print("  levator library, CPU time (benches/compare/cpu_time.py):", flush=True)
    cpu_res = cpu_time.measure(args.bench_exe, [f"recording/{f}/external" for _, f, _ in lev_rows],
                               rounds=args.cpu_rounds, min_seconds=args.cpu_seconds, csv=args.csv,
                               log=sys.stdout)
    for tool, function, what in lev_rows:
        bench_id = f"recording/{function}/external"
        c = cpu_res[bench_id]
        try:
            wb, wm = criterion_result(args.criterion_dir, bench_id)
            wall = dict(best=wb, median=wm)
        except OSError:
            wall = dict(best=float("nan"), median=float("nan"))
        rows.append(dict(tool=tool, timed=what, wall=wall, cpu=dict(best=c["best_ns"], median=c["median_ns"]),
                         onsets=None, note=f"`{bench_id}`", load=c["load"]))
        print(f"  {tool}: CPU median {c['median_ns']:.2f} (best {c['best_ns']:.2f}), criterion wall median "
              f"{wall['median']:.2f} (best {wall['best']:.2f}) ns per channel-sample")

    # --- levator analyze as a whole process -----------------------------
    out_path = os.path.join(tempfile.mkdtemp(prefix="levator-compare-"), "events.jsonl")
    cmd = [args.levator, "analyze", "--format", "jsonl", args.csv]
    import resource

    def child_cpu():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    runs = max(args.repeat, 10)
    times = []
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)  # warm-up (page cache)
    for _ in range(runs):
        c0, t0 = child_cpu(), time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0, child_cpu() - c0))
    how = f"{runs} runs, CPU from getrusage"
    hyperfine = shutil.which("hyperfine")
    if hyperfine:
        hf_json = out_path + ".hyperfine.json"
        shell_cmd = " ".join(cmd) + " > /dev/null"
        subprocess.run([hyperfine, "--warmup", "2", "--runs", str(runs), "--export-json",
                        hf_json, "--style", "none", shell_cmd], check=True,
                       stdout=subprocess.DEVNULL)
        with open(hf_json) as f:
            hf = json.load(f)["results"][0]["times"]
        # wall from hyperfine, CPU from our own runs (same count)
        times = [(w, c) for w, (_, c) in zip(sorted(hf), sorted(times, key=lambda t: t[1]))]
        how = f"wall: hyperfine, {runs} runs; CPU: getrusage of {runs} runs"
    with open(out_path, "w") as f:
        subprocess.run(cmd, check=True, stdout=f)
    lev_onsets = []
    with open(out_path) as f:
        for line in f:
            e = json.loads(line)
            if e["kind"] == "contraction" and e.get("phase") == "start" and \
                    e.get("channel", "pelvic_emg") == "pelvic_emg":
                lev_onsets.append(e["onset_s"])
    add("levator analyze (process)", f"whole process: start, read + parse CSV, Pipeline, JSONL out ({how})",
        times, onsets=lev_onsets,
        note=f"{min(w for w, _ in times) * 1e3:.0f} ms best wall, {min(c for _, c in times) * 1e3:.0f} ms best "
             f"CPU for {n / rate:.0f} s of signal")
    for r in rows:
        if r["tool"] == "levator Pipeline (library)":
            r["onsets"] = lev_onsets  # the same pipeline, the same events

    # --- onsets ----------------------------------------------------------
    onset_sets = {
        "scipy sosfilt": ("band-pass + 50 ms RMS + naive threshold (harness)", scipy_onsets),
        "BrainFlow band-pass + rolling filter": ("+ rectify + naive threshold (harness)", bf_onsets),
        "NeuroKit2 emg_process": ("EMG_Onsets", nk_onsets),
        "BioSPPy emg.emg": ("onsets", bs_onsets),
    }
    for r in rows:
        if r["tool"] in onset_sets:
            r["onset_rule"], r["onsets"] = onset_sets[r["tool"]]
        elif r["onsets"] is not None:
            r["onset_rule"] = "contraction start events"
    for r in rows:
        if r["onsets"] is None:
            continue
        errors, matched = match(truth, r["onsets"], args.tolerance)
        r["detected"] = len(r["onsets"])
        r["recall"] = matched / len(truth) if truth else float("nan")
        r["precision"] = matched / len(r["onsets"]) if r["onsets"] else float("nan")
        r["median_abs_error_ms"] = statistics.median(abs(e) for e in errors) * 1e3 if errors else float("nan")
        r["median_error_ms"] = statistics.median(errors) * 1e3 if errors else float("nan")

    ref = next((r for r in rows if r["tool"] == "levator Pipeline (library)"), None)

    # --- table -----------------------------------------------------------
    def fmt(v):
        return "n/a" if v != v else (f"{v:,.0f}" if v >= 1000 else f"{v:.2f}")

    print()
    print(f"ns per channel-sample on {os.path.basename(args.csv)} ({n} x {channels} ch, {rate:g} Hz). CPU = "
          f"process CPU time (not inflated by other load), wall = elapsed; median (best) of the repeats. "
          f"Ratio = tool / levator Pipeline, > 1: levator faster. Onsets vs {len(truth)} truth contraction "
          f"onsets, tolerance {args.tolerance:g} s.")
    print()
    print("| tool | timed | CPU ns median (best) | wall ns median (best) | ratio CPU | ratio wall | onsets found "
          "| recall | precision | median abs onset error | load |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        rc = r["cpu"]["median"] / ref["cpu"]["median"] if ref else float("nan")
        rw = r["wall"]["median"] / ref["wall"]["median"] if ref else float("nan")
        if r.get("detected") is not None:
            acc = (f"{r['detected']} ({r['onset_rule']}) | {r['recall']:.2f} | {r['precision']:.2f} | "
                   f"{r['median_abs_error_ms']:.0f} ms")
        else:
            acc = " | | |"
        print(f"| {r['tool']} | {r['timed']}{'; ' + r['note'] if r['note'] else ''} | "
              f"{fmt(r['cpu']['median'])} ({fmt(r['cpu']['best'])}) | "
              f"{fmt(r['wall']['median'])} ({fmt(r['wall']['best'])}) | {fmt(rc)} | {fmt(rw)} | {acc} | "
              f"{r['load']} |")

    # --- targets ---------------------------------------------------------
    def find(tool):
        return next((r for r in rows if r["tool"] == tool), None)

    sp, bf = find("scipy sosfilt"), find("BrainFlow band-pass + rolling filter")
    lb, ls = find("levator band-pass + 50 ms RMS (library)"), find("levator band-pass (library)")
    comb = find("levator Pipeline, comb notch (library)")
    blocks = find("levator Pipeline, blocks of 256 (library)")
    blocks_comb = find("levator Pipeline, comb notch, blocks of 256 (library)")
    print()
    for clock in ("cpu", "wall"):
        if not (ref and sp and bf):
            break
        s_, b_ = sp[clock]["median"], bf[clock]["median"]
        for name, r in (("levator Pipeline", ref), ("levator Pipeline (comb notch)", comb),
                        ("levator Pipeline (blocks of 256)", blocks),
                        ("levator Pipeline (comb notch, blocks of 256)", blocks_comb)):
            if not r:
                continue
            lv = r[clock]["median"]
            print(f"targets ({clock}, medians): {name} {lv:.2f} ns vs scipy band-pass {s_:.2f} ns -> "
                  f"{'MET' if lv <= s_ else 'NOT MET'} (levator/scipy = {lv / s_:.2f}); vs BrainFlow band-pass + "
                  f"rolling {b_:.2f} ns -> {'MET' if b_ >= 2 * lv else 'NOT MET'} (BrainFlow/levator = "
                  f"{b_ / lv:.2f}, need >= 2)")
        if lb and ls:
            print(f"like for like ({clock}, medians): levator band-pass {ls[clock]['median']:.2f} ns vs scipy "
                  f"sosfilt {s_:.2f} ns (scipy/levator = {s_ / ls[clock]['median']:.2f}); levator band-pass + "
                  f"RMS {lb[clock]['median']:.2f} ns vs BrainFlow band-pass + rolling {b_:.2f} ns "
                  f"(BrainFlow/levator = {b_ / lb[clock]['median']:.2f})")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(dict(csv=args.csv, samples=n, channels=channels, rate_hz=rate, truth=len(truth),
                           rows=rows), f, indent=1, default=str)


if __name__ == "__main__":
    main()
