"""Which models a change affects, and why: `git diff` merge-base..head -> a Plan.

The diff is one `git diff --name-status -z -M <merge-base> <head>`. Every changed path
is mapped to the models it can alter:

- `models/NAME/...`          NAME (added, deleted, renamed or changed)
- `data/DS/...`              every model whose manifest at head names dataset DS
- `policies/X.yaml`          the models its `applies_to.models` globs cover, at the merge
                             base AND at head (narrowing a policy re-checks what it used to
                             cover)
- `policies/waivers.yaml`    the models named by the waivers that changed
- `modelward.yaml`           every model at head

Cost grows with the diff, not with the repository: nothing is read for paths that touch
no model. A changed dataset is mapped to its models from their PARSED manifests: one
`git grep -E` over the manifests at head picks those that contain the dataset's name as
a word or any backslash (a YAML escape can spell a name without writing it), and only
those are parsed to read `data.dataset` (see `_Planner._models_using` for why that
filter misses nothing). Policies and waivers are few and read at both sides with one
`git cat-file --batch` each. This module parses raw YAML only (no pydantic, pandas or
scikit-learn): `modelward validate` judges the schemas.

A change that brings a symlink where a manifest, dataset or policy must be (see
`must_not_be_link`) is refused (exit 2): through a link, an edit elsewhere would alter
them without showing in the diff.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import git
from .errors import InvalidInput, Problem, UsageError
from .yamlio import load_bytes

CONFIG_FILE = "modelward.yaml"
MANIFEST = "model.yaml"
DATASET_MANIFEST = "dataset.yaml"
YAML_SUFFIXES = (".yaml", ".yml")
# The files that decide how everything else is judged: the rules, the config, and the
# automation that runs the judge (a same-repository pull request can edit the workflow
# that judges it, and CODEOWNERS decides who must review).
GOVERNED_PREFIXES = ("policies/", ".github/")
GOVERNED_FILES = (CONFIG_FILE, "CODEOWNERS", "docs/CODEOWNERS")

ModelStatus = Literal["changed", "added", "deleted", "renamed"]
FileStatus = Literal["added", "modified", "deleted", "renamed", "copied", "type-changed"]

_FILE_STATUS: dict[str, FileStatus] = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "T": "type-changed",
}


@dataclass(frozen=True)
class ChangedFile:
    """One entry of the diff. `old_path` and `similarity` are set for renames and copies."""

    status: FileStatus
    path: str
    old_path: str | None = None
    similarity: int | None = None
    mode: str = field(default="", compare=False)
    """git's file mode at the new side ("100644", "120000" for a symlink; "" when deleted)."""

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path this entry touches (both sides of a rename)."""
        if self.old_path is not None and self.status == "renamed":
            return (self.old_path, self.path)
        return (self.path,)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "path": self.path,
            "old_path": self.old_path,
            "similarity": self.similarity,
        }


@dataclass(frozen=True)
class AffectedModel:
    """A model the change may alter, with every reason found (in a stable order)."""

    name: str
    status: ModelStatus
    reasons: tuple[str, ...]
    old_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "reasons": list(self.reasons),
            "old_name": self.old_name,
        }


@dataclass(frozen=True)
class Plan:
    """What a change between two commits affects.

    `base`, `head` and `merge_base` are full commit shas; `base_ref` and `head_ref` are
    the names they were given as.
    """

    base: str
    head: str
    merge_base: str
    models: tuple[AffectedModel, ...]
    governance_files: tuple[str, ...]
    changed_files: tuple[ChangedFile, ...]
    base_ref: str = ""
    head_ref: str = ""

    @property
    def to_train(self) -> tuple[AffectedModel, ...]:
        """Affected models that exist at head (deleted ones are reported, not trained)."""
        return tuple(m for m in self.models if m.status != "deleted")

    def model(self, name: str) -> AffectedModel | None:
        return next((m for m in self.models if m.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "head": self.head,
            "merge_base": self.merge_base,
            "base_ref": self.base_ref,
            "head_ref": self.head_ref,
            "models": [m.to_dict() for m in self.models],
            "governance_files": list(self.governance_files),
            "changed_files": [f.to_dict() for f in self.changed_files],
        }

    def to_matrix(self) -> dict[str, Any]:
        """The value of a GitHub Actions `strategy.matrix`: one job per model to train.

        An empty plan gives `{"include": []}`, which GitHub refuses as a matrix: a
        workflow must skip the fan-out job then (see docs/changes.md, `has_models`).
        """
        return {
            "include": [{"model": m.name, "reasons": "; ".join(m.reasons)} for m in self.to_train]
        }


# ---------------------------------------------------------------- refs


def resolve(repo: Path, ref: str, option: str = "ref") -> str:
    """Full sha of the commit `ref` names; a UsageError (exit 2) when there is none."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n\r "):
        raise UsageError(f"{option} {ref!r} is not a valid git ref")
    sha = git.run(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    if not sha.strip():
        raise UsageError(
            f"{option} {ref!r} does not name a commit in {repo} "
            "(no branch, tag or commit of that name; fetch it first?)"
        )
    return sha.strip()


def default_base(repo: Path, head: str = "HEAD") -> str:
    """`origin/<default_branch>` if that remote branch exists, else `<default_branch>`.

    The default branch comes from modelward.yaml as committed at `head` (never the work
    tree), `main` when the file or the key is absent.
    """
    repo = git.toplevel(Path(repo))
    head_sha = resolve(repo, head, "--head")
    branch = "main"
    raw = git.read_blobs(repo, head_sha, [CONFIG_FILE]).get(CONFIG_FILE)
    if raw is not None:
        doc = load_bytes(raw, CONFIG_FILE)
        value = doc.data.get("default_branch", "main") if isinstance(doc.data, dict) else None
        if not isinstance(value, str) or not value:
            raise InvalidInput(
                [doc.problem(("default_branch",), f"expected a branch name (got {value!r})")]
            )
        branch = value
    remote = git.run(
        repo, "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}", check=False
    )
    return f"origin/{branch}" if remote.strip() else branch


# ---------------------------------------------------------------- the diff


def diff(repo: Path, old: str, new: str) -> tuple[ChangedFile, ...]:
    """`git diff --raw -z -M old new`, parsed (the raw form carries each file's mode)."""
    out = git.run(
        repo,
        "diff",
        "--raw",
        "-z",
        "-M",
        "--no-abbrev",
        "--no-color",
        "--no-ext-diff",
        "--no-relative",
        old,
        new,
        "--",
    )
    return parse_raw(out)


def parse_raw(out: str) -> tuple[ChangedFile, ...]:
    """Entries of `git diff --raw -z`: `:OLDMODE NEWMODE OLDSHA NEWSHA STATUS\\0PATH\\0[PATH\\0]`."""
    tokens = out.split("\0")
    files: list[ChangedFile] = []
    i = 0
    while i < len(tokens) and tokens[i]:
        meta = tokens[i].lstrip(":").split()
        new_mode, code = meta[1], meta[4]
        mode = "" if set(new_mode) == {"0"} else new_mode
        status = _FILE_STATUS.get(code[0], "modified")
        if code[0] in "RC":
            similarity = int(code[1:]) if code[1:].isdigit() else None
            files.append(ChangedFile(status, tokens[i + 2], tokens[i + 1], similarity, mode))
            i += 3
        else:
            files.append(ChangedFile(status, tokens[i + 1], mode=mode))
            i += 2
    return tuple(files)


SYMLINK_MODE = "120000"


def must_not_be_link(path: str) -> bool:
    """Whether a symlink at `path` could alter a model, dataset or policy unseen.

    A link makes a file's content follow another path, so a change there would never
    show in the diff under the path that matters. modelward.yaml, a model folder or
    its manifest, anything under data/ and anything under policies/ must be real.
    """
    parts = path.split("/")
    if path == CONFIG_FILE or parts[0] in ("data", "policies"):
        return True
    return parts[0] == "models" and (len(parts) <= 2 or (len(parts) == 3 and parts[2] == MANIFEST))


def refuse_links(files: Iterable[ChangedFile]) -> None:
    """InvalidInput (exit 2) naming every symlink a change brings where none may be."""
    problems = [
        Problem(f.path, 1, "", LINK_MESSAGE)
        for f in files
        if f.mode == SYMLINK_MODE and must_not_be_link(f.path)
    ]
    if problems:
        raise InvalidInput(problems)


LINK_MESSAGE = (
    "is a symbolic link; manifests, datasets and policies must be regular files "
    "(a change to the link's target would alter them without showing in the diff)"
)


# ---------------------------------------------------------------- the plan


def plan(repo: Path, base: str, head: str) -> Plan:
    """The models a change from the merge base of `base` and `head` to `head` affects."""
    repo = git.toplevel(Path(repo))
    base_sha = resolve(repo, base, "--base")
    head_sha = resolve(repo, head, "--head")
    mb = git.run(repo, "merge-base", base_sha, head_sha, check=False).strip()
    if not mb:
        raise UsageError(f"--base {base!r} and --head {head!r} share no history (no merge base)")
    files = diff(repo, mb, head_sha)
    refuse_links(files)
    models = _Planner(repo, mb, head_sha, files).run()
    governance = sorted({p for f in files for p in f.paths if is_governance_file(p)})
    return Plan(
        base=base_sha,
        head=head_sha,
        merge_base=mb,
        models=models,
        governance_files=tuple(governance),
        changed_files=files,
        base_ref=base,
        head_ref=head,
    )


def is_governance_file(path: str) -> bool:
    """A change to this path needs the approval of governance.owners."""
    path = path.removeprefix("./")
    return path in GOVERNED_FILES or path.startswith(GOVERNED_PREFIXES)


def model_of(path: str) -> str | None:
    """NAME for a path under models/NAME/, else None."""
    parts = path.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == "models" and parts[1] else None


def is_manifest(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == "models" and parts[2] == MANIFEST


def dataset_of(path: str) -> tuple[str, str] | None:
    """(DS, path inside data/DS/) for a path under data/DS/, else None."""
    parts = path.split("/", 2)
    if len(parts) == 3 and parts[0] == "data" and parts[1]:
        return parts[1], parts[2]
    return None


def policy_stem(path: str) -> str | None:
    """X for policies/X.yaml (a direct child), else None."""
    parts = path.split("/")
    if len(parts) == 2 and parts[0] == "policies" and parts[1].endswith(YAML_SUFFIXES):
        return parts[1].rsplit(".", 1)[0]
    return None


def _same_file_moved(f: ChangedFile) -> bool:
    """An unchanged file carried to the same place in another folder (a folder rename)."""
    if f.old_path is None or f.similarity != 100:
        return False
    return f.old_path.split("/", 2)[-1] == f.path.split("/", 2)[-1]


def _verb(status: FileStatus, side: Literal["old", "new"]) -> str:
    if status == "renamed":
        return "deleted" if side == "old" else "added"
    return {"added": "added", "deleted": "deleted", "copied": "added"}.get(status, "changed")


def _sides(f: ChangedFile) -> Iterable[tuple[str, str]]:
    """(path, verb) for each side of an entry."""
    if f.status == "renamed" and f.old_path is not None:
        yield f.old_path, _verb(f.status, "old")
    yield f.path, _verb(f.status, "new")


@dataclass
class _Entry:
    status: ModelStatus
    reasons: list[str] = field(default_factory=list)
    old_name: str | None = None

    def add(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


class _Planner:
    """Maps a diff to affected models; reads git only for the kinds of change present."""

    def __init__(self, repo: Path, mb: str, head: str, files: Sequence[ChangedFile]) -> None:
        self.repo, self.mb, self.head, self.files = repo, mb, head, files
        self.entries: dict[str, _Entry] = {}
        self.gone: set[str] = set()  # names whose manifest left (renamed away)
        self._head_models: list[str] | None = None

    def run(self) -> tuple[AffectedModel, ...]:
        self._model_folders()
        self._datasets()
        self._policies()
        self._waivers()
        if any(CONFIG_FILE in f.paths for f in self.files):
            for name in self.head_models():
                self._entry(name).add(f"{CONFIG_FILE} changed")
        return tuple(
            AffectedModel(name, e.status, tuple(e.reasons), e.old_name)
            for name, e in sorted(self.entries.items())
        )

    def _entry(self, name: str) -> _Entry:
        return self.entries.setdefault(name, _Entry("changed"))

    def head_models(self) -> list[str]:
        """Names of every model at head (listed once, only when a change needs all)."""
        if self._head_models is None:
            paths = git.ls_tree(self.repo, self.head, ["models"])
            self._head_models = sorted(p.split("/")[1] for p in paths if is_manifest(p))
        return self._head_models

    # -- models/NAME/...

    def _model_folders(self) -> None:
        others: dict[str, list[str]] = {}
        renames = {
            (f.old_path.split("/")[1], f.path.split("/")[1]): f
            for f in self.files
            if f.status == "renamed"
            and f.old_path
            and is_manifest(f.old_path)
            and is_manifest(f.path)
        }
        for (old, new), f in renames.items():
            entry = self.entries[new] = _Entry("renamed", old_name=old)
            entry.add(f"renamed from {old}")
            if f.similarity != 100:
                entry.add("manifest changed")
            self.gone.add(old)
        for f in self.files:
            if self._carried(f, renames):
                continue
            for path, verb in _sides(f):
                name = model_of(path)
                if name is None:
                    continue
                if is_manifest(path):
                    if verb == "added":
                        self.entries[name] = _Entry("added", ["new model"])
                    elif verb == "deleted":
                        self.entries[name] = _Entry("deleted", ["model deleted"])
                    else:
                        self._entry(name).add("manifest changed")
                else:
                    others.setdefault(name, []).append(f"{path} {verb}")
        for name in self.gone:
            if self.entries.get(name, _Entry("changed")).status in ("changed", "deleted"):
                self.entries.pop(name, None)
        unknown = sorted(n for n in others if n not in self.entries and n not in self.gone)
        present = (
            {
                p.split("/")[1]
                for p in git.ls_tree(
                    self.repo, self.head, [f"models/{n}/{MANIFEST}" for n in unknown]
                )
            }
            if unknown
            else set()
        )
        for name, reasons in others.items():
            known = self.entries.get(name)
            if known is None and name not in present:
                continue  # not a model at head: no manifest there
            if known is not None and known.status == "deleted":
                continue
            for reason in reasons:
                self._entry(name).add(reason)

    @staticmethod
    def _carried(f: ChangedFile, renames: dict[tuple[str, str], ChangedFile]) -> bool:
        """The manifest itself, or an unchanged file, moved by a model folder rename."""
        pair = (model_of(f.old_path or ""), model_of(f.path))
        if f.status != "renamed" or pair not in renames:
            return False
        return is_manifest(f.path) or _same_file_moved(f)

    # -- data/DS/...

    def _datasets(self) -> None:
        touched: dict[str, list[tuple[str, str]]] = {}
        for f in self.files:
            for path, verb in _sides(f):
                found = dataset_of(path)
                if found is not None:
                    touched.setdefault(found[0], []).append((found[1], verb))
        if not touched:
            return
        names = sorted(touched)
        specs = git.read_blobs(
            self.repo, self.head, [f"data/{n}/{DATASET_MANIFEST}" for n in names]
        )
        users = self._models_using(names)
        for ds in names:
            expectations = _expectations_file(specs.get(f"data/{ds}/{DATASET_MANIFEST}"))
            reasons = []
            for rel, verb in touched[ds]:
                if rel == expectations:
                    reasons.append(f"expectations of {ds} {verb}")
                else:
                    reasons.append(f"dataset {ds}: {rel} {verb}")
            for model in users.get(ds, ()):
                entry = self._entry(model)
                for reason in reasons:
                    entry.add(reason)

    def _models_using(self, datasets: Sequence[str]) -> dict[str, list[str]]:
        """Models at head whose PARSED manifest names each dataset.

        A text search alone can be fooled (`dataset: "ch\\x75rn"` is churn once parsed),
        so it only picks the manifests worth parsing, and each is judged by its parsed
        `data.dataset`. Without escapes, a YAML string's characters are written in the
        file as they are: quoting, flow style, quoted keys, tags and anchors change what
        surrounds the name, never the name (an alias repeats a node written, name and
        all, at its anchor in the same file). So a manifest naming dataset DS either
        contains DS between non-word characters, or contains a backslash (the only way
        to write a character as an escape, in double quotes). One `git grep -E` lists
        both kinds; every one of them is parsed. Manifests that are not UTF-8 text are
        not read here: they cannot load, so `validate` (and any flow that loads
        them) refuses them.
        """
        word = "[^[:alnum:]_]"
        patterns = [f"(^|{word}){git.ere_literal(ds)}({word}|$)" for ds in datasets]
        patterns.append(r"\\")
        candidates = [
            p
            for p in git.grep_files(
                self.repo, self.head, patterns, [f"models/*/{MANIFEST}"], extended=True
            )
            if is_manifest(p)
        ]
        blobs = git.read_blobs(self.repo, self.head, candidates)
        users: dict[str, list[str]] = {}
        for path in candidates:
            name = path.split("/")[1]
            named = _dataset_named(blobs.get(path), path)
            # an unreadable manifest is kept (conservative): validation will report it
            for ds in [named] if named is not None else datasets:
                if ds in datasets:
                    users.setdefault(ds, []).append(name)
        return users

    # -- policies/X.yaml

    def _policies(self) -> None:
        changed: list[tuple[ChangedFile, str]] = []
        for f in self.files:
            stem = policy_stem(f.path) or (policy_stem(f.old_path) if f.old_path else None)
            if stem is not None and stem != "waivers":
                changed.append((f, stem))
        if not changed:
            return
        old_paths = [f.old_path or f.path for f, _ in changed if f.status != "added"]
        new_paths = [f.path for f, _ in changed if f.status != "deleted"]
        before = git.read_blobs(self.repo, self.mb, old_paths)
        after = git.read_blobs(self.repo, self.head, new_paths)
        for f, stem in changed:
            globs: list[str] = []
            if f.status != "added":
                path = f.old_path or f.path
                globs += _policy_globs(before.get(path), path)
            if f.status != "deleted":
                globs += _policy_globs(after.get(f.path), f.path)
            verb = {"added": "added", "deleted": "deleted"}.get(f.status, "changed")
            for model in self.head_models():
                if any(fnmatch.fnmatchcase(model, g) for g in globs):
                    self._entry(model).add(f"policy {stem} {verb}")

    # -- policies/waivers.yaml

    def _waivers(self) -> None:
        reasons: list[tuple[str, str]] = []  # (model glob, reason)
        for f in self.files:
            if not any(policy_stem(p) == "waivers" for p in f.paths):
                continue
            old_path = f.old_path or f.path
            before = _waiver_entries(
                git.read_blobs(self.repo, self.mb, [old_path]).get(old_path)
                if f.status != "added" and policy_stem(old_path) == "waivers"
                else None
            )
            after = _waiver_entries(
                git.read_blobs(self.repo, self.head, [f.path]).get(f.path)
                if f.status != "deleted" and policy_stem(f.path) == "waivers"
                else None
            )
            for key in sorted(set(before) | set(after)):
                if before.get(key) == after.get(key):
                    continue
                verb = (
                    "added" if key not in before else "removed" if key not in after else "changed"
                )
                policy, rule, model = key
                reasons.append((model, f"waiver {policy}/{rule} {verb}"))
        if not reasons:
            return
        for name in self.head_models():
            for glob, reason in reasons:
                if fnmatch.fnmatchcase(name, glob):
                    self._entry(name).add(reason)


# ---------------------------------------------------------------- raw YAML readers


def _data(raw: bytes | None, path: str) -> Any:
    """The YAML data of a blob, or None when it is missing or unreadable."""
    if raw is None:
        return None
    try:
        return load_bytes(raw, path).data
    except InvalidInput:
        return None


def _expectations_file(raw: bytes | None) -> str:
    data = _data(raw, DATASET_MANIFEST)
    value = data.get("expectations") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else "expectations.yaml"


def _dataset_named(raw: bytes | None, path: str) -> str | None:
    data = _data(raw, path)
    spec = data.get("data") if isinstance(data, dict) else None
    value = spec.get("dataset") if isinstance(spec, dict) else None
    return value if isinstance(value, str) else None


def _policy_globs(raw: bytes | None, path: str) -> list[str]:
    """applies_to.models of a policy; every model ("*") when it cannot be read."""
    if raw is None:
        return []
    data = _data(raw, path)
    scope = data.get("applies_to") if isinstance(data, dict) else None
    if not isinstance(scope, dict):
        return ["*"]
    models = scope.get("models", ["*"])
    if isinstance(models, list) and all(isinstance(m, str) for m in models):
        return list(models)
    return ["*"]


def _waiver_entries(raw: bytes | None) -> dict[tuple[str, str, str], str]:
    """(policy, rule, model) -> canonical JSON of the waivers with that key."""
    data = _data(raw, "policies/waivers.yaml")
    items = data.get("waivers") if isinstance(data, dict) else None
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        key = (
            str(item.get("policy", "?")),
            str(item.get("rule", "?")),
            str(item.get("model", "*")),
        )
        grouped.setdefault(key, []).append(json.dumps(item, sort_keys=True, default=str))
    return {key: json.dumps(sorted(values)) for key, values in grouped.items()}
