#!/usr/bin/env python3
"""The floor a close's files put under its time on this file system: create the same folders and
files (same names, same sizes, zero-filled) in a staging folder, sync once, and rename each file
into place, as the close does, with no rendering at all. Usage: file_floor.py OUTPUT_OF_A_CLOSE WORK
"""
import os
import shutil
import sys
import time

source, work = sys.argv[1], sys.argv[2]
files = []
for root, _, names in os.walk(source):
    for name in names:
        path = os.path.join(root, name)
        relative = os.path.relpath(path, source)
        if relative.startswith("ledger.sqlite"):
            continue
        files.append((relative, os.path.getsize(path)))
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
for folder in folders:
    os.makedirs(os.path.join(work, folder), exist_ok=True)
for relative, _ in files:
    os.rename(os.path.join(staging, relative), os.path.join(work, relative))
os.sync()
done = time.monotonic()
print(f"{len(files)} files in {len(folders)} folders: create {created - started:.2f} s, "
      f"rename {done - created:.2f} s, total {done - started:.2f} s (one core)")
