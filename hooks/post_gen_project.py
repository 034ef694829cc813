"""Fill the new repository from the one example instance, then `git init` and commit.

The example (models/, data/, policies/, modelward.yaml) and the bot's workflows
(.github/workflows/modelward-*.yml, .github/workflow-variants/) have one copy: at the
root of the template repository, which is itself a live instance of them
(hooks/template_root.py gives its path); this hook copies from there and rewrites the
few lines that carry an answer (default branch, governance team, Python version,
modelward requirement). With the default answers the copies are byte for byte the
root's files, which tests/test_template.py checks. Any line it expects and does not
find is an error: the template and the root cannot drift apart silently.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
SOURCE = Path(r"""{{ modelward_template_root }}""")
TARGET = Path.cwd()
EXAMPLES = ("models", "data", "policies", "modelward.yaml")
EMPTY_INSTANCE = ("modelward.yaml", "policies/staging.yaml", "policies/production.yaml")
WORKFLOWS = ".github/workflows"
VARIANTS = ".github/workflow-variants"
IDENTITY = ("modelward template", "template@modelward.invalid")
# the root's files hold the default answers; those are the lines to rewrite
DEFAULTS = json.loads((SOURCE / "cookiecutter.json").read_text())


def substitutions(examples: bool) -> dict[str, list[tuple[str, str]]]:
    a, d = ANSWERS, DEFAULTS
    config = [
        (f"default_branch: {d['default_branch']}\n", f"default_branch: {a['default_branch']}\n"),
        (
            f'  owners: [{json.dumps(d["governance_team"])}, "carol"]\n',
            f'  owners: [{json.dumps(a["governance_team"])}, "carol"]\n'
            if examples
            else f"  owners: [{json.dumps(a['governance_team'])}]\n",
        ),
    ]
    workflow = [
        (
            f'python-version: "{d["python_version"]}"\n',
            f'python-version: "{a["python_version"]}"\n',
        ),
        (
            f"MODELWARD_REQUIREMENT: {d['modelward_requirement']}\n",
            f"MODELWARD_REQUIREMENT: {a['modelward_requirement']}\n",
        ),
    ]
    subs: dict[str, list[tuple[str, str]]] = {"modelward.yaml": config}
    for folder in (WORKFLOWS, VARIANTS):
        for path in sorted((TARGET / folder).glob("modelward-*.yml")):
            rel = path.relative_to(TARGET).as_posix()
            text = path.read_text()
            # a workflow that sets up Python or installs modelward must carry the defaults
            subs[rel] = [pair for pair in workflow if pair[0].split(":")[0] + ":" in text]
    subs[f"{WORKFLOWS}/modelward-promote.yml"].append(
        (f"    branches: [{d['default_branch']}]\n", f"    branches: [{a['default_branch']}]\n")
    )
    return subs


def copy_sources(examples: bool) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    if examples:
        for part in EXAMPLES:
            src = SOURCE / part
            if src.is_dir():
                shutil.copytree(src, TARGET / part, ignore=ignore)
            else:
                shutil.copy2(src, TARGET / part)
    else:
        for rel in EMPTY_INSTANCE:
            (TARGET / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(SOURCE / rel, TARGET / rel)
        for folder in ("models", "data"):
            (TARGET / folder).mkdir(exist_ok=True)
            (TARGET / folder / ".gitkeep").write_text("")
    (TARGET / WORKFLOWS).mkdir(parents=True, exist_ok=True)
    for path in sorted((SOURCE / WORKFLOWS).glob("modelward-*.yml")):
        shutil.copy2(path, TARGET / WORKFLOWS / path.name)
    if (SOURCE / VARIANTS).is_dir():
        shutil.copytree(SOURCE / VARIANTS, TARGET / VARIANTS, ignore=ignore)


def apply(subs: dict[str, list[tuple[str, str]]]) -> list[str]:
    missing = []
    for rel, pairs in subs.items():
        path = TARGET / rel
        text = path.read_text()
        for old, new in pairs:
            if old not in text:
                missing.append(f"{rel}: expected the line {old.strip()!r}")
                continue
            text = text.replace(old, new)
        if text != path.read_text():
            path.write_text(text)
    return missing


def git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=TARGET, check=True, stdout=subprocess.DEVNULL)


def has_identity() -> bool:
    for key, env in (("user.name", "GIT_AUTHOR_NAME"), ("user.email", "GIT_AUTHOR_EMAIL")):
        configured = subprocess.run(
            ["git", "config", key], cwd=TARGET, capture_output=True, text=True
        ).stdout.strip()
        if not configured and not os.environ.get(env):
            return False
    return True


def first_commit() -> None:
    git("init", "-q", "-b", ANSWERS["default_branch"])
    git("add", "-A")
    name, email = IDENTITY
    identity = [] if has_identity() else ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    git(
        *identity,
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "Repository created from the modelward template",
    )


def validate() -> int:
    import importlib.util

    if importlib.util.find_spec("modelward") is None:
        print(
            "modelward is not installed here; to check the new repository run:\n"
            f"  pip install '{ANSWERS['modelward_requirement']}'\n"
            f"  modelward validate --repo {TARGET}"
        )
        return 0
    proc = subprocess.run(
        [sys.executable, "-m", "modelward", "validate", "--repo", str(TARGET)],
        capture_output=True,
        text=True,
    )
    # the first line is the summary; on failure every FILE:LINE problem is on stderr
    print(proc.stdout.splitlines()[0] if proc.returncode == 0 else proc.stdout + proc.stderr)
    return proc.returncode


def main() -> int:
    examples = ANSWERS["include_examples"] == "yes"
    copy_sources(examples)
    missing = apply(substitutions(examples))
    if missing:
        print(
            "modelward template: the root's files lost lines the template rewrites:",
            file=sys.stderr,
        )
        for line in missing:
            print(f"  {line}", file=sys.stderr)
        return 1
    if validate() != 0:
        print("modelward template: the rendered repository does not validate", file=sys.stderr)
        return 1
    first_commit()
    print(f"Created {TARGET} on branch {ANSWERS['default_branch']}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
