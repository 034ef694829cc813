"""Run a GitHub Actions job of this repository's workflows offline, step by step.

The `run:` steps are the workflow's own: each runs with bash (`bash -e`, GitHub's
default shell), in order, with the `GITHUB_*` environment, the event payload at
GITHUB_EVENT_PATH, `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY` and the step's `env:`
evaluated from the `github`, `matrix`, `needs` and `steps` contexts. The `uses:` steps
are what the test provides: their *effect* (a checkout of the right SHA from the bare
origin; Python, which is the interpreter running the tests; artifacts as folders).
An expression or an action this harness does not know fails the test, so a workflow
that grows a new command or action breaks it until the harness learns it.

The forge: with `token=""` (the default) the bot sees no token and uses its local
forge, as a repository without GitHub would. A GitHub REST test server plugs in by
passing `token` and `api_url` (they become `github.token` and GITHUB_API_URL).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SRC = Path(__file__).resolve().parent.parent / "src"


def this_checkouts_pythonpath() -> str:
    """PYTHONPATH for subprocesses that run in other folders: this checkout's modelward
    first (a relative PYTHONPATH=src would silently fall back to an installed copy)."""
    rest = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([str(SRC), *[p for p in rest.split(os.pathsep) if p]])


EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepLog:
    name: str
    code: int
    stdout: str = ""
    stderr: str = ""


@dataclass
class JobResult:
    """What a job did: each step's exit code and output, the job outputs, the summary."""

    steps: list[StepLog]
    outputs: dict[str, str]
    summary: str
    workspace: Path

    @property
    def code(self) -> int:
        return next((s.code for s in self.steps if s.code != 0), 0)

    def log(self, name_part: str) -> StepLog:
        return next(s for s in self.steps if name_part in s.name)

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)


@dataclass
class Actions:
    """A runner for one repository: its bare origin, event contexts and artifact storage."""

    origin: Path
    home: Path
    repository: str = "acme/acme-models"
    token: str = ""
    api_url: str = "http://127.0.0.1:9/api"  # nothing listens: no token, no calls
    artifacts: Path = field(init=False)
    run_id: int = 1000

    def __post_init__(self) -> None:
        self.artifacts = self.home / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ jobs

    def run_job(
        self,
        workflow: Path,
        job_id: str,
        *,
        event_name: str,
        event: Mapping[str, Any],
        sha: str,
        ref: str,
        matrix: Mapping[str, Any] | None = None,
        needs: Mapping[str, Mapping[str, Any]] | None = None,
        workspace: Path | None = None,
    ) -> JobResult:
        """Run one job of `workflow` as GitHub would for this event."""
        doc = yaml.safe_load(workflow.read_text())
        job = doc["jobs"][job_id]
        self.run_id += 1
        label = job_id if not matrix else f"{job_id}-{matrix.get('model', len(matrix))}"
        label = re.sub(r"[^\w.-]", "_", label)
        home = self.home / f"run-{self.run_id}-{label}"
        temp = home / "runner-temp"
        temp.mkdir(parents=True)
        workspace = workspace or home / "workspace"
        event_path = home / "event.json"
        event_path.write_text(json.dumps(event))
        output_file, summary_file = temp / "output", temp / "summary.md"
        ctx: dict[str, Any] = {
            "github": {
                "event_name": event_name,
                "event": event,
                "sha": sha,
                "ref": ref,
                "repository": self.repository,
                "token": self.token,
                "run_id": str(self.run_id),
                "workspace": str(workspace),
            },
            "runner": {"os": "Linux", "temp": str(temp)},
            "matrix": dict(matrix or {}),
            "needs": {k: dict(v) for k, v in (needs or {}).items()},
            "steps": {},
            "env": {},
        }
        base_env = self._base_env(ctx, workspace, temp, event_path, output_file, summary_file)
        env_layers = {
            **_evaluate_map(doc.get("env", {}), ctx),
            **_evaluate_map(job.get("env", {}), ctx),
        }
        logs: list[StepLog] = []
        failed = False
        for i, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step.get("run", "")[:40]
            if not _should_run(step.get("if"), ctx, failed):
                continue
            if "uses" in step:
                self._use(step, ctx, workspace)
                logs.append(StepLog(name, 0))
                continue
            output_file.write_text("")
            step_env = {**env_layers, **_evaluate_map(step.get("env", {}), ctx)}
            script = home / f"step-{i}.sh"
            script.write_text(step["run"])
            proc = subprocess.run(
                ["bash", "-e", str(script)],
                cwd=workspace,
                env={**base_env, **step_env},
                capture_output=True,
                text=True,
            )
            logs.append(StepLog(name, proc.returncode, proc.stdout, proc.stderr))
            if "id" in step:
                ctx["steps"][step["id"]] = {"outputs": _read_outputs(output_file)}
            failed = failed or proc.returncode != 0
        outputs = _evaluate_map(job.get("outputs", {}), ctx)
        summary = summary_file.read_text() if summary_file.exists() else ""
        return JobResult(logs, outputs, summary, workspace)

    def _base_env(
        self,
        ctx: dict[str, Any],
        workspace: Path,
        temp: Path,
        event_path: Path,
        output_file: Path,
        summary_file: Path,
    ) -> dict[str, str]:
        gh = ctx["github"]
        bin_dir = str(Path(sys.executable).parent)
        return {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.home),
            "PYTHONPATH": str(SRC),
            "PIP_NO_INDEX": "1",  # offline: the pinned modelward is the one installed here
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "github-actions[bot]",
            "GIT_AUTHOR_EMAIL": "github-actions[bot]@users.noreply.github.com",
            "GIT_COMMITTER_NAME": "github-actions[bot]",
            "GIT_COMMITTER_EMAIL": "github-actions[bot]@users.noreply.github.com",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": gh["event_name"],
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_SHA": gh["sha"],
            "GITHUB_REF": gh["ref"],
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_REPOSITORY_OWNER": self.repository.split("/")[0],
            "GITHUB_RUN_ID": gh["run_id"],
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": self.api_url,
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "GITHUB_ENV": str(temp / "env"),
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(temp),
        }

    # ------------------------------------------------------------------ uses:

    def _use(self, step: Mapping[str, Any], ctx: dict[str, Any], workspace: Path) -> None:
        action = str(step["uses"]).split("@", 1)[0]
        handler = USES.get(action)
        if handler is None:
            raise AssertionError(f"the harness does not provide {action}; teach it")
        handler(self, dict(step.get("with", {})), ctx, workspace)

    def checkout(self, with_: dict[str, Any], ctx: dict[str, Any], workspace: Path) -> None:
        ref = _evaluate(str(with_.get("ref", "${{ github.sha }}")), ctx)
        if not (workspace / ".git").exists():
            # fetch-depth 0 is a full clone; actions/checkout names the remote origin
            _git(workspace.parent, "clone", "-q", str(self.origin), workspace.name)
        _git(workspace, "fetch", "-q", "--tags", "origin")
        _git(workspace, "checkout", "-q", "--detach", ref)

    def upload(self, with_: dict[str, Any], ctx: dict[str, Any], workspace: Path) -> None:
        name = _evaluate(str(with_["name"]), ctx)
        paths = [p.strip() for p in str(with_["path"]).splitlines() if p.strip()]
        sources = [workspace / p for p in paths]
        present = [s for s in sources if s.exists()]
        if not present and with_.get("if-no-files-found") == "error":
            raise AssertionError(f"upload-artifact {name}: no files")
        # like upload-artifact: paths are stored relative to their least common ancestor
        root = Path(os.path.commonpath([str(s) for s in sources]))
        if len(sources) == 1 and sources[0].is_file():
            root = sources[0].parent
        dest = self.artifacts / name
        assert not dest.exists(), f"artifact {name} uploaded twice"
        for src in present:
            target = dest / src.relative_to(root)
            if src.is_dir():
                shutil.copytree(src, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)

    def download(self, with_: dict[str, Any], ctx: dict[str, Any], workspace: Path) -> None:
        pattern = str(with_.get("pattern", "*"))
        dest = workspace / str(with_.get("path", "."))
        merge = bool(with_.get("merge-multiple", False))
        for art in sorted(self.artifacts.iterdir()):
            if fnmatch.fnmatchcase(art.name, pattern):
                shutil.copytree(art, dest if merge else dest / art.name, dirs_exist_ok=True)


def _nothing(runner: Actions, with_: dict[str, Any], ctx: dict[str, Any], ws: Path) -> None:
    """setup-python: the tests' interpreter is first on PATH. cache: always a miss."""


USES: dict[str, Callable[[Actions, dict[str, Any], dict[str, Any], Path], None]] = {
    "actions/checkout": Actions.checkout,
    "actions/setup-python": _nothing,
    "actions/cache/restore": _nothing,
    "actions/cache/save": _nothing,
    "actions/upload-artifact": Actions.upload,
    "actions/download-artifact": Actions.download,
}


# ---------------------------------------------------------------------- expressions


def _lookup(path: str, ctx: Mapping[str, Any]) -> Any:
    value: Any = ctx
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise AssertionError(f"the harness cannot evaluate {path!r}")
        value = value[part]
    return value


def _value(expr: str, ctx: Mapping[str, Any]) -> Any:
    expr = expr.strip()
    if m := re.fullmatch(r"'([^']*)'", expr):
        return m.group(1)
    if m := re.fullmatch(r"fromJSON\((.+)\)", expr):
        return json.loads(_value(m.group(1), ctx))
    if re.fullmatch(r"[A-Za-z_][\w-]*(\.[\w-]+)+", expr):
        return _lookup(expr, ctx)
    raise AssertionError(f"the harness cannot evaluate {expr!r}")


def _condition(expr: str, ctx: Mapping[str, Any], failed: bool) -> bool:
    results = []
    for part in expr.split("&&"):
        part = part.strip()
        if part == "always()":
            results.append(True)
        elif part == "success()":
            results.append(not failed)
        elif m := re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", part):
            left, right = str(_value(m.group(1), ctx)), str(_value(m.group(3), ctx))
            results.append((left == right) == (m.group(2) == "=="))
        else:
            raise AssertionError(f"the harness cannot evaluate the condition {part!r}")
    ran_despite_failure = "always()" in expr
    return all(results) and (ran_despite_failure or not failed)


def _should_run(cond: Any, ctx: Mapping[str, Any], failed: bool) -> bool:
    if cond is None:
        return not failed
    return _condition(str(cond).removeprefix("${{").removesuffix("}}"), ctx, failed)


def job_should_run(cond: str | None, needs: Mapping[str, Mapping[str, Any]]) -> bool:
    """A job's `if:`, with `needs.<job>.result` and `.outputs` (a skipped need fails it)."""
    if cond is None:
        return all(n.get("result") == "success" for n in needs.values())
    return _condition(cond, {"needs": needs}, failed=False)


def _evaluate(text: str, ctx: Mapping[str, Any]) -> str:
    return EXPR.sub(lambda m: str(_value(m.group(1), ctx)), text)


def _evaluate_map(values: Mapping[str, Any], ctx: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): _evaluate(str(v), ctx) for k, v in values.items()}


def _read_outputs(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def pull_request_event(
    action: str,
    number: int,
    *,
    author: str,
    head_sha: str,
    head_ref: str,
    base_sha: str,
    base_ref: str,
    repository: str,
    review: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields of GitHub's pull_request / pull_request_review payloads the bot reads."""
    owner, name = repository.split("/")
    event: dict[str, Any] = {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "state": "open",
            "draft": False,
            "user": {"login": author, "type": "User"},
            "head": {"sha": head_sha, "ref": head_ref, "repo": {"full_name": repository}},
            "base": {"sha": base_sha, "ref": base_ref, "repo": {"full_name": repository}},
            "html_url": f"https://github.com/{repository}/pull/{number}",
        },
        "repository": {
            "full_name": repository,
            "name": name,
            "owner": {"login": owner},
            "default_branch": base_ref,
        },
        "sender": {"login": author, "type": "User"},
    }
    if review is not None:
        event["review"] = dict(review)
        event["sender"] = {"login": review["user"]["login"], "type": "User"}
    return event


def push_event(before: str, after: str, ref: str, repository: str, pusher: str) -> dict[str, Any]:
    owner, name = repository.split("/")
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        # GitHub's push payloads name the default branch (promote checks the push is to it);
        # here the pushed branch is the default one
        "repository": {
            "full_name": repository,
            "name": name,
            "owner": {"login": owner},
            "default_branch": ref.removeprefix("refs/heads/"),
        },
        "pusher": {"name": pusher},
        "sender": {"login": pusher, "type": "User"},
    }
