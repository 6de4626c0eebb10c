#!/usr/bin/env python3
"""Benchmark of the month-end close against a DuckDB yardstick, on the same generated files.

It generates an input folder with `cycle-runner generate`, measures

  * our CSV reader alone (`cycle-runner scan`, MB/s, best of three),
  * a full close (`close --timings`): wall time split by phase, rows per second, peak memory,
  * a rerun of the same close (nothing new to apply),
  * DuckDB reading the same usage files, de-duplicating on event_id and summing credits per org
    and month (installed with pip when missing): the best of two runs after the closes, and one
    run right before each close,

and prints the ratios of our times to DuckDB's: to the best of two, and, as
`ratio_read_engine_ledger_to_duckdb_paired`, the median of each close's ratio to the DuckDB
run just before it (the machine's speed changes within minutes). Typical use, from the repository root:

    python3 bench/bench.py                        # 10,000 orgs, 3 months, ~2.3 million rows
    python3 bench/bench.py --events 800           # ~20 million rows
    python3 bench/bench.py --tiny --binary .build/debug/cycle-runner   # CI smoke test
    python3 bench/bench.py --repeat 3             # three closes: median times and their range

Timings are wall-clock on a shared machine: run it on a quiet one, or compare instruction
counts with valgrind --tool=callgrind for before/after work.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import file_floor  # noqa: E402  (beside this script, found through the line above)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(cmd, text=True, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stderr}")
    return elapsed, result


def peak_memory_kib(cmd: list[str]) -> tuple[float, int, str]:
    """Runs cmd under GNU time -v when present; returns wall seconds, peak RSS KiB, stderr."""
    gnu_time = shutil.which("time") or "/usr/bin/time"
    if Path(gnu_time).exists():
        elapsed, result = timed([gnu_time, "-v"] + cmd)
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
        return elapsed, int(match.group(1)) if match else -1, result.stderr
    elapsed, result = timed(cmd)
    return elapsed, -1, result.stderr


def duckdb_run(usage_glob: str) -> float:
    """One run of the yardstick's query, in seconds (DuckDB installed with pip when missing)."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "duckdb"], check=True)
    import duckdb

    query = f"""
        SELECT org_id, date_trunc('month', occurred_at::TIMESTAMPTZ) AS month,
               sum(credits) AS credits, count(*) AS events
        FROM (SELECT * FROM read_csv('{usage_glob}', header = true, all_varchar = false,
                  columns = {{'event_id': 'VARCHAR', 'org_id': 'VARCHAR', 'occurred_at': 'VARCHAR',
                             'user_id': 'VARCHAR', 'action': 'VARCHAR', 'credits': 'BIGINT',
                             'job_id': 'VARCHAR', 'quality': 'VARCHAR'}})
              QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY event_id) = 1)
        GROUP BY ALL
    """
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(query).fetchall()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def duckdb_seconds(usage_glob: str) -> float:
    """The yardstick: the best of two runs of its query."""
    return min(duckdb_run(usage_glob) for _ in range(2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--events", type=int, default=92, help="usage events per org and month")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--binary", help="cycle-runner to measure (default: build release)")
    parser.add_argument("--work", default=str(ROOT / ".build" / "bench"), help="scratch folder")
    parser.add_argument("--tiny", action="store_true", help="a few hundred rows: a smoke test, not a measurement")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--repeat", type=int, default=1,
                        help="closes to run (each into its own folder, none deleted in between); "
                             "times are their medians, with the range beside")
    args = parser.parse_args()
    if args.tiny:
        args.orgs, args.months, args.events = 20, 2, 10

    binary = args.binary
    if not binary:
        print("building release …", flush=True)
        run(["swift", "build", "-c", "release"], cwd=ROOT)
        binary = str(ROOT / ".build" / "release" / "cycle-runner")

    work = Path(args.work) / f"o{args.orgs}-m{args.months}-e{args.events}-s{args.seed}"
    input_folder = work / "input"
    if not (input_folder / "orgs.csv").exists():
        shutil.rmtree(work, ignore_errors=True)
        print(f"generating {args.orgs} orgs × {args.months} months × ~{args.events} events …", flush=True)
        run([binary, "generate", "--orgs", str(args.orgs), "--months", str(args.months), "--events",
             str(args.events), "--seed", str(args.seed), "--out", str(input_folder)])
    usage_files = sorted(str(p) for p in (input_folder / "usage").glob("*.csv"))
    usage_bytes = sum(os.path.getsize(p) for p in usage_files)
    # The generator starts in January 2026; the close runs through the last generated day.
    import datetime
    year, month = 2026 + args.months // 12, 1 + args.months % 12
    through = (datetime.date(year, month, 1) - datetime.timedelta(days=1)).isoformat()

    scan_best = None
    for _ in range(3):
        _, result = timed([binary, "scan"] + usage_files)
        seconds = float(re.search(r"seconds ([0-9.e-]+)", result.stdout).group(1))
        scan_best = seconds if scan_best is None else min(scan_best, seconds)
        rows = int(re.search(r"records (\d+)", result.stdout).group(1)) - len(usage_files)

    output = work / "output"
    # The previous output is moved aside and deleted after the measurements: on ext4 without a
    # journal, creating files right after tens of thousands were deleted scans past every
    # recently freed inode (the kernel's recently_deleted()), which measures the benchmark's own
    # clean-up, not the close. A month-end close does not start seconds after a mass delete.
    # With --repeat, the earlier closes write into folders of their own that are deleted only at
    # the end, so that no close starts right after a mass delete; the last writes `output`. Each
    # needs as much room as one close's output and ledger (about 1 GB at 2.3 M rows).
    repeats = max(1, args.repeat)
    extra_outputs = [work / f"output-repeat-{index}" for index in range(repeats - 1)]
    # What a run that failed left behind (a full disk, an interrupted close) goes now.
    for stale in list(work.glob("trash-*")) + [work / "file-floor"]:
        shutil.rmtree(stale, ignore_errors=True)
    # The earlier outputs stay on disk until the end, beside the new ones and the file floor's
    # copy: a run that cannot fit stops here rather than with a full disk halfway.
    per_close = folder_bytes(output) if output.exists() else usage_bytes * 7
    needed = per_close * (repeats + 1)
    free = shutil.disk_usage(work).free
    if needed > free:
        print(f"not enough room in {work}: about {needed / 1e9:.1f} GB needed for {repeats} close(s) and the "
              f"file floor, {free / 1e9:.1f} GB free; remove the earlier outputs there or use --work elsewhere",
              file=sys.stderr)
        return 2
    trash = work / f"trash-{os.getpid()}"
    trash.mkdir()
    for folder in extra_outputs + [output]:
        if folder.exists():
            folder.rename(trash / folder.name)
    try:
        return measure(args, binary, work, input_folder, usage_files, usage_bytes, rows, scan_best, through,
                       output, extra_outputs)
    finally:
        shutil.rmtree(trash, ignore_errors=True)
        for folder in extra_outputs:
            shutil.rmtree(folder, ignore_errors=True)


def c_file_floor(output: Path, work: Path) -> tuple[float | None, str]:
    """The file floor of `output`'s files by bench/file_floor.c on one thread, or (None, why)
    when no C compiler is found or the program fails."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None, "no C compiler"
    program = work / "file_floor"
    listing = work / "file-floor.txt"
    scratch = work / "file-floor"
    try:
        run([compiler, "-O2", "-o", str(program), str(ROOT / "bench" / "file_floor.c"), "-lpthread"])
        with open(listing, "w") as out:
            for relative, size in file_floor.output_files(str(output)):
                out.write(f"{relative}\t{size}\n")
        shutil.rmtree(scratch, ignore_errors=True)
        printed = run([str(program), str(listing), str(scratch), "1"]).stdout
        match = re.search(r"total ([\d.]+) s", printed)
        return (float(match.group(1)), "file_floor.c") if match else (None, "unreadable output")
    except (subprocess.CalledProcessError, OSError):
        return None, "file_floor.c failed"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        listing.unlink(missing_ok=True)
        program.unlink(missing_ok=True)


def folder_bytes(folder: Path) -> int:
    """The bytes of every file under `folder`."""
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def measure(args, binary: str, work: Path, input_folder: Path, usage_files: list[str], usage_bytes: int,
            rows: int, scan_best: float, through: str, output: Path, extra_outputs: list[Path]) -> int:
    """The closes, the rerun, the file floor and DuckDB, printed; the caller cleans up."""
    repeats = len(extra_outputs) + 1

    def close_into(folder: Path) -> list[str]:
        return [binary, "close", "--through", through, "--input", str(input_folder), "--output", str(folder),
                "--quiet", "--timings"]

    usage_glob = str(input_folder / "usage" / "*.csv")
    runs = []
    # DuckDB also runs right before each close, so that each close has a yardstick taken in the
    # same minute: this shared machine's speed changes within minutes (DuckDB's best of two
    # varied from 1.05 to 1.46 s at 2.3 M rows between runs of this script), and a ratio of two
    # times taken minutes apart measures the machine as much as the code.
    paired_duckdb = []
    for folder in extra_outputs + [output]:
        # DuckDB and each close start with the previous close's files on disk, not still being
        # written back: before the twenty-third pass the sync came after DuckDB's run, which
        # then shared the machine with that writeback and measured slower than it is.
        os.sync()
        if not args.skip_duckdb:
            paired_duckdb.append(duckdb_run(usage_glob))
            os.sync()
        seconds, kib, stderr = peak_memory_kib(close_into(folder))
        phases = {m.group(1): int(m.group(2)) / 1000 for m in re.finditer(r"phase ([a-z-]+): (\d+) ms", stderr)}
        runs.append((seconds, kib, phases))
    close = close_into(output)
    files_written = int((re.search(r"files written: (\d+)", stderr) or re.search("(0)", "0")).group(1))
    rerun_seconds, _, _ = peak_memory_kib(close)

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    close_seconds = median([run[0] for run in runs])
    peak_kib = max(run[1] for run in runs)
    phase_names = {name for run in runs for name in run[2]}
    phases = {name: median([run[2].get(name, 0) for run in runs]) for name in phase_names}

    # Each phase mark ends the step named by it: "parsed" ends reading, "engine" ends
    # classification and the engine, "commit" ends numbering, "inside-commit" ends the ledger
    # rows and the chain's seal (the invoice XML is written into the staging folder at the same
    # time by a thread that only runs on what the ledger leaves idle), "staged" ends rendering into
    # the staging folder, "committed" ends SQLite's COMMIT and "rendered" ends the renames into
    # place (the ledger's checkpoint runs beside them).
    read_phases, engine_phases, ledger_phases = ("read", "parsed"), ("engine", "commit"), ("inside-commit", "committed")

    def total(phases: dict, names: tuple) -> float:
        return sum(phases.get(name, 0) for name in names)

    read = total(phases, read_phases)
    engine = total(phases, engine_phases)
    ledger = total(phases, ledger_phases)
    render = phases.get("staged", 0) + phases.get("rendered", 0) + phases.get("end", 0)
    results = {
        "orgs": args.orgs, "months": args.months, "usage_rows": rows, "usage_mb": round(usage_bytes / 1e6, 1),
        "scan_seconds": round(scan_best, 3), "scan_mb_per_s": round(usage_bytes / 1e6 / scan_best, 1),
        "close_seconds": round(close_seconds, 3), "rows_per_second": round(rows / close_seconds),
        "read_parse_seconds": round(read, 3), "engine_seconds": round(engine, 3),
        "ledger_commit_seconds": round(ledger, 3), "render_seconds": round(render, 3),
        "files_written": files_written, "peak_rss_mb": round(peak_kib / 1024, 1),
        "rerun_seconds": round(rerun_seconds, 3), "rerun_share": round(rerun_seconds / close_seconds, 3),
    }
    if repeats > 1:
        results["closes"] = repeats
        results["close_seconds_range"] = f"{min(r[0] for r in runs):.3f}-{max(r[0] for r in runs):.3f}"
    # What creating and renaming the same files costs with no rendering at all, on one thread:
    # measured in C where a C compiler is found (Python's own cost per file inflated the floor,
    # doubling it on /dev/shm), else by file_floor.py. Small in --tiny, where it only has to work.
    floor_seconds, floor_tool = c_file_floor(output, work)
    if floor_seconds is None:
        floor_seconds = file_floor.measure(str(output), str(work / "file-floor"))["total_seconds"]
        floor_tool = f"file_floor.py ({floor_tool})"
    results["file_floor_seconds"] = floor_seconds
    results["file_floor_tool"] = floor_tool
    if not args.skip_duckdb:
        duck = duckdb_seconds(usage_glob)
        results["duckdb_seconds"] = round(duck, 3)
        results["ratio_close_to_duckdb"] = round(close_seconds / duck, 2)
        results["ratio_read_engine_ledger_to_duckdb"] = round((read + engine + ledger) / duck, 2)
        if "file_floor_seconds" in results:
            results["ratio_file_floor_to_duckdb"] = round(results["file_floor_seconds"] / duck, 2)
        # Each close's reading, engine and ledger against the DuckDB run just before it; the
        # median of those ratios, and the DuckDB runs' range.
        paired = [total(run[2], read_phases + engine_phases + ledger_phases) / seconds
                  for run, seconds in zip(runs, paired_duckdb)]
        results["duckdb_paired_seconds_range"] = f"{min(paired_duckdb):.3f}-{max(paired_duckdb):.3f}"
        results["ratio_read_engine_ledger_to_duckdb_paired"] = round(median(paired), 2)
        results["ratio_read_engine_ledger_to_duckdb_paired_range"] = f"{min(paired):.2f}-{max(paired):.2f}"

    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key.ljust(width)}  {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
