#!/usr/bin/env python3
"""Prints how busy each thread of a close was, in bins of time, from a `perf record` profile.

Each line is one bin: for each of the busiest threads, the share of the bin it was on a core
(its samples against the samples a thread on a core the whole bin would have), and the whole
process's total (200 % is both cores of this machine). It shows which side of a pipeline waits
for the other: in the ledger's commit, a ledger thread at 40 % beside encoders at 100 % waits
for encoding, and an idle core shows up as a total under 200 %. Record with a known frequency
and CLOCK_MONOTONIC, which `close --timings` phases can be lined up with:

    perf record -k CLOCK_MONOTONIC -F 4999 -g -o /tmp/perf.data .build/release/cycle-runner close ... --timings
    python3 bench/perf_threads.py /tmp/perf.data --frequency 4999 --from 1.3 --to 2.3

Times are seconds from the first sample. With `--tag NAME=REGEX` (repeatable), each bin also
names, for the first thread listed, which tags its samples' stacks matched most often.
"""
from __future__ import annotations

import argparse
import collections
import re
import subprocess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a perf.data file")
    parser.add_argument("--frequency", type=float, required=True, help="the -F given to perf record")
    parser.add_argument("--from", dest="start", type=float, default=0.0, help="start, seconds from the first sample")
    parser.add_argument("--to", dest="stop", type=float, default=1e9, help="end, seconds from the first sample")
    parser.add_argument("--bin", type=float, default=0.05, help="bin width in seconds")
    parser.add_argument("--threads", type=int, default=5, help="how many of the busiest threads to list")
    parser.add_argument("--tag", action="append", default=[], help="NAME=REGEX matched against the stack")
    args = parser.parse_args()
    tags = [tuple(tag.split("=", 1)) for tag in args.tag]

    script = subprocess.run(
        ["perf", "script", "-i", args.data, "-F", "tid,time,ip,sym"], capture_output=True, text=True, check=True
    ).stdout
    first = None
    per_bin: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    tagged: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    per_thread: collections.Counter = collections.Counter()
    stacks: list[tuple[int, str, str]] = []
    for block in script.split("\n\n"):
        lines = block.strip().split("\n")
        if not lines or not lines[0].strip():
            continue
        head = lines[0].split()
        thread, time = head[0], float(head[1].rstrip(":"))
        if first is None:
            first = time
        offset = time - first
        if not args.start <= offset < args.stop:
            continue
        index = int((offset - args.start) / args.bin)
        per_bin[index][thread] += 1
        per_thread[thread] += 1
        if tags:
            stacks.append((index, thread, "\n".join(lines[1:])))
    threads = [thread for thread, _ in per_thread.most_common(args.threads)]
    if tags and threads:
        for index, thread, stack in stacks:
            if thread != threads[0]:
                continue
            for name, pattern in tags:
                if re.search(pattern, stack):
                    tagged[index][name] += 1
                    break
    full = args.frequency * args.bin
    print("bin (s)  " + "  ".join(f"{thread:>7}" for thread in threads) + "    all")
    for index in sorted(per_bin):
        shares = "  ".join(f"{100 * per_bin[index][thread] / full:6.0f}%" for thread in threads)
        total = 100 * sum(per_bin[index].values()) / full
        note = ", ".join(name for name, _ in tagged[index].most_common(2))
        print(f"{args.start + index * args.bin:7.2f}  {shares}  {total:5.0f}%  {note}")


if __name__ == "__main__":
    main()
