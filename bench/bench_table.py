#!/usr/bin/env python3
"""Runs forklore's benchmarks and prints one Markdown table (what `make bench` shows).

    bench/bench_table.py BIN_DIR

Each benchmark program prints its figures as tab-separated rows (figure, value, detail, goal,
met) with --tsv; this collects them under a line that says which machine measured them and how
loaded it was (the load average before and after: figures taken while others compile are noisy).
"""
import os
import platform
import subprocess
import sys
import time


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    glibc = " ".join(platform.libc_ver())
    return f"{cpu}, {os.cpu_count()} cores, kernel {platform.release()}, {glibc}"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(program: list[str]) -> list[list[str]]:
    print(f"running {' '.join(program)} ...", file=sys.stderr, flush=True)
    result = subprocess.run(program, stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(f"bench_table: {program[0]} exited {result.returncode}")
    return [line.split("\t") for line in result.stdout.splitlines() if line.count("\t") == 4]


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: bench_table.py BIN_DIR")
    bin_dir = sys.argv[1]
    programs = [
        [f"{bin_dir}/forklore_bench_probes", "--tsv"],
        [f"{bin_dir}/forklore_bench_runs", "--tsv"],
        [f"{bin_dir}/forklore_bench_gui", "300", "--tsv"],
    ]
    load_before = load()
    started = time.monotonic()
    rows = []
    for program in programs:
        if not os.access(program[0], os.X_OK):
            print(f"bench_table: {program[0]} was not built: skipped", file=sys.stderr)
            continue
        rows += run(program)
    minutes = (time.monotonic() - started) / 60
    print(f"Machine: {machine()}; load average {load_before} before, {load()} after "
          f"({minutes:.1f} min)")
    print()
    print("| figure | ratio | measured | goal | met |")
    print("| --- | --- | --- | --- | --- |")
    for figure, value, detail, goal, met in rows:
        print(f"| {figure} | {value} | {detail} | {goal or '-'} | {met or '-'} |")


if __name__ == "__main__":
    main()
