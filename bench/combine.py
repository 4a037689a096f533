"""Run several benchmark scripts one after another and print their figures as one JSON line.

Each part is its own process (its own scratch database, no state shared), prints what it does as
it goes, and ends with one JSON line of figures; those are merged under the part's name so that
runs of the whole benchmark can be compared line by line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def run_parts(title: str, parts: dict[str, str]) -> dict:
    """Run bench/<script> for each name → script; return {name: figures} and print it."""
    figures: dict[str, object] = {}
    started = time.perf_counter()
    for name, script in parts.items():
        print(f"== {title}: {name} ({script})", flush=True)
        proc = subprocess.run(
            [sys.executable, str(BENCH / script)], stdout=subprocess.PIPE, text=True
        )
        out = proc.stdout.rstrip().splitlines()
        print("\n".join(out[:-1]), flush=True)
        try:
            figures[name] = json.loads(out[-1]) if out else None
        except ValueError:
            figures[name] = {"error": f"no JSON line (exit {proc.returncode})", "last": out[-1]}
        if proc.returncode:
            figures[name] = {"error": f"exit {proc.returncode}", "figures": figures[name]}
    figures["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"benchmark": title, **figures}, ensure_ascii=False), flush=True)
    return figures
