"""The command line: help, version, exit codes, the error funnel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, cli

from modelward import __version__


def test_version_prints_the_package_version() -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"modelward {__version__}"


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
    assert result.output.startswith("valid: 4 models, 4 datasets, 2 policies, 2 waivers")
    for name in ("churn", "breast-cancer", "diabetes", "production", "staging"):
        assert name in result.output


def test_validate_json_is_machine_readable() -> None:
    import json

    result = cli("validate", "--repo", ROOT, "--format", "json")
    data = json.loads(result.output)
    assert data["valid"] is True
    assert [m["name"] for m in data["models"]] == ["breast-cancer", "churn", "diabetes", "wine"]


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
