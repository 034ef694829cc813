"""Write the manifest reference into README.md from the schemas (run after changing manifest.py).

.venv/bin/python scripts/gen_reference.py [--check]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from modelward.reference import embed

TARGET = Path(__file__).resolve().parent.parent / "README.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Fail if the file is out of date.")
    args = parser.parse_args()
    text = embed(TARGET.read_text())
    if args.check:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date; run scripts/gen_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=TARGET.parent, prefix=".README-")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, TARGET)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
