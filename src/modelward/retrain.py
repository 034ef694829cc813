"""A drift finding becomes one ordinary retraining pull request per model.

`run` measures the new data against the registered reference (monitoring.py), then
makes branch `modelward/retrain/<model>` from the default branch with one bot commit:
the new snapshot in place of the dataset's file (or, for a remote dataset, its URI),
the sha256 pin updated, the model's minor version bumped. The commit message and the
pull-request body carry the drift report and a hidden marker (model, reference version,
data fingerprint). The pull request is then judged by `modelward pr` like any other;
the bot is its author and never approves.

Rules, in order: data whose fingerprint was proposed and closed without merging is not
proposed again; the open proposal of the model is left alone when it already carries
this data, commented on (never rewritten) once a person committed to its branch, and
otherwise rewritten in place; a new proposal waits while `monitoring.max_open_prs`
retraining pull requests are open.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from . import git, monitoring
from .changes import default_base
from .errors import UsageError
from .forge.base import Forge, Proposal, Published, PullRequest
from .manifest import SEMVER_RE
from .workspace import Workspace, load, state_dir
from .yamlio import load_bytes

if TYPE_CHECKING:
    from .monitoring import DriftResult

BRANCH_PREFIX = "modelward/retrain/"
TRAILER = "Modelward-Retrain"
MARKER = "modelward:retrain"
BOT_NAME = "modelward[bot]"
BOT_EMAIL = "modelward-bot@users.noreply.invalid"
LABELS = ("retrain", "drift")
WORKTREE = "retrain-worktree"

Action = Literal["opened", "updated", "unchanged", "commented", "rejected", "capped"]


@dataclass(frozen=True)
class Outcome:
    """What `retrain` did, and why."""

    model: str
    action: Action
    branch: str
    message: str
    version: str | None = None
    commit: str | None = None
    body: str = ""
    published: tuple[Published, ...] = field(default=())
    drift: DriftResult | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "action": self.action,
            "branch": self.branch,
            "message": self.message,
            "version": self.version,
            "commit": self.commit,
            "published": [p.location for p in self.published],
            "drift": None if self.drift is None else self.drift.to_dict(),
        }


def branch_name(model: str) -> str:
    return f"{BRANCH_PREFIX}{model}"


def marker(model: str, reference: str, fingerprint: str) -> str:
    """The hidden HTML comment that identifies a retraining pull request's content."""
    data = json.dumps(
        {"model": model, "reference": reference, "fingerprint": fingerprint}, sort_keys=True
    )
    return f"<!-- {MARKER} {data} -->"


def parse_marker(body: str) -> dict[str, str] | None:
    match = re.search(rf"<!-- {re.escape(MARKER)} (\{{.*?\}}) -->", body)
    if match is None:
        return None
    try:
        data = json.loads(match.group(1))
    except ValueError:
        return None
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else None


def minor_bump(version: str) -> str:
    match = SEMVER_RE.match(version)
    if match is None:
        raise UsageError(f"version {version!r} is not a semantic version")
    return f"{match.group(1)}.{int(match.group(2)) + 1}.0"


def run(
    repo: Path,
    name: str,
    data: str,
    *,
    forge: Forge,
    against: str | None = None,
    cwd: Path | None = None,
) -> Outcome:
    """Propose retraining `name` on `data` (a file or URI); see the module docstring."""
    ws = load(repo)
    result = monitoring.check(ws, name, data, against=against, cwd=cwd)
    fingerprint = result.data.sha256
    branch = branch_name(name)
    requests = forge.retrain_requests(name)
    mine = [r for r in requests if r.model == name]
    if any(r.state == "closed" and r.fingerprint == fingerprint for r in mine):
        return Outcome(
            name,
            "rejected",
            branch,
            f"a retraining pull request with this data ({fingerprint[:12]}) was closed "
            "without merging; not proposing it again (new data will be)",
            drift=result,
        )
    open_one = next((r for r in mine if r.state == "open"), None)
    if open_one is not None and open_one.fingerprint == fingerprint:
        return Outcome(
            name,
            "unchanged",
            branch,
            f"the open retraining pull request on {branch} already carries this data",
            drift=result,
        )
    base = default_base(repo)
    if open_one is not None and _person_committed(repo, base, branch):
        body = _body(ws, result, version=None)
        head = git.rev_parse(repo, f"refs/heads/{branch}")
        pr = PullRequest(number=open_one.number, author=BOT_NAME, head_sha=head, base_ref=base)
        published = forge.comment(pr, body)
        return Outcome(
            name,
            "commented",
            branch,
            f"someone committed to {branch}; the bot leaves it alone and commented instead",
            body=body,
            published=(published,),
            drift=result,
        )
    if open_one is None:
        cap = ws.config.monitoring.max_open_prs
        open_count = sum(1 for r in requests if r.state == "open")
        if open_count >= cap:
            return Outcome(
                name,
                "capped",
                branch,
                f"{open_count} retraining pull requests are open, the cap is {cap} "
                "(monitoring.max_open_prs in modelward.yaml); merge or close one first",
                drift=result,
            )
    version, commit, body = _commit(repo, ws, name, result, base)
    proposal = Proposal(
        model=name,
        branch=branch,
        base_ref=base,
        head_sha=commit,
        title=_title(result, version),
        body=body,
        labels=(*LABELS, f"model:{name}"),
        reference=result.reference.version,
        fingerprint=fingerprint,
    )
    published = forge.propose(proposal)
    action: Action = "updated" if open_one is not None else "opened"
    return Outcome(
        name,
        action,
        branch,
        f"{action} the retraining pull request on {branch}: {name} {version}",
        version=version,
        commit=commit,
        body=body,
        published=(published,),
        drift=result,
    )


# ---------------------------------------------------------------- the branch


def _person_committed(repo: Path, base: str, branch: str) -> bool:
    """Whether a commit on the branch (since the default branch) is not the bot's."""
    log = git.run(repo, "log", "--format=%an%x00%B%x01", f"{base}..refs/heads/{branch}")
    for entry in log.split("\x01"):
        if not entry.strip():
            continue
        author, _, message = entry.strip("\n").partition("\0")
        if author != BOT_NAME or f"\n{TRAILER}:" not in f"\n{message}":
            return True
    return False


def _commit(
    repo: Path, ws: Workspace, name: str, result: DriftResult, base: str
) -> tuple[str, str, str]:
    """Make the bot's one commit on the retraining branch; (version, commit, body)."""
    record = ws.models[name].record
    dataset = ws.datasets[record.data.dataset]
    base_sha = git.rev_parse(repo, base)
    model_path = f"models/{name}/model.yaml"
    dataset_path = f"data/{dataset.record.name}/dataset.yaml"
    model_raw = git.show(repo, base_sha, model_path)
    dataset_raw = git.show(repo, base_sha, dataset_path)
    if model_raw is None or dataset_raw is None:
        raise UsageError(f"{model_path} or {dataset_path} is not on {base}; commit them first")
    model_doc = load_bytes(model_raw, model_path)
    dataset_doc = load_bytes(dataset_raw, dataset_path)
    old_version = str(model_doc.data.get("version", record.version))
    version = minor_bump(old_version)
    new_model = _set_line(model_raw.decode(), model_doc.line(("version",)), "version", version)
    entry = _entry_stage(ws)
    if entry is not None:
        # the retrained version asks for the entry stage, so the pull request is judged by
        # that stage's policies (approvals, no-regression) like any other promotion
        new_model = _set_stage(new_model, entry, version)

    new = result.data
    files: dict[str, bytes] = {model_path: new_model.encode()}
    source = str(dataset_doc.data.get("source", dataset.record.source))
    text = dataset_raw.decode()
    if "://" in source:
        if not new.is_uri:
            raise UsageError(
                f"dataset {dataset.record.name!r} is remote ({source}); give the new "
                "snapshot's URI with --data"
            )
        text = _set_line(text, dataset_doc.line(("source",)), "source", new.location)
    else:
        if new.is_uri:
            raise UsageError(
                f"dataset {dataset.record.name!r} is a file in the repository ({source}); "
                "give the new snapshot as a file with --data"
            )
        wanted = dataset.record.file_format
        if monitoring.data_format(new.location) != wanted:
            raise UsageError(f"{new.display} is not {wanted}, the format of {dataset_path}")
        files[f"data/{dataset.record.name}/{source}"] = new.raw
    if "sha256" in dataset_doc.data or "://" in source:
        line = dataset_doc.line(("sha256",)) if "sha256" in dataset_doc.data else None
        text = (
            _set_line(text, line, "sha256", new.sha256)
            if line is not None
            else text.rstrip("\n") + f"\nsha256: {new.sha256}\n"
        )
    files[dataset_path] = text.encode()

    body = _body(ws, result, version=version)
    message = _message(result, version)
    commit = _write_commit(repo, base_sha, files, message)
    git.run(repo, "update-ref", f"refs/heads/{branch_name(name)}", commit)
    return version, commit, body


def _entry_stage(ws: Workspace) -> str | None:
    """The first stage of modelward.yaml that promotes from no other (staging)."""
    entries = [st.name for st in ws.config.stages if st.promotes_from is None]
    return entries[0] if entries else None


def _set_stage(text: str, stage: str, version: str) -> str:
    """Set `stages.<stage>` to `version`, keeping the map's style and other entries."""
    doc = load_bytes(text.encode(), "model.yaml")
    stages = doc.data.get("stages")
    if not isinstance(stages, dict):
        stages = {}
    line_no = doc.line(("stages",)) if "stages" in doc.data else None
    lines = text.splitlines(keepends=True)
    if line_no is not None:
        head = lines[line_no - 1]
        flow = re.match(r"^(stages:\s*)\{.*?\}(.*)$", head.rstrip("\n"))
        if flow is not None:
            entries = {**{str(k): str(v) for k, v in stages.items()}, stage: version}
            inner = ", ".join(f"{k}: {v}" for k, v in entries.items())
            lines[line_no - 1] = f"{flow.group(1)}{{{inner}}}\n"
            return "".join(lines)
        if stage in stages:
            at = doc.line(("stages", stage)) - 1
            lines[at] = re.sub(
                rf"^(\s*{re.escape(stage)}:\s*)\S+", lambda m: m.group(1) + version, lines[at]
            )
            return "".join(lines)
        lines.insert(line_no, f"  {stage}: {version}\n")
        return "".join(lines)
    version_line = doc.line(("version",))
    lines.insert(version_line, f"stages: {{{stage}: {version}}}\n")
    return "".join(lines)


def _set_line(text: str, line: int, key: str, value: str) -> str:
    """Replace the value of top-level `key` on its line, keeping any trailing comment."""
    lines = text.splitlines(keepends=True)
    old = lines[line - 1]
    match = re.match(rf"^({re.escape(key)}:\s*)(\S+)(.*)$", old.rstrip("\n"))
    if match is None:
        raise UsageError(f"cannot find `{key}:` on line {line} to update it")
    ending = "\n" if old.endswith("\n") else ""
    lines[line - 1] = f"{match.group(1)}{value}{match.group(3)}{ending}"
    return "".join(lines)


def _write_commit(repo: Path, base_sha: str, files: dict[str, bytes], message: str) -> str:
    """Commit `files` on top of `base_sha` in a scratch worktree; the checkout is untouched."""
    tree = state_dir(repo) / WORKTREE
    if tree.exists():
        git.run(repo, "worktree", "remove", "--force", str(tree), check=False)
        shutil.rmtree(tree, ignore_errors=True)
    git.run(repo, "worktree", "prune")
    git.run(repo, "worktree", "add", "--quiet", "--detach", "--force", str(tree), base_sha)
    try:
        for path, content in files.items():
            target = tree / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        git.run(tree, "add", "--", *files)
        git.run(
            tree,
            "-c",
            f"user.name={BOT_NAME}",
            "-c",
            f"user.email={BOT_EMAIL}",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "--quiet",
            "--no-verify",
            "--author",
            f"{BOT_NAME} <{BOT_EMAIL}>",
            "--file=-",
            input=message.encode(),
        )
        return git.rev_parse(tree, "HEAD")
    finally:
        git.run(repo, "worktree", "remove", "--force", str(tree), check=False)
        shutil.rmtree(tree, ignore_errors=True)
        git.run(repo, "worktree", "prune", check=False)


# ---------------------------------------------------------------- the texts


def _title(result: DriftResult, version: str) -> str:
    drifted = [f.feature for f in result.report.ranked() if f.drifted]
    why = f"drift in {', '.join(drifted[:3])}" if drifted else "new data"
    if result.report.decay is not None and result.report.decay.decayed:
        why = f"{result.report.decay.metric} decay" + (f", {why}" if drifted else "")
    return f"Retrain {result.model} {version} on new data ({why})"


def _message(result: DriftResult, version: str) -> str:
    from .drift_render import render_text

    ref = result.reference
    return (
        f"{_title(result, version)}\n\n"
        f"modelward retrain: new data {result.data.display} (sha256 {result.data.sha256}) "
        f"compared with {ref.label()}.\n\n"
        f"{render_text([result])}\n\n"
        f"{TRAILER}: "
        + json.dumps(
            {"model": result.model, "reference": ref.version, "fingerprint": result.data.sha256},
            sort_keys=True,
        )
        + "\n"
    )


def _body(ws: Workspace, result: DriftResult, *, version: str | None) -> str:
    from .drift_render import render_markdown

    ref = result.reference
    record = ws.models[result.model].record
    change = (
        f"This pull request puts the new snapshot in place of dataset "
        f"`{record.data.dataset}`'s file, updates its sha256 pin to `{result.data.sha256}` "
        f"and bumps `{result.model}` to {version}. "
        if version
        else "New data was measured against the registered version; the branch was not "
        "changed because a person has committed to it. "
    )
    return (
        f"{marker(result.model, ref.version, result.data.sha256)}\n"
        f"## modelward: retrain `{result.model}`\n\n"
        f"{change}`modelward pr` judges it like any other change (data checks, training, "
        f"no regression against the registered version, approvals); the bot that opened it "
        f"never approves. Closing it without merging means “not this data”: the same data "
        f"is not proposed again.\n\n"
        f"{render_markdown([result])}"
    )
