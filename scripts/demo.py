"""`make demo`: the whole story in one command, offline, on a freshly rendered repository.

It renders a new model repository from this template (cookiecutter, default answers)
next to a bare "origin", then walks what a team does with it: a pull request, blocked
while approvals are pending, approved by two owners, merged, promoted into registry
tags on origin, the status, the audit. Every step prints the command it runs. The
repository is kept, and its path printed at the end, so you can look around.

Without a GitHub token the bot uses its local forge: reports go to stdout and
`.modelward/`, approvals come from `--approved-by` and from `Approved-by:` trailers of
the merge commit.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELWARD = [sys.executable, "-m", "modelward"]
DATA_BLOCK = "<!-- modelward:data "
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "alice",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "alice",
    "GIT_COMMITTER_EMAIL": "alice@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    # the commands run in other folders: this checkout's modelward, whatever is installed
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
}
for name in ("GITHUB_ACTIONS", "GITHUB_TOKEN", "GH_TOKEN"):  # the demo is the local forge
    ENV.pop(name, None)


def step(title: str, story: str) -> None:
    print(f"\n== {title} {'=' * max(3, 74 - len(title))}\n{story}", flush=True)


def run(*args: str, cwd: Path, ok: tuple[int, ...] = (0,), brief: bool = False) -> str:
    """Run `modelward ARGS` and print its output, never the report's machine-readable
    block; `brief` prints a pull-request report's headline, summary and open verdicts."""
    print(f"\n$ modelward {shlex.join(args)}", flush=True)
    proc = subprocess.run([*MODELWARD, *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    out = proc.stdout.split(DATA_BLOCK, 1)[0].rstrip()
    if brief:
        out = headline(out)
    if out:
        print(out)
    if proc.stderr.strip():
        print(proc.stderr.rstrip())
    print(f"(exit {proc.returncode})", flush=True)
    if proc.returncode not in ok:
        sys.exit(f"demo: `modelward {shlex.join(args)}` exited {proc.returncode}, expected {ok}")
    return proc.stdout


def git(repo: Path, *args: str, show: bool = False) -> str:
    if show:
        print(f"\n$ git {shlex.join(args)}", flush=True)
    proc = subprocess.run(["git", *args], cwd=repo, env=ENV, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"demo: git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def render(out: Path) -> Path:
    """`cookiecutter <this repository> --no-input -o OUT`, through cookiecutter's API."""
    from cookiecutter.main import cookiecutter

    print(f"\n$ cookiecutter {ROOT} --no-input -o {out}", flush=True)
    return Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(out)))


def ask_for_staging(manifest: Path, version: str) -> None:
    """churn: a faster learning rate, a new version, staging as its desired stage."""
    text = manifest.read_text().replace("learning_rate: 0.05", "learning_rate: 0.08")
    text = re.sub(r"^version: .*$", f"version: {version}", text, count=1, flags=re.M)
    if re.search(r"^stage: ", text, flags=re.M):
        text = re.sub(r"^stage: .*$", "stage: staging", text, count=1, flags=re.M)
    else:  # the `stages:` map: staging gets the new version
        text = re.sub(r"^stages:.*\n(?:  .*\n)*", "", text, flags=re.M)
        text = text.replace(
            f"version: {version}\n", f"version: {version}\nstages:\n  staging: {version}\n"
        )
    manifest.write_text(text)


def headline(report: str) -> str:
    """The report's title, its summary table, and every verdict that is not a pass."""
    lines = report.splitlines()
    title = [line for line in lines if line.startswith("## ")][:1]
    first_table: list[str] = []
    for line in lines[lines.index(title[0]) + 1 if title else 0 :]:
        if line.startswith("|"):
            first_table.append(line)
        elif first_table:
            break
    open_verdicts = [line for line in lines if line.startswith(("| ⏳", "| ❌"))]
    return "\n".join([*title, "", *first_table, *(["", *open_verdicts] if open_verdicts else [])])


def main() -> None:
    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="modelward-demo-"))
    print("modelward demo: a team starts a model repository from the template and ships a model")

    step(
        "1. A new repository from the template",
        "The example models, data, policies and the bot's GitHub workflows, in one commit.",
    )
    repo = render(home)
    origin = home / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main", show=True)
    base = git(repo, "rev-parse", "main")

    step(
        "2. Pull request",
        "alice tunes churn (learning rate 0.05 -> 0.08), bumps it to 1.1.0, asks for staging.",
    )
    git(repo, "checkout", "-q", "-b", "tune-churn", show=True)
    ask_for_staging(repo / "models/churn/model.yaml", "1.1.0")
    git(repo, "commit", "-qam", "Tune churn: faster learning rate; ask for staging", show=True)
    git(repo, "push", "-q", "origin", "tune-churn")
    run("plan", cwd=repo)
    report_file = home / "report-1.md"
    pr_args = ("pr", "--author", "alice", "--pr-number", "1", "--report", str(report_file))

    step(
        "3. Blocked",
        "The bot checks the data, trains churn, compares it with the registry and applies\n"
        "the staging policy read from main. No owner has approved: pending, exit 1.",
    )
    run(*pr_args, cwd=repo, ok=(1,), brief=True)
    print(f"(the whole report, as the pull request comment shows it: {report_file})")

    step(
        "4. Approved",
        "bob and dave own churn and approve (alice's own approval would not count). The\n"
        "review re-evaluates approvals on the recorded results: nothing is retrained.",
    )
    run(*pr_args, "--approved-by", "bob", "--approved-by", "dave", cwd=repo, brief=True)

    step("5. Merged", "The approvals travel in the merge commit's trailers.")
    git(repo, "checkout", "-q", "main", show=True)
    git(
        repo,
        "merge",
        "--no-ff",
        "-q",
        "tune-churn",
        "-m",
        "Merge pull request #1 from alice/tune-churn\n\n"
        "Pull-request-author: alice\nApproved-by: bob\nApproved-by: dave",
        show=True,
    )
    git(repo, "push", "-q", "origin", "main", show=True)

    step(
        "6. Promoted",
        "What modelward-promote.yml runs on the push to main: the merge is re-judged, churn\n"
        "retrained from the merged commit, and registered as immutable tags on origin.",
    )
    run("promote", "--before", base, "--after", "HEAD", cwd=repo)
    print("\nThe registry is git tags, on origin:")
    for line in git(repo, "ls-remote", "--tags", "origin").splitlines():
        if not line.endswith("^{}"):
            print("  " + line.split("refs/tags/")[1])

    step("7. Status", "Desired (the manifests on main) against actual (the tags).")
    run("status", cwd=repo)

    step("8. Audit", "Who approved what, with which data and metrics; --verify re-checks it all.")
    run("audit", "churn", "--verify", cwd=repo)

    drift_story(repo, home, number=9, pr_number=2)

    print(
        f"\ndemo finished in {time.monotonic() - started:.0f} s. Look around:\n"
        f"  the repository   {repo}\n"
        f"  its origin       {origin}\n"
        f"  try              cd {repo} && git log --graph --oneline --all && git tag -n1"
    )


def drift_story(repo: Path, home: Path, *, number: int, pr_number: int) -> None:
    """Drift on a "next quarter" snapshot (exit 1, the moved features named), `retrain`
    opening its branch (a second run makes none), and `pr` judging that branch.

    Runs once churn has a registered version (after the promotion step)."""
    step(
        f"{number}. A quarter later",
        "Prices rose and the contract mix moved: new data against the training profile\n"
        "of the version in churn's furthest stage (Evidently's tests; exit 1 on drift).",
    )
    snapshot = home / "churn-next-quarter.csv"
    generator = repo / "data" / "churn" / "generate.py"
    subprocess.run(
        [sys.executable, str(generator), "--next-quarter", str(snapshot)], check=True, env=ENV
    )
    run("drift", "churn", "--data", str(snapshot), cwd=repo, ok=(1,))

    step(
        f"{number + 1}. Retraining, proposed",
        "The bot turns the finding into an ordinary pull request; the same data again\n"
        "proposes nothing new.",
    )
    run("retrain", "churn", "--data", str(snapshot), cwd=repo)
    run("retrain", "churn", "--data", str(snapshot), cwd=repo)
    branch = "modelward/retrain/churn"
    print(git(repo, "log", "--oneline", "-1", branch))

    step(
        f"{number + 2}. Judged like any other change",
        "The bot is the author and never approves: the owners' approval is pending.",
    )
    git(repo, "checkout", "-q", branch, show=True)
    run(
        "pr",
        "--author",
        "modelward[bot]",
        "--pr-number",
        str(pr_number),
        cwd=repo,
        ok=(1,),
        brief=True,
    )
    git(repo, "checkout", "-q", "main", show=True)


if __name__ == "__main__":
    main()
