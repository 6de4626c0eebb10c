#!/usr/bin/env python3
"""Splits a `perf record -g` profile of a close by the step of the close each sample belongs to.

A sample is counted for the first step (in the order below) named anywhere in its call stack,
so a sample in `malloc` called from the statement writer counts for the statements. Samples
whose stack passes through code built without frame pointers (libc, libxml2, SQLite) lose
their callers and are counted as "unattributed"; `--leaves` lists the innermost functions of
those, or, with `--under REGEX`, of the samples under any function matching REGEX.

    perf record -F 999 -g -o /tmp/perf.data .build/release/cycle-runner close ...
    python3 bench/perf_phases.py /tmp/perf.data
    python3 bench/perf_phases.py /tmp/perf.data --under 'StatementHTML.render\\('
"""
from __future__ import annotations

import argparse
import collections
import re
import subprocess

STEPS = [
    ("chain seal", r"Ledger\.seal|totalsHash|stateHash|RunTotals|RowHasher|BackgroundSHA256"),
    ("usage id blocks", r"insertUsageBlocks|packedUsageBlocks"),
    ("ledger row encoding", r"EncodedRows|Lookahead|Feeders"),
    ("invoice XML", r"StagingArea\.writeDocuments|startDocuments"),
    ("statements", r"writeStatements"),
    ("close tables, journal, report", r"writeCloseFiles"),
    ("renames into place", r"OutputWriter\.publish"),
    ("ledger checkpoint", r"checkpoint"),
    ("other staging", r"OutputWriter\.stage|renderFiles|StagingArea"),
    ("other ledger commit", r"Ledger\.commit"),
    ("classification", r"CloseWork\.classify"),
    ("engine per org", r"CloseWork\.runOrg"),
    ("other engine", r"runEngine"),
    ("numbering", r"CloseWork\.number"),
    ("usage parsing", r"UsageReader\.parse"),
    ("usage merge", r"UsageReader\.merge"),
    ("other reading", r"UsageReader|InputReader|CSV"),
    ("input hash", r"inputHash"),
    ("rest of the close", r"ClosePipeline\.close"),
]


def samples(data: str) -> list[list[str]]:
    """Each sample's frames, innermost first, with Swift names demangled."""
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym"],
                            capture_output=True, text=True, check=True).stdout
    text = subprocess.run(["swift", "demangle", "--simplified"], input=script,
                          capture_output=True, text=True, check=True).stdout
    result = []
    for block in text.split("\n\n"):
        lines = [line.strip() for line in block.strip().split("\n")[1:]]
        frames = [re.sub(r"\+0x[0-9a-f]+$", "", line.split(" ", 1)[-1]) for line in lines if line]
        if frames:
            result.append(frames)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a perf.data file recorded with -g")
    parser.add_argument("--under", help="list the innermost functions of samples under this regex")
    parser.add_argument("--leaves", action="store_true", help="list the innermost functions of unattributed samples")
    args = parser.parse_args()
    stacks = samples(args.data)
    total = len(stacks)
    if args.under:
        pattern = re.compile(args.under)
        counts = collections.Counter(frames[0][:110] for frames in stacks if any(pattern.search(f) for f in frames))
        print(f"{sum(counts.values())} of {total} samples under {args.under}")
    else:
        steps = [(name, re.compile(pattern)) for name, pattern in STEPS]
        counts = collections.Counter()
        leaves = collections.Counter()
        for frames in stacks:
            joined = "\n".join(frames)
            step = next((name for name, pattern in steps if pattern.search(joined)), None)
            counts[step or "unattributed"] += 1
            if step is None:
                leaves[frames[0][:110]] += 1
        if args.leaves:
            counts = leaves
    for name, count in counts.most_common(40):
        print(f"{100 * count / total:5.1f} %  {name}")


if __name__ == "__main__":
    main()
