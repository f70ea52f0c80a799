#!/usr/bin/env python3
"""clang-tidy over kura's library sources, remembering which files were clean.

Usage: tidy-cached.py BUILD_DIR LOG_FILE

Runs clang-tidy (the checks of .clang-tidy without clang-analyzer-*, as check-style.sh
documents) on every src/**/*.cc of BUILD_DIR/compile_commands.json, in parallel, and writes
each file's diagnostics into LOG_FILE. Prints the diagnostics that point into src/ or
include/ and exits 1 when there are any.

A file that was clean is remembered in ~/.cache/kura/clang-tidy (KURA_TIDY_CACHE) under a
key of everything its result can depend on: the file's bytes, every header under src/ and
include/ (any header change re-checks everything), .clang-tidy, the clang-tidy version and
the file's compile command with the clone's path taken out. The same inputs give the same
diagnostics, so a clean file is not checked again: a fresh clone on a machine that checked
the same tree before takes seconds instead of minutes. KURA_TIDY_CACHE=off disables it.
"""
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> int:
    build = Path(sys.argv[1]).resolve()
    log_path = Path(sys.argv[2])
    root = Path(__file__).resolve().parent.parent
    commands = json.loads((build / "compile_commands.json").read_text())
    src = str(root / "src") + "/"
    entries = [c for c in commands if c["file"].startswith(src) and c["file"].endswith(".cc")]

    version = subprocess.run(["clang-tidy", "--version"], capture_output=True, text=True).stdout
    headers = sorted(p for d in ("src", "include") for p in (root / d).rglob("*.h"))
    common = hashlib.sha256()
    common.update(version.encode())
    common.update((root / ".clang-tidy").read_bytes())
    for h in headers:
        common.update(str(h.relative_to(root)).encode() + b"\0" + h.read_bytes() + b"\0")
    common_key = common.hexdigest()

    cache_setting = os.environ.get("KURA_TIDY_CACHE", "")
    cache = None
    if cache_setting != "off":
        cache = Path(cache_setting) if cache_setting else Path.home() / ".cache/kura/clang-tidy"
        cache.mkdir(parents=True, exist_ok=True)

    def key_of(entry) -> str:
        command = entry.get("command") or " ".join(entry.get("arguments", []))
        command = command.replace(str(root), "<root>")
        body = Path(entry["file"]).read_bytes()
        return sha256(common_key.encode() + command.encode() + b"\0" + body)

    todo = []
    skipped = 0
    for e in entries:
        k = key_of(e)
        if cache is not None and (cache / k).exists():
            skipped += 1
        else:
            todo.append((e, k))
    print(f"clang-tidy: {len(todo)} files to check, {skipped} unchanged since a clean check", flush=True)

    def run(item):
        entry, key = item
        proc = subprocess.run(
            ["clang-tidy", "-quiet", "-p", str(build), "-checks=-clang-analyzer-*",
             "-extra-arg=-Wno-unknown-warning-option", entry["file"]],
            capture_output=True, text=True)
        return entry["file"], key, proc.returncode, proc.stdout + proc.stderr

    pattern = re.compile(r"^" + re.escape(str(root)) + r"/(src|include)/.*: (warning|error):")
    problems = set()
    jobs = os.cpu_count() or 2
    with open(log_path, "w") as log, concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for path, key, code, output in pool.map(run, todo):
            log.write(f"== {path}\n{output}\n")
            mine = {line for line in output.splitlines() if pattern.match(line)}
            problems |= mine
            if code == 0 and not mine and cache is not None:
                (cache / key).write_text(path + "\n")
    for p in sorted(problems):
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
