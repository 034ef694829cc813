"""`modelward status`: manifests (desired) against registry tags (actual)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import GitRepo, cli
from helpers_registry import commit, evidence, gto_assign, gto_register, ours

from modelward.status import ModelStatus, status


def set_manifest(repo: GitRepo, model: str, version: str, stages: dict[str, str]) -> None:
    path = repo.path / "models" / model / "model.yaml"
    text = path.read_text()
    text = re.sub(r"(?m)^version: .*$", f"version: {version}", text)
    flow = "{" + ", ".join(f"{s}: {v}" for s, v in stages.items()) + "}"
    text = re.sub(r"(?m)^stages:.*\n(?:  .*\n)*", f"stages: {flow}\n", text)
    path.write_text(text)


def by_model(repo: Path) -> dict[str, ModelStatus]:
    return {m.model: m for m in status(repo).models}


def register(repo: GitRepo, model: str, version: str, target: str) -> None:
    ev = evidence(model=model, version=version, action="register", stage=None)
    ours(repo.path, f"{model}@v{version}", target, ev)


def assign(repo: GitRepo, model: str, stage: str, version: str, target: str, n: int) -> None:
    ev = evidence(model=model, version=version, stage=stage)
    ours(repo.path, f"{model}#{stage}#{n}", target, ev)


def test_a_repository_without_tags_is_synced_only_where_no_stage_is_desired(
    example_repo: GitRepo,
) -> None:
    result = by_model(example_repo.path)

    assert {n: (m.state, m.reason) for n, m in result.items()} == {
        "breast-cancer": (
            "OutOfSync",
            "desired 0.3.0 in staging, but version 0.3.0 is not registered",
        ),
        "breast-cancer-stack": ("Synced", "no stage desired and none assigned"),
        "churn": ("Synced", "no stage desired and none assigned"),
        "wine": ("Synced", "no stage desired and none assigned"),
        "diabetes": ("Synced", "no stage desired and none assigned"),
    }


def test_the_desired_version_in_its_stage_is_synced(example_repo: GitRepo) -> None:
    set_manifest(example_repo, "churn", "1.3.0", {"production": "1.3.0"})
    c = commit(example_repo.path, "churn 1.3.0")
    ours(example_repo.path, "churn@v1.3.0", c, evidence(action="register", stage=None))
    ours(example_repo.path, "churn#production#1", c, evidence())

    churn = by_model(example_repo.path)["churn"]

    assert (churn.synced, churn.reason) == (True, "1.3.0 in production")
    assert churn.actual == {"production": "1.3.0"}


def test_every_stage_of_the_map_is_compared_and_an_older_version_may_stay(
    example_repo: GitRepo,
) -> None:
    c1 = example_repo.head()
    register(example_repo, "churn", "1.2.0", c1)
    assign(example_repo, "churn", "staging", "1.2.0", c1, 1)
    assign(example_repo, "churn", "production", "1.2.0", c1, 2)
    c2 = commit(example_repo.path, "churn 1.3.0")
    register(example_repo, "churn", "1.3.0", c2)
    assign(example_repo, "churn", "staging", "1.3.0", c2, 3)
    set_manifest(example_repo, "churn", "1.3.0", {"staging": "1.3.0", "production": "1.2.0"})

    churn = by_model(example_repo.path)["churn"]

    assert (churn.synced, churn.reason) == (True, "1.3.0 in staging, 1.2.0 in production")

    set_manifest(example_repo, "churn", "1.3.0", {"staging": "1.3.0", "production": "1.3.0"})
    churn = by_model(example_repo.path)["churn"]
    assert (churn.synced, churn.reason) == (
        False,
        "desired 1.3.0 in production, registry has 1.2.0 there",
    )


def test_another_version_in_the_stage_is_out_of_sync(example_repo: GitRepo) -> None:
    c = example_repo.head()
    register(example_repo, "churn", "1.2.0", c)
    assign(example_repo, "churn", "production", "1.2.0", c, 1)
    c2 = commit(example_repo.path, "churn 1.3.0")
    register(example_repo, "churn", "1.3.0", c2)
    set_manifest(example_repo, "churn", "1.3.0", {"production": "1.3.0"})

    churn = by_model(example_repo.path)["churn"]

    assert (churn.state, churn.reason) == (
        "OutOfSync",
        "desired 1.3.0 in production, registry has 1.2.0 there",
    )


def test_an_unregistered_version_is_out_of_sync(example_repo: GitRepo) -> None:
    c = example_repo.head()
    register(example_repo, "churn", "1.2.0", c)
    assign(example_repo, "churn", "staging", "1.2.0", c, 1)
    set_manifest(example_repo, "churn", "1.3.0", {"staging": "1.3.0"})

    churn = by_model(example_repo.path)["churn"]

    assert (churn.state, churn.reason) == (
        "OutOfSync",
        "desired 1.3.0 in staging, but version 1.3.0 is not registered",
    )


def test_a_registered_version_missing_from_its_stage_is_out_of_sync(
    example_repo: GitRepo,
) -> None:
    register(example_repo, "churn", "1.3.0", example_repo.head())
    set_manifest(example_repo, "churn", "1.3.0", {"staging": "1.3.0"})

    churn = by_model(example_repo.path)["churn"]

    assert churn.reason == "desired 1.3.0 in staging, registry has nothing there"


def test_a_stage_the_manifest_does_not_ask_for_is_out_of_sync(example_repo: GitRepo) -> None:
    c = example_repo.head()
    register(example_repo, "churn", "1.0.0", c)
    assign(example_repo, "churn", "staging", "1.0.0", c, 1)

    churn = by_model(example_repo.path)["churn"]

    assert (churn.state, churn.reason) == (
        "OutOfSync",
        "registry has 1.0.0 in staging, which the manifest does not ask for",
    )

    example_repo.git("tag", "-a", "churn#staging!#2", "-m", "unassign", c)
    churn = by_model(example_repo.path)["churn"]
    assert (churn.synced, churn.reason) == (True, "no stage desired and none assigned")


def test_a_hand_made_tag_in_a_stage_is_out_of_sync_even_with_the_right_version(
    example_repo: GitRepo,
) -> None:
    """Someone with push rights to tags assigns by hand (or with GTO): no evidence."""
    c = example_repo.head()
    register(example_repo, "churn", "1.0.0", c)
    gto_assign(example_repo.path, "churn", "production", "1.0.0", c, 1)
    set_manifest(example_repo, "churn", "1.0.0", {"production": "1.0.0"})

    churn = by_model(example_repo.path)["churn"]

    assert (churn.state, churn.reason) == (
        "OutOfSync",
        "1.0.0 in production was put there by churn#production#1, a tag without "
        "modelward's evidence (made by hand or by another tool)",
    )


def test_a_registry_model_without_manifest_is_reported(example_repo: GitRepo) -> None:
    c = example_repo.head()
    gto_register(example_repo.path, "fraud", "2.0.0", c)
    gto_assign(example_repo.path, "fraud", "production", "2.0.0", c, 1)

    fraud = by_model(example_repo.path)["fraud"]

    assert (fraud.state, fraud.desired_version, fraud.reason) == (
        "OutOfSync",
        None,
        "no manifest in models/, registry has 2.0.0 in production",
    )


def test_status_command_prints_a_table_and_exits_0_when_out_of_sync(
    example_repo: GitRepo,
) -> None:
    result = cli("status", "--repo", example_repo.path)

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "5 models: 4 Synced, 1 OutOfSync"
    assert lines[2].split() == ["model", "desired", "actual", "status", "reason"]
    assert lines[4].split()[:5] == ["breast-cancer", "0.3.0:", "staging=0.3.0", "-", "OutOfSync"]


def test_status_json_lists_desired_actual_and_reason(example_repo: GitRepo) -> None:
    c = example_repo.head()
    register(example_repo, "breast-cancer", "0.3.0", c)
    assign(example_repo, "breast-cancer", "staging", "0.3.0", c, 1)

    result = cli("status", "--repo", example_repo.path, "--format", "json")

    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["synced"] is True
    assert data["models"][0] == {
        "model": "breast-cancer",
        "status": "Synced",
        "desired": {"version": "0.3.0", "stages": {"staging": "0.3.0"}},
        "actual": {"staging": "0.3.0"},
        "reason": "0.3.0 in staging",
    }


def test_status_refuses_an_invalid_manifest_with_exit_2(example_repo: GitRepo) -> None:
    set_manifest(example_repo, "churn", "v1.3", {"production": "1.3.0"})

    result = cli("status", "--repo", example_repo.path)

    assert result.exit_code == 2
    assert (
        "models/churn/model.yaml:4: version: 'v1.3' is not a semantic version; did you mean '1.3.0'?"
        in result.output
    )


HEAVY = ("pandas", "sklearn", "great_expectations", "github")


def test_status_and_audit_do_not_import_heavy_libraries(example_repo: GitRepo) -> None:
    import subprocess
    import sys

    gto_register(example_repo.path, "churn", "1.0.0", example_repo.head())
    script = (
        "import sys\n"
        "from modelward.cli import main\n"
        "for args in (['status'], ['audit', 'churn', '--verify']):\n"
        "    try:\n"
        "        main(args, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=example_repo.path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.splitlines()[-1] == "[]"
