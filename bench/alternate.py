#!/usr/bin/env python3
"""Alternating closes of two or more builds on one input: the way to compare builds on a noisy
machine, where a single timing measures the machine as much as the code.

Each round closes the input once with every build, each into a fresh output folder, and the
order of the builds is reversed every other round, so a slow minute falls on all of them alike.
Printed per build: the medians (and, below, the minimums) of the phases `close --timings`
reports, in ms: reading (`read` + `parsed`), engine (`engine` + `commit`), ledger
(`inside-commit` + `committed`), their sum, and their CPU; wall and CPU seconds and peak
resident MiB of the whole close. Typical use, from the repository root, on a memory-backed
folder so that the disk does not set the times:

    python3 bench/alternate.py --input /dev/shm/in2m --rounds 10 OLD_BINARY NEW_BINARY

(the input bench.py closes, 2.3 M rows:
`cycle-runner generate --orgs 10000 --months 3 --events 92 --seed 1 --out /dev/shm/in2m`).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys

PHASES = {
    "read": ("read", "parsed"),
    "engine": ("engine", "commit"),
    "ledger": ("inside-commit", "committed"),
}


def close_once(binary, input_folder, output, through):
    shutil.rmtree(output, ignore_errors=True)
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%e %U %S %M", binary, "close", "--through", through,
         "--input", input_folder, "--output", output, "--quiet", "--timings"],
        capture_output=True, text=True)
    shutil.rmtree(output, ignore_errors=True)
    if result.returncode != 0:
        sys.exit(f"{binary} failed:\n{result.stderr}")
    wall_ms = {m[0]: int(m[1]) for m in re.findall(r"phase ([a-z-]+): (\d+) ms", result.stderr)}
    cpu_ms = {m[0]: int(m[1]) for m in re.findall(r"phase ([a-z-]+): \d+ ms \(cpu (\d+) ms\)", result.stderr)}
    wall, user, system, peak_kib = result.stderr.strip().splitlines()[-1].split()
    row = {name: sum(wall_ms[p] for p in parts) for name, parts in PHASES.items()}
    row["sum"] = row["read"] + row["engine"] + row["ledger"]
    row["cpu"] = sum(cpu_ms[p] for parts in PHASES.values() for p in parts)
    row["wall_s"] = float(wall)
    row["cpu_s"] = float(user) + float(system)
    row["peak_mib"] = int(peak_kib) // 1024
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--input", default="/dev/shm/in2m")
    parser.add_argument("--through", default="2026-03-31")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--output", default="/dev/shm/alternate-output")
    arguments = parser.parse_args()
    rows = {binary: [] for binary in arguments.binaries}
    for round_number in range(arguments.rounds):
        order = arguments.binaries if round_number % 2 == 0 else arguments.binaries[::-1]
        for binary in order:
            rows[binary].append(close_once(binary, arguments.input, arguments.output, arguments.through))
    keys = ["sum", "read", "engine", "ledger", "cpu", "wall_s", "cpu_s", "peak_mib"]
    print("build".ljust(32), " ".join(key.rjust(8) for key in keys))
    for binary in arguments.binaries:
        name = os.path.basename(binary) if len(binary) > 32 else binary
        print(name[-32:].ljust(32), " ".join(f"{statistics.median(r[k] for r in rows[binary]):8.6g}" for k in keys))
        print("  minimum".ljust(32), " ".join(f"{min(r[k] for r in rows[binary]):8.6g}" for k in keys))


if __name__ == "__main__":
    main()
