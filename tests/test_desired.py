"""desired.py: status validates the checkout, and remembers only what every input proves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import GitRepo

from modelward import workspace
from modelward.desired import CACHE_FILE, desired
from modelward.errors import InvalidInput
from modelward.status import status


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def relink(path: Path) -> None:
    """The same bytes, reached through a symbolic link."""
    copy = path.with_name("real-" + path.name)
    copy.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(copy.name)


MUTATIONS: dict[str, Callable[[Path], None]] = {
    "a model manifest": lambda r: replace(
        r / "models/churn/model.yaml", "version: 1.0.0", "version: v1.3"
    ),
    "a dataset manifest": lambda r: append(r / "data/churn/dataset.yaml", "bogus: 1\n"),
    "the header of a CSV file": lambda r: replace(
        r / "data/churn/churn.csv", "payment_method,churned\n", "payment_method,churn\n"
    ),
    "an expectations file": lambda r: append(
        r / "data/churn/expectations.yaml",
        "  - expect_column_values_to_not_be_null: {column: no_such_column}\n",
    ),
    "a policy": lambda r: append(r / "policies/staging.yaml", "bogus: 1\n"),
    "the waivers": lambda r: append(r / "policies/waivers.yaml", "bogus: 1\n"),
    "a new policy file": lambda r: (r / "policies/new.yaml").write_text("kind: Policy\n"),
    "modelward.yaml": lambda r: append(r / "modelward.yaml", "bogus: 1\n"),
    "a model folder without manifest": lambda r: (
        (r / "models/new").mkdir(),
        (r / "models/new/notes.md").write_text("soon\n"),
    ),
    "a file in a model folder that was empty": lambda r: (r / "models/empty/notes.md").write_text(
        "soon\n"
    ),
    "a CSV file reached through a link": lambda r: relink(r / "data/churn/churn.csv"),
    "an expectations file reached through a link": lambda r: relink(
        r / "data/churn/expectations.yaml"
    ),
    "a manifest reached through a link": lambda r: relink(r / "models/churn/model.yaml"),
}
BEFORE: dict[str, Callable[[Path], None]] = {
    # an empty folder is skipped by validation; once it holds a file it is a mistake
    "a file in a model folder that was empty": lambda r: (r / "models/empty").mkdir(),
}


@pytest.mark.parametrize("what", sorted(MUTATIONS))
def test_a_change_to_any_input_of_validation_is_validated_again(
    example_repo: GitRepo, what: str
) -> None:
    root = example_repo.path
    BEFORE.get(what, lambda r: None)(root)
    first = status(root)
    assert (root / CACHE_FILE).is_file()

    MUTATIONS[what](root)

    with pytest.raises(InvalidInput) as fresh:
        workspace.load(root)
    with pytest.raises(InvalidInput) as remembered:
        status(root)
    assert str(remembered.value) == str(fresh.value)
    assert first.models  # the first run did report


def test_a_new_version_in_a_manifest_is_read_not_remembered(example_repo: GitRepo) -> None:
    root = example_repo.path
    assert desired(root)["churn"].version == "1.0.0"

    replace(root / "models/churn/model.yaml", "version: 1.0.0", "version: 1.1.0")
    replace(root / "models/churn/model.yaml", "stages: {}", "stages: {staging: 1.0.0}")

    churn = desired(root)["churn"]
    assert (churn.version, churn.stages) == ("1.1.0", {"staging": "1.0.0"})


def test_remembered_and_validated_answers_are_the_same(example_repo: GitRepo) -> None:
    root = example_repo.path
    validated = desired(root)
    remembered = desired(root)

    assert remembered == validated
    assert list(remembered["breast-cancer"].stages) == ["staging"]
    ws = workspace.load(root)
    assert sorted(validated) == sorted(ws.models)


def test_a_cache_that_does_not_match_the_checkout_is_not_trusted(example_repo: GitRepo) -> None:
    root = example_repo.path
    desired(root)
    cache = root / CACHE_FILE
    data = json.loads(cache.read_text())
    data["models"][0]["version"] = "9.9.9"
    data["inputs"] = "0" * 64  # a hand-written cache cannot guess the digest of the checkout
    cache.write_text(json.dumps(data))

    assert "9.9.9" not in {d.version for d in desired(root).values()}
    cache.write_text("not json")
    assert desired(root)["churn"].version == "1.0.0"


def test_a_checkout_that_fails_validation_is_never_remembered(example_repo: GitRepo) -> None:
    root = example_repo.path
    append(root / "models/churn/model.yaml", "bogus: 1\n")

    with pytest.raises(InvalidInput):
        desired(root)
    assert not (root / CACHE_FILE).exists()


def test_a_remembered_status_imports_no_schema(example_repo: GitRepo) -> None:
    """The point of the cache: a second `status` on an unchanged checkout skips pydantic."""
    script = (
        "import sys\n"
        "from modelward.cli import main\n"
        "try:\n"
        "    main(['status', '--format', 'json'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('pydantic' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def run() -> list[str]:
        proc = subprocess.run(
            [sys.executable, "-c", script],
            cwd=example_repo.path,
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        return proc.stdout.splitlines()

    first, second = run(), run()

    assert first[-1] == "True"
    assert second[-1] == "False"
    assert second[:-1] == first[:-1]
