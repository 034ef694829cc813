"""The command line: help, version, exit codes, the error funnel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, cli

from modelward import __version__


def test_version_prints_the_package_version() -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"modelward {__version__}"


def test_the_version_read_from_the_metadata_folder_name_is_what_importlib_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    import modelward

    assert modelward._from_dist_info_name() in (None, importlib.metadata.version("modelward"))
    (tmp_path / "modelward-9.8.7.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert modelward.__version__ == "9.8.7"
    (tmp_path / "modelward.egg-info").mkdir()  # another form: importlib.metadata decides
    assert modelward._from_dist_info_name() is None


def test_top_level_help_explains_the_product_in_three_lines() -> None:
    result = cli("--help")
    assert result.exit_code == 0
    assert "modelward keeps machine-learning models in git" in result.output


def test_every_command_and_option_has_help_text() -> None:
    from modelward.cli import main

    for name, command in main.commands.items():
        assert command.help, f"command {name} has no help"
        for param in command.params:
            if param.param_type_name == "option":
                assert getattr(param, "help", None), f"{name} {param.name} has no help"


def test_validate_on_the_example_instance_lists_the_inventory() -> None:
    result = cli("validate", "--repo", ROOT)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: 5 models, 4 datasets, 3 policies, 2 waivers")
    for name in ("churn", "breast-cancer", "diabetes", "production", "staging"):
        assert name in result.output


def test_validate_json_is_machine_readable() -> None:
    import json

    result = cli("validate", "--repo", ROOT, "--format", "json")
    data = json.loads(result.output)
    assert data["valid"] is True
    assert [m["name"] for m in data["models"]] == [
        "breast-cancer",
        "breast-cancer-stack",
        "churn",
        "diabetes",
        "wine",
    ]


def test_invalid_manifest_exits_2_with_file_line_field_message(example_dir: Path) -> None:
    path = example_dir / "models/churn/model.yaml"
    path.write_text(path.read_text().replace("version: 1.0.0", "version: one"))
    proc = subprocess.run(
        [sys.executable, "-m", "modelward", "validate", "--repo", str(example_dir)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "models/churn/model.yaml:4: version: 'one' is not a semantic version like 1.2.0"
    )
    assert "Traceback" not in proc.stderr + proc.stdout


REPORTING = {
    "validate": (),
    "plan": ("--base", "main"),
    "check-data": ("nosuch",),
    "card": ("nosuch",),
    "status": (),
    "audit": (),
    "train": ("nosuch",),
    "pr": ("--base", "main"),
    "promote": ("--no-push",),
}


def test_every_reporting_command_takes_format_json() -> None:
    from modelward.cli import main

    for name in REPORTING:
        formats = next(p for p in main.commands[name].params if p.name == "fmt")
        assert "json" in formats.type.choices, name  # type: ignore[attr-defined]


def test_the_error_path_of_format_json_prints_one_json_error_object(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from modelward.cli import main

    # a folder that is no git repository and whose model names nothing that exists
    (tmp_path / "models/m").mkdir(parents=True)
    (tmp_path / "models/m/model.yaml").write_text("kind: Model\nname: m\n")
    (tmp_path / "modelward.yaml").write_text("apiVersion: modelward/v1\nkind: Config\n")
    for name, args in REPORTING.items():
        result = CliRunner().invoke(
            main, [name, *args, "--repo", str(tmp_path), "--format", "json"]
        )
        assert result.exit_code in (2, 3), (name, result.output)
        payload = json.loads(result.stdout)
        assert set(payload["error"]) == {"type", "message", "exit_code"}, name
        assert payload["error"]["exit_code"] == result.exit_code
        assert "Traceback" not in result.output


def test_format_json_lists_every_manifest_problem_with_the_error(tmp_path: Path) -> None:
    import json

    (tmp_path / "models/m").mkdir(parents=True)
    (tmp_path / "models/m/model.yaml").write_text("kind: Model\nname: m\n")
    (tmp_path / "modelward.yaml").write_text("apiVersion: modelward/v1\nkind: Config\n")
    result = cli("validate", "--repo", tmp_path, "--format", "json")
    payload = json.loads(result.output)
    assert payload["valid"] is False
    assert payload["error"]["type"] == "InvalidInput"
    assert {p["field"] for p in payload["problems"]} >= {"apiVersion", "owners", "version"}
