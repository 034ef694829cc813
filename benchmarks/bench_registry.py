"""Registry read speed: `modelward status` / `audit` against GTO on the same repository.

Builds a repository of 50 models x 20 versions (one commit per version) with 1,250
annotated tags written exactly as GTO writes them (1,000 registrations, 250 stage
assignments), then times, in one run, as subprocesses:

    modelward status            vs  gto show   (first run of the checkout, then repeated)
    modelward audit model7      vs  gto history model7
    git for-each-ref refs/tags  (the floor: what one git call costs)

GTO is installed into a separate venv under .modelward/bench-venv-gto (cached). When it
cannot be installed, modelward's absolute times and the for-each-ref floor still print.

Run: .venv/bin/python benchmarks/bench_registry.py   (targets: status and audit < 0.5 s)
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GTO_VENV = ROOT / ".modelward" / "bench-venv-gto"
MODELS, VERSIONS = 50, 20
# (version index, stage) per model; counters 1..5 follow this order
ASSIGNMENTS = [
    (15, "staging"),
    (15, "production"),
    (17, "staging"),
    (19, "staging"),
    (17, "production"),
]
TARGET_S = 0.5
MANIFEST = (ROOT / "models" / "churn" / "model.yaml").read_text()
EPOCH = 1_700_000_000


def manifest(model: int, version: str) -> str:
    stage = "production" if model % 2 else "staging"
    lines = []
    for line in MANIFEST.splitlines():
        if line.startswith("name:"):
            line = f"name: model{model}"
        elif line.startswith("version:"):
            line = f"version: {version}"
        elif line.startswith("stages:"):
            line = f"stages: {{{stage}: {version}}}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def build(repo: Path) -> None:
    """One `git fast-import` stream: commits, files and GTO-format annotated tags."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    out: list[bytes] = []
    when = EPOCH
    mark = 0
    ident = b"Bench <bench@example.com>"

    def commit(message: str, files: dict[str, bytes]) -> int:
        nonlocal when, mark
        mark += 1
        when += 60
        out.append(b"commit refs/heads/main\nmark :%d\n" % mark)
        out.append(b"committer %s %d +0000\n" % (ident, when))
        out.append(data(message.encode()))
        if mark > 1:
            out.append(b"from :%d\n" % (mark - 1))
        for path, content in files.items():
            out.append(b"M 100644 inline %s\n" % path.encode() + data(content))
        return mark

    def tag(name: str, target: int, message: str) -> None:
        nonlocal when
        when += 1
        out.append(b"tag %s\nfrom :%d\n" % (name.encode(), target))
        out.append(b"tagger %s %d +0000\n" % (ident, when))
        out.append(data(message.encode() + b"\n"))

    base: dict[str, bytes] = {"modelward.yaml": (ROOT / "modelward.yaml").read_bytes()}
    for f in sorted((ROOT / "data" / "churn").iterdir()):
        base[f"data/churn/{f.name}"] = f.read_bytes()
    commit("Seed the repository", base)
    marks: dict[tuple[int, int], int] = {}
    for v in range(VERSIONS):
        for m in range(MODELS):
            version = f"1.{v}.0"
            path = f"models/model{m}/model.yaml"
            marks[(m, v)] = commit(f"model{m} {version}", {path: manifest(m, version).encode()})
            tag(
                f"model{m}@v{version}",
                marks[(m, v)],
                f"Registering artifact model{m} version v{version}",
            )
    for m in range(MODELS):
        for counter, (v, stage) in enumerate(ASSIGNMENTS, start=1):
            tag(
                f"model{m}#{stage}#{counter}",
                marks[(m, v)],
                f"Assigning stage {stage} to artifact model{m} version v1.{v}.0",
            )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(out), check=True)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=repo, check=True)


def gto() -> Path | None:
    exe = GTO_VENV / "bin" / "gto"
    if exe.exists():
        return exe
    print(f"installing gto into {GTO_VENV} ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(GTO_VENV)], check=True)
        subprocess.run(
            [str(GTO_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "gto"],
            check=True,
            timeout=300,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"could not install gto ({exc}); reporting modelward's absolute times only")
        shutil.rmtree(GTO_VENV, ignore_errors=True)
        return None
    return exe if exe.exists() else None


CPU: dict[str, float] = {}


def timed(
    cmd: list[str], cwd: Path, runs: int, prepare: Callable[[], object] | None = None
) -> tuple[float, str]:
    """Median wall time of `runs` runs; the median CPU time (user+sys) goes to CPU, since
    wall time on a shared 2-core machine also measures the neighbours. `prepare` runs,
    untimed, before each run."""
    times, cpu, stdout = [], [], ""
    for _ in range(runs):
        if prepare is not None:
            prepare()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
        stdout = proc.stdout
    CPU[" ".join(cmd)] = statistics.median(cpu)
    return statistics.median(times), stdout


def main() -> None:
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        repo = Path(tmp) / "registry"
        start = time.perf_counter()
        build(repo)
        built = time.perf_counter() - start
        tags = subprocess.run(["git", "tag"], cwd=repo, capture_output=True, text=True)
        commits = subprocess.run(
            ["git", "rev-list", "--count", "HEAD"], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        print(
            f"repository: {MODELS} models x {VERSIONS} versions, {commits} commits, "
            f"{len(tags.stdout.split())} GTO-format tags (built in {built:.1f} s); "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
            f"{git_version.strip()}"
        )
        mw = [sys.executable, "-m", "modelward"]
        fmt = "%(refname)%00%(objecttype)%00%(*objectname)%00%(taggername)%00%(contents)"
        measured: dict[str, tuple[float, float]] = {}

        def run(
            label: str, cmd: list[str], runs: int, prepare: Callable[[], object] | None = None
        ) -> str:
            wall, out = timed(cmd, repo, runs, prepare)
            measured[label] = (wall, CPU[" ".join(cmd)])
            return out

        run(
            "git for-each-ref refs/tags", ["git", "for-each-ref", "refs/tags", f"--format={fmt}"], 5
        )
        # the first status of a checkout validates every manifest with the schemas; later
        # ones, while no input of validation changed, read .modelward/cache/desired.json
        forget = lambda: shutil.rmtree(repo / ".modelward", ignore_errors=True)  # noqa: E731
        # (`--format text` only keeps its CPU figure apart from the repeated runs')
        cold_out = run("status, first run", [*mw, "status", "--format", "text"], 5, forget)
        status_out = run("modelward status", [*mw, "status"], 5)
        assert cold_out == status_out
        audit_out = run("modelward audit model7", [*mw, "audit", "model7"], 5)
        # GTO writes no evidence, so every stage is OutOfSync ("a tag without modelward's
        # evidence"); the benchmark measures the read, not the verdict
        assert status_out.startswith("50 models: 0 Synced, 50 OutOfSync"), status_out[:200]
        head = "model7: 25 events; now staging=1.19.0, production=1.17.0"
        assert audit_out.startswith(head), audit_out[:200]

        exe = gto()
        if exe is not None:
            version = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
            print(f"baseline: {version.stdout.replace('🪴', '').strip()} (median of 2 runs)")
            show_out = run("gto show", [str(exe), "show"], 2)
            run("gto history model7", [str(exe), "history", "model7"], 2)
            # both tools read the same state from the same tags
            model7 = next(line for line in show_out.splitlines() if " model7 " in line)
            assert "v1.17.0" in model7 and "v1.19.0" in model7, model7

        print()
        print(
            f"  {'command':<27} {'wall':>8} {'cpu':>8}   {'baseline':<19} {'wall':>8} {'cpu':>8}"
            f"   {'ratio (wall / cpu)':>18}"
        )
        pairs = [
            ("git for-each-ref refs/tags", None),
            ("status, first run", "gto show"),
            ("modelward status", "gto show"),
            ("modelward audit model7", "gto history model7"),
        ]
        for name, base in pairs:
            wall, cpu = measured[name]
            line = f"  {name:<27} {wall:>6.3f} s {cpu:>6.3f} s"
            if base in measured:
                bwall, bcpu = measured[base]
                line += (
                    f"   {base:<19} {bwall:>6.3f} s {bcpu:>6.3f} s"
                    f"   {bwall / wall:>7.1f}x / {bcpu / cpu:.1f}x faster"
                )
            elif base:
                line += f"   {base:<19} {'not installed':>17}"
            print(line)
        print()
        ok = (
            measured["modelward status"][0] < TARGET_S
            and measured["modelward audit model7"][0] < TARGET_S
        )
        verdict = "met" if ok else "MISSED (see cpu: wall time includes other load on the machine)"
        print(f"target: status and audit model7 under {TARGET_S} s wall each: {verdict}")
        first = measured["status, first run"][0]
        verdict = "met" if first < TARGET_S else "MISSED"
        print(
            f"first status of a checkout (or after any manifest changed), which validates "
            f"every file with the schemas: {first:.3f} s, under {TARGET_S} s: {verdict}"
        )


if __name__ == "__main__":
    main()
