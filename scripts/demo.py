"""`make demo`: the main job of modelward, end to end, on the example instance.

Each step prints the command it runs, so the demo doubles as a tour of the CLI.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELWARD = [sys.executable, "-m", "modelward"]


def run(*args: str, cwd: Path = ROOT, ok: tuple[int, ...] = (0,)) -> int:
    print(f"\n$ modelward {shlex.join(args)}", flush=True)
    code = subprocess.run([*MODELWARD, *args], cwd=cwd).returncode
    if code not in ok:
        sys.exit(f"demo: `modelward {shlex.join(args)}` exited {code}, expected {ok}")
    return code


def main() -> None:
    print("modelward demo: the example instance at the root of this repository")
    run("validate", "--repo", str(ROOT))
    print("\ndemo finished")


if __name__ == "__main__":
    main()
