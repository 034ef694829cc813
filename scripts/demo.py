"""`make demo`: the main job of modelward, end to end, on the example instance.

Each step prints the command it runs, so the demo doubles as a tour of the CLI.
The pull-request and merge steps run in a throw-away clone (with a bare origin)
of the example instance, so the demo never changes this checkout's git state.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELWARD = [sys.executable, "-m", "modelward"]
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "alice",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "modelward demo",
    "GIT_COMMITTER_EMAIL": "demo@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def step(title: str) -> None:
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}", flush=True)


def run(*args: str, cwd: Path = ROOT, ok: tuple[int, ...] = (0,)) -> int:
    print(f"\n$ modelward {shlex.join(args)}", flush=True)
    code = subprocess.run([*MODELWARD, *args], cwd=cwd, env=ENV).returncode
    if code not in ok:
        sys.exit(f"demo: `modelward {shlex.join(args)}` exited {code}, expected {ok}")
    print(f"(exit {code})", flush=True)
    return code


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, env=ENV, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"demo: git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if not re.search(old, text, flags=re.M):
        sys.exit(f"demo: {path} has no {old!r}")
    path.write_text(re.sub(old, new, text, count=1, flags=re.M))


def open_pr(instance: Path, *args: str, ok: tuple[int, ...] = (0,)) -> int:
    """`modelward pr` against main in the demo's clone."""
    return run("pr", "--repo", str(instance), "--base", "main", *args, ok=ok)


def make_clone(tmp: Path) -> Path:
    work = tmp / "acme-models"
    work.mkdir()
    for part in ("models", "data", "policies", "modelward.yaml"):
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, work / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, work / part)
    (work / ".gitignore").write_text(".modelward/\n")
    origin = tmp / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "Example model repository")
    git(work, "remote", "add", "origin", str(origin))
    git(work, "push", "-q", "origin", "main")
    return work


def main() -> None:
    print("modelward demo: the example instance at the root of this repository")
    with tempfile.TemporaryDirectory(prefix="modelward-demo-") as tmp:
        instance = make_clone(Path(tmp))
        print(f"(working in a throw-away clone: {instance})")

        step("1. Validate every manifest, dataset and policy")
        run("validate", "--repo", str(instance))

        step("2. Check the data with Great Expectations, then train the three models")
        run("check-data", "--repo", str(instance))
        run("train", "--repo", str(instance))
        print("\nAgain: every model is a cache hit now, nothing is retrained.")
        run("train", "--repo", str(instance))

        step("3. A pull request: alice tunes churn, bumps it to 1.1.0 and asks for staging")
        base = git(instance, "rev-parse", "main")
        git(instance, "checkout", "-q", "-b", "tune-churn")
        manifest = instance / "models/churn/model.yaml"
        edit(manifest, r"learning_rate: 0\.05", "learning_rate: 0.08")
        edit(manifest, r"^version: 1\.0\.0", "version: 1.1.0")
        edit(manifest, r"^stages: \{\}.*$", "stages: {staging: 1.1.0}")
        git(instance, "commit", "-q", "-am", "Tune churn: faster learning rate; ask for staging")
        run("plan", "--repo", str(instance), "--base", "main")
        print("\nNo approval yet: the report says pending and the exit code blocks the merge.")
        report = Path(tmp) / "report.md"
        open_pr(instance, "--author", "alice", "--pr-number", "1", "--report", str(report), ok=(1,))
        print("\nbob and dave (owners of churn) approve; alice's own approval would not count.")
        open_pr(
            instance,
            "--author",
            "alice",
            "--pr-number",
            "1",
            "--approved-by",
            "bob",
            "--approved-by",
            "dave",
            "--report",
            str(report),
        )

        step("4. Another pull request moves diabetes straight to production: stage order blocks it")
        git(instance, "checkout", "-q", "-b", "diabetes-to-prod", "main")
        diabetes = instance / "models/diabetes/model.yaml"
        edit(diabetes, r"^version: 2\.1\.0", "version: 2.2.0")
        edit(diabetes, r"^stages: \{\}.*$", "stages: {production: 2.2.0}")
        git(instance, "commit", "-q", "-am", "Ship diabetes to production")
        open_pr(
            instance,
            "--author",
            "erin",
            "--pr-number",
            "2",
            "--approved-by",
            "dana",
            "--approved-by",
            "frank",
            "--report",
            str(report),
            ok=(1,),
        )
        text = report.read_text()
        print("\nThe blocking verdicts of that report:")
        for line in text.splitlines():
            if line.startswith("| ❌"):
                print("  " + line)

        step("5. Merge the approved pull request (Approved-by trailers) and promote")
        git(instance, "checkout", "-q", "main")
        git(
            instance,
            "merge",
            "--no-ff",
            "-q",
            "tune-churn",
            "-m",
            "Merge pull request #1 from alice/tune-churn\n\nApproved-by: bob\nApproved-by: dave\n"
            "Pull-request-author: alice",
        )
        git(instance, "push", "-q", "origin", "main")
        run("promote", "--repo", str(instance), "--before", base, "--after", "HEAD")
        print("\nRe-running the promotion creates nothing new:")
        run("promote", "--repo", str(instance), "--before", base, "--after", "HEAD")
        print("\nThe registry is git tags, pushed to origin:")
        print(git(instance, "ls-remote", "--tags", "origin"))

        step("6. Desired (manifests) against actual (tags), and the audit trail of churn")
        run("status", "--repo", str(instance))
        run("audit", "churn", "--repo", str(instance), "--verify")
        run("card", "churn", "--repo", str(instance))
    print("\ndemo finished")


if __name__ == "__main__":
    main()
