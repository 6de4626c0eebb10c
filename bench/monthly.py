#!/usr/bin/env python3
"""Month-by-month closes, as finance runs them: the time of each close as history grows.

It generates an input folder with `cycle-runner generate` for a number of months, then builds a
second folder that receives one month's usage file at a time (the folders' other files whole,
as a platform's export would hold them) and closes through the end of each month on one ledger.
Each close reads every usage file in the folder again, so its rows from earlier months are
found in the ledger and counted as duplicates. Printed per close: wall time, the phases of
`--timings` and peak memory. Typical use, from the repository root:

    python3 bench/monthly.py --binary .build/release/cycle-runner --work /tmp/monthly
    python3 bench/monthly.py --orgs 300 --months 3 --events 20     # a small, quick run

With `--compare OTHER_BINARY` every month is closed by both binaries (the other one first), each on
its own copy of the ledger as the first binary left it, and the two output folders are compared
file by file (they must be the same bytes).
"""

import argparse
import calendar
import filecmp
import os
import re
import shutil
import subprocess
import sys
import time


def run_close(binary, folder, output, through):
    started = time.monotonic()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M", binary, "close", "--through", through, "--input", folder,
         "--output", output, "--quiet", "--timings"],
        capture_output=True, text=True)
    wall = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"close through {through} failed:\n{result.stderr}")
    phases = {name: int(ms) for name, ms in re.findall(r"phase ([a-z-]+): (\d+) ms", result.stderr)}
    peak_mib = int(result.stderr.strip().splitlines()[-1]) / 1024
    return wall, phases, peak_mib


def same_files(left, right):
    """Paths under two folders whose bytes differ or that only one holds."""
    differences = []
    comparison = filecmp.dircmp(left, right)
    stack = [("", comparison)]
    while stack:
        prefix, node = stack.pop()
        differences += [prefix + name for name in node.left_only + node.right_only]
        for name in node.common_files:
            if not filecmp.cmp(os.path.join(node.left, name), os.path.join(node.right, name), shallow=False):
                differences.append(prefix + name)
        stack += [(prefix + name + "/", sub) for name, sub in node.subdirs.items()]
    return differences


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orgs", type=int, default=3000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--events", type=int, default=92)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--binary", default=".build/release/cycle-runner")
    parser.add_argument("--compare", help="a second binary: close each month with both and compare the files")
    parser.add_argument("--work", default="/tmp/monthly")
    arguments = parser.parse_args()

    generated = os.path.join(arguments.work, "generated")
    folder = os.path.join(arguments.work, "input")
    output = os.path.join(arguments.work, "output")
    other_output = os.path.join(arguments.work, "output-other")
    shutil.rmtree(arguments.work, ignore_errors=True)
    os.makedirs(arguments.work)
    subprocess.run(
        [arguments.binary, "generate", "--orgs", str(arguments.orgs), "--months", str(arguments.months),
         "--events", str(arguments.events), "--seed", str(arguments.seed), "--out", generated],
        check=True, capture_output=True)
    os.makedirs(os.path.join(folder, "usage"))
    for name in os.listdir(generated):
        if name != "usage":
            shutil.copy(os.path.join(generated, name), folder)
    months = sorted(os.listdir(os.path.join(generated, "usage")))

    print("close through   usage rows read  wall s  read+parse s  engine s  ledger s  peak MiB"
          + ("   other wall s  same files" if arguments.compare else ""))
    rows_read = 0
    differing_months = []
    for name in months:
        shutil.copy(os.path.join(generated, "usage", name), os.path.join(folder, "usage"))
        with open(os.path.join(folder, "usage", name), "rb") as usage_file:
            rows_read += sum(1 for _ in usage_file) - 1
        year, month = int(name[0:4]), int(name[5:7])
        through = f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"
        if arguments.compare:
            shutil.rmtree(other_output, ignore_errors=True)
            if os.path.exists(output):
                shutil.copytree(output, other_output)
            other_wall, _, _ = run_close(arguments.compare, folder, other_output, through)
        wall, phases, peak = run_close(arguments.binary, folder, output, through)
        reading = (phases.get("read", 0) + phases.get("parsed", 0)) / 1000
        engine = (phases.get("engine", 0) + phases.get("commit", 0)) / 1000
        ledger = (phases.get("inside-commit", 0) + phases.get("committed", 0)) / 1000
        line = (f"{through}  {rows_read:>15,}  {wall:6.2f}  {reading:12.2f}  {engine:8.2f}  {ledger:8.2f}"
                f"  {peak:8.0f}")
        if arguments.compare:
            differences = same_files(output, other_output)
            line += f"   {other_wall:12.2f}  {'yes' if not differences else 'NO: ' + ', '.join(differences[:3])}"
            if differences:
                differing_months.append(through)
        print(line, flush=True)
    if differing_months:
        sys.exit(f"the two binaries wrote different files for: {', '.join(differing_months)}")


if __name__ == "__main__":
    main()
