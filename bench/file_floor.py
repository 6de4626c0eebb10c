#!/usr/bin/env python3
"""The floor a close's files put under its time on this file system: create the same folders and
files (same names, same sizes, zero-filled) in a staging copy of the output's layout, sync, and
rename each top folder of the copy into place, as a first close does (the output is empty), with
no rendering at all, on one core.

Usage: file_floor.py OUTPUT_OF_A_CLOSE SCRATCH_FOLDER (bench.py runs it after each close)
"""
import os
import shutil
import sys
import time



def output_files(source: str) -> list[tuple[str, int]]:
    """The files a close wrote under `source` (its ledger aside), as (relative path, size)."""
    files = []
    for root, _, names in os.walk(source):
        for name in names:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, source)
            if relative.startswith("ledger.sqlite"):
                continue
            files.append((relative, os.path.getsize(path)))
    return files


def measure(source: str, work: str) -> dict:
    """Creates and syncs the files of `source` under `work`, then moves in their top folders; returns the
    counts and seconds, and removes `work`."""
    files = output_files(source)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    staging = os.path.join(work, ".staging")
    os.makedirs(staging)
    folders = sorted({os.path.dirname(relative) for relative, _ in files})
    started = time.monotonic()
    for folder in folders:
        os.makedirs(os.path.join(staging, folder), exist_ok=True)
    for relative, size in files:
        descriptor = os.open(os.path.join(staging, relative), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(descriptor, bytes(size))
        os.close(descriptor)
    os.sync()
    created = time.monotonic()
    for name in os.listdir(staging):
        os.rename(os.path.join(staging, name), os.path.join(work, name))
    os.sync()
    done = time.monotonic()
    shutil.rmtree(work, ignore_errors=True)
    return {"files": len(files), "folders": len(folders), "create_seconds": round(created - started, 3),
            "rename_seconds": round(done - created, 3), "total_seconds": round(done - started, 3)}


if __name__ == "__main__":
    result = measure(sys.argv[1], sys.argv[2])
    print(f"{result['files']} files in {result['folders']} folders: create {result['create_seconds']} s, "
          f"rename {result['rename_seconds']} s, total {result['total_seconds']} s (one core)")
