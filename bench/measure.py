"""Measuring in processes of their own: a child's CPU time and peak RSS, and running a path."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This program's peak RSS. ru_maxrss would also count the parent's memory at spawn time
    (Linux carries the high-water mark across exec), so read the fresh mm's VmHWM instead."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_path(path: str, n: int, concurrency: int, env: Mapping[str, str]) -> dict:
    """Run `python -m bench.paths` in a fresh process; what it measured."""
    command = [sys.executable, "-m", "bench.paths", path, "--n", str(n)]
    command += ["--concurrency", str(concurrency)]
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{path} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
