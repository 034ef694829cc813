"""The command line: parse options, call one core function, render, exit.

Every ModelwardError becomes its message and its exit code here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import InvalidInput, ModelwardError

INTERNAL_ERROR = 4

HELP = """\
modelward keeps machine-learning models in git: YAML manifests are the source of truth,
every change is a pull request that is validated, trained, compared and judged by policy,
and every promotion is an immutable git tag that auditors can verify from history alone.
"""

# Options defined once, so they mean the same on every command.
REPO = click.option(
    "--repo",
    type=click.Path(file_okay=False, dir_okay=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The repository checkout to work on.",
)


def FORMAT(*choices: str) -> Callable[[Any], Any]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or ("text", "json")),
        default="text",
        show_default=True,
        help="Output format.",
    )


class Funnel(click.Group):
    """Maps ModelwardError to its exit code; anything else is reported as a bug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidInput as exc:
            fmt = (ctx.meta.get("modelward.format") or "text") if ctx else "text"
            if fmt == "json":
                click.echo(
                    json.dumps(
                        {"valid": False, "problems": [p.as_dict() for p in exc.problems]}, indent=2
                    )
                )
            else:
                for problem in exc.problems:
                    click.echo(str(problem), err=True)
            ctx.exit(exc.exit_code)
        except ModelwardError as exc:
            click.echo(f"modelward: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if ctx.meta.get("modelward.traceback"):
                raise
            click.echo(
                f"modelward: unexpected error: {type(exc).__name__}: {exc}\n"
                "This is a bug in modelward. Run again with --traceback and report the output.",
                err=True,
            )
            ctx.exit(INTERNAL_ERROR)


@click.group(cls=Funnel, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="modelward", message="%(prog)s %(version)s"
)
@click.option("--traceback", is_flag=True, help="Show the Python traceback of unexpected errors.")
@click.pass_context
def main(ctx: click.Context, traceback: bool) -> None:
    ctx.meta["modelward.traceback"] = traceback


def _set_format(fmt: str) -> None:
    click.get_current_context().meta["modelward.format"] = fmt


@main.command()
@REPO
@FORMAT("text", "json")
def validate(repo: Path, fmt: str) -> None:
    """Check every manifest, dataset, policy and modelward.yaml; list what was found."""
    from .workspace import inventory, load

    _set_format(fmt)
    summary = inventory(load(repo))
    if fmt == "json":
        click.echo(json.dumps({"valid": True, **summary}, indent=2))
        return
    click.echo(render_inventory(summary))


def render_inventory(summary: dict[str, Any]) -> str:
    models, datasets = summary["models"], summary["datasets"]
    policies, waivers = summary["policies"], summary["waivers"]
    out = [
        f"valid: {len(models)} models, {len(datasets)} datasets, {len(policies)} policies, "
        f"{len(waivers)} waivers; stages: {' -> '.join(summary['stages'])}",
        "",
        "Models",
        table(
            ["name", "version", "stage", "task", "estimator", "dataset", "primary"],
            [
                [
                    m[k]
                    for k in ("name", "version", "stage", "task", "estimator", "dataset", "primary")
                ]
                for m in models
            ],
        ),
        "",
        "Datasets",
        table(
            ["name", "source", "format"], [[d["name"], d["source"], d["format"]] for d in datasets]
        ),
        "",
        "Policies",
        table(
            ["name", "stages", "enforcement", "rules"],
            [
                [p["name"], ", ".join(p["stages"]), p["enforcement"], ", ".join(p["rules"])]
                for p in policies
            ],
        ),
    ]
    if waivers:
        out += [
            "",
            "Waivers",
            table(
                ["policy", "rule", "model", "expires"],
                [[w["policy"], w["rule"], w["model"], w["expires"]] for w in waivers],
            ),
        ]
    return "\n".join(out)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("  " + line for line in lines)


# ---- training commands


@main.command()
@click.argument("models", nargs=-1)
@click.option(
    "--out",
    type=click.Path(file_okay=False, dir_okay=True, path_type=Path),
    default=None,
    help="Also write model.joblib, metrics.json and profile.json here "
    "(in DIR/NAME/ when several models are trained). Default: only the store.",
)
@click.option("--force", is_flag=True, help="Retrain even when the store has a cached result.")
@REPO
@FORMAT("text", "json")
def train(models: tuple[str, ...], out: Path | None, force: bool, repo: Path, fmt: str) -> None:
    """Train MODELS (all when none are given), evaluate them and store the artifacts.

    The store is content-addressed: unchanged manifest, data, expectations and library
    versions are a cache hit that returns the recorded results without retraining.
    """
    import sys

    from .training import train_each
    from .workspace import load

    _set_format(fmt)
    ws = load(repo, only_models=models or None)
    names = list(models) or sorted(ws.models)
    results = train_each(ws, names, force=force, out=out)
    if fmt == "json":
        click.echo(json.dumps({"results": [r.to_dict() for r in results]}, indent=2))
        return
    if len(names) > 1 and sys.stdout.isatty():
        with click.progressbar(
            results,
            length=len(names),
            label="training",
            item_show_func=lambda r: r.model if r is not None else None,
        ) as bar:
            done = list(bar)
        for result in done:
            click.echo(render_train_result(result))
        return
    for result in results:
        click.echo(render_train_result(result))


def render_train_result(result: Any) -> str:
    short = f"key {result.key[:8]}..."
    if result.cached:
        head = f"{result.model}: cache hit ({short})"
    else:
        head = (
            f"{result.model}: trained in {result.fit_seconds:.2f} s ({short}), "
            f"{result.n_train} train / {result.n_test} test rows"
        )
    metrics = "  ".join(
        f"{name} {'n/a' if value is None else f'{value:.4f}'}"
        for name, value in result.metrics.items()
    )
    size = f"{result.artifact_bytes / 1024:.1f} KiB"
    return "\n".join(
        [
            head,
            f"  {metrics}",
            f"  artifact {result.artifact_sha256[:12]} {size} {result.artifact_path}",
        ]
    )
