"""The command line: parse options, call one core function, render, exit.

Every ModelwardError becomes its message and its exit code here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from .errors import CheckFailed, InvalidInput, ModelwardError, UsageError

INTERNAL_ERROR = 4

HELP = """\
modelward keeps machine-learning models in git: YAML manifests are the source of truth,
every change is a pull request that is validated, trained, compared and judged by policy,
and every promotion is an immutable git tag that auditors can verify from history alone.
"""


def _repository(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """--repo names any folder inside the repository; commands get its root."""
    from .discovery import find_root

    return find_root(value)


# Options defined once, so they mean the same on every command.
REPO = click.option(
    "--repo",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    callback=_repository,
    help="A folder of the repository to work on (its root is the nearest folder at or "
    "above it that holds modelward.yaml).",
)


def FORMAT(*choices: str) -> Callable[[Any], Any]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or ("text", "json")),
        default=(choices or ("text",))[0],
        show_default=True,
        help="Output format.",
    )


class Funnel(click.Group):
    """Maps ModelwardError to its exit code; anything else is reported as a bug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InvalidInput as exc:
            if _json(ctx):
                problems = [p.as_dict() for p in exc.problems]
                _echo_error(exc, exc.exit_code, {"valid": False, "problems": problems})
            else:
                for problem in exc.problems:
                    click.echo(str(problem), err=True)
            ctx.exit(exc.exit_code)
        except ModelwardError as exc:
            if _json(ctx) and not isinstance(exc, CheckFailed):  # a failed check printed its JSON
                _echo_error(exc, exc.exit_code)
            else:
                click.echo(f"modelward: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if ctx.meta.get("modelward.traceback"):
                raise
            if _json(ctx):
                _echo_error(exc, INTERNAL_ERROR)
            click.echo(
                f"modelward: unexpected error: {type(exc).__name__}: {exc}\n"
                "This is a bug in modelward. Run again with --traceback and report the output.",
                err=True,
            )
            ctx.exit(INTERNAL_ERROR)


def _json(ctx: click.Context) -> bool:
    return bool(ctx.meta.get("modelward.format") == "json")


def _echo_error(exc: Exception, code: int, extra: dict[str, Any] | None = None) -> None:
    """--format json: the error as one JSON object on stdout, so a pipeline can parse it."""
    kind = type(exc).__name__ if isinstance(exc, ModelwardError) else "InternalError"
    error = {"type": kind, "message": str(exc), "exit_code": code}
    click.echo(json.dumps({**(extra or {}), "error": error}, indent=2))


@click.group(cls=Funnel, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    None,
    "--version",
    package_name="modelward",  # resolved only when --version is asked for
    prog_name="modelward",
    message="%(prog)s %(version)s",
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
@click.option(
    "--deep",
    is_flag=True,
    help="Also check sha256 pins and read the data's dtypes (reads every local dataset).",
)
def validate(repo: Path, fmt: str, deep: bool) -> None:
    """Check every manifest, dataset, policy and modelward.yaml; list what was found."""
    from .workspace import deep_check, inventory, load

    _set_format(fmt)
    ws = load(repo)
    if deep:
        deep_check(ws)
    for warning in ws.warnings:
        click.echo(str(warning), err=True)
    summary = inventory(ws)
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
            ["name", "version", "stages", "task", "estimator", "dataset", "primary"],
            [
                [
                    m[k] if k != "stages" else stages_text(m[k])
                    for k in (
                        "name",
                        "version",
                        "stages",
                        "task",
                        "estimator",
                        "dataset",
                        "primary",
                    )
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


def stages_text(stages: Any) -> str:
    """`staging=1.3.0, production=1.2.0`, or `-` for a model in no stage."""
    return ", ".join(f"{k}={v}" for k, v in stages.items()) or "-"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""
    cells = [list(map(str, header))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("  " + line for line in lines)


# ---- changes commands


@main.command("plan")
@REPO
@click.option(
    "--base",
    default=None,
    help="The branch the change goes into; default origin/<default_branch> of modelward.yaml "
    "(or <default_branch> when there is no such remote branch).",
)
@click.option(
    "--head", default="HEAD", show_default=True, help="The commit whose changes are planned."
)
@FORMAT("text", "json", "github-matrix")
def plan_command(repo: Path, base: str | None, head: str, fmt: str) -> None:
    """List the models a change affects and why (git diff of merge-base..head)."""
    from .changes import default_base, plan

    _set_format(fmt)
    result = plan(repo, base if base is not None else default_base(repo, head), head)
    if fmt == "github-matrix":
        click.echo(json.dumps(result.to_matrix()))
    elif fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(render_plan(result))


def render_plan(result: Any) -> str:
    """The text form of a changes.Plan."""
    base = result.base_ref or result.base[:12]
    head = result.head_ref or result.head[:12]
    out = [
        f"plan: {base} ({result.base[:12]}) .. {head} ({result.head[:12]}), "
        f"merge base {result.merge_base[:12]}; {len(result.changed_files)} files changed"
    ]
    if result.models:
        count = len(result.models)
        out += [
            "",
            f"{count} model{'s' if count != 1 else ''} affected",
            table(
                ["model", "status", "reasons"],
                [
                    [
                        m.name if m.old_name is None else f"{m.name} (was {m.old_name})",
                        m.status,
                        "; ".join(m.reasons),
                    ]
                    for m in result.models
                ],
            ),
        ]
    else:
        out += ["", "no model affected"]
    if result.governance_files:
        out += ["", "governance files changed (need approval of governance owners):"]
        out += [f"  {path}" for path in result.governance_files]
    return "\n".join(out)


# ---- datachecks commands


@main.command("check-data")
@click.argument("datasets", nargs=-1, metavar="[DATASET ...]")
@REPO
@FORMAT("text", "json")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Run Great Expectations even when .modelward/cache/ holds a result for this data.",
)
def check_data(datasets: tuple[str, ...], repo: Path, fmt: str, no_cache: bool) -> None:
    """Check datasets against their Great Expectations suites (all datasets by default).

    Exits 0 when every expectation passes, 1 when any fails, 2 for invalid input.
    """
    from .datachecks import check_datasets
    from .errors import UsageError
    from .workspace import load

    _set_format(fmt)
    ws = load(repo)
    for name in datasets:
        if name not in ws.datasets:
            import difflib

            close = difflib.get_close_matches(name, sorted(ws.datasets), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(ws.datasets)}"
            raise UsageError(f"unknown dataset {name!r}; {hint}")
    results = check_datasets(ws, datasets or sorted(ws.datasets), use_cache=not no_cache)
    ok = all(r.success for r in results.values())
    if fmt == "json":
        payload = {"success": ok, "datasets": {n: r.to_dict() for n, r in results.items()}}
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(render_data_checks(list(results.values())))
    if not ok:
        click.get_current_context().exit(1)


def _as_written(value: Any) -> str:
    """JSON with non-ASCII text as written: "Genève", not "Gen\\u00e8ve"."""
    return json.dumps(value, ensure_ascii=False)


def render_data_checks(results: Sequence[Any]) -> str:
    """One block per dataset, a line per failing expectation, then a summary."""
    out: list[str] = []
    for res in results:
        n, failed = len(res.expectations), res.failed
        how = "cached" if res.cached else "checked"
        verdict = "passed" if res.success else f"FAILED {len(failed)} of"
        out.append(
            f"{res.dataset}: {verdict} {n} expectations ({how}, data {res.data_sha256[:12]})"
        )
        for o in failed:
            parts = [o.type]
            if o.column:
                parts.append(f"column {o.column}")
            if o.error:
                parts.append(f"error: {o.error}")
            if o.unexpected_count is not None:
                parts.append(f"{o.unexpected_count} unexpected ({o.unexpected_percent:.2f}%)")
            if o.sample:
                counts = list(o.sample_counts) or [None] * len(o.sample)
                shown = [
                    _as_written(v) + (f" ({n} rows)" if n is not None and n > 1 else "")
                    for v, n in zip(o.sample, counts, strict=False)
                ]
                parts.append("e.g. " + ", ".join(shown))
            if o.rows:
                what = f"{o.row_key} " if o.row_key else "rows "
                parts.append(what + ", ".join(_as_written(r) for r in o.rows))
            if o.observed is not None:
                parts.append(f"observed {_as_written(o.observed)}")
            out.append(f"  {res.path}:{o.line}: " + "; ".join(parts))
    passed = sum(1 for r in results if r.success)
    failing = sum(len(r.failed) for r in results)
    noun = "dataset" if len(results) == 1 else "datasets"
    summary = f"{len(results)} {noun}: {passed} passed, {len(results) - passed} failed"
    if failing:
        summary += f" ({failing} expectations failed)"
    out += ["", summary]
    return "\n".join(out)


# ---- report commands


@main.command()
@click.argument("model")
@REPO
@FORMAT("markdown", "json")
@click.option(
    "--metrics",
    "metrics_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="metrics.json written by `modelward train MODEL --out DIR`, for the Evaluation section.",
)
def card(model: str, repo: Path, fmt: str, metrics_file: Path | None) -> None:
    """Print the model card of MODEL in Markdown (or as JSON: {"model", "card"})."""
    from .report import card_for

    _set_format(fmt)
    text = card_for(repo, model, metrics_file)
    if fmt == "json":
        click.echo(json.dumps({"model": model, "card": text}, indent=2))
        return
    click.echo(text, nl=False)


# ---- registry commands


@main.command()
@REPO
@FORMAT("text", "json")
def status(repo: Path, fmt: str) -> None:
    """Synced or OutOfSync per model: manifests (desired) against registry tags (actual)."""
    from .status import status as compute

    _set_format(fmt)
    report = compute(repo)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(render_status(report))


def render_status(report: Any) -> str:
    if not report.models:
        return "no models and no registry tags"
    out_of_sync = sum(not m.synced for m in report.models)
    rows = [
        [
            m.model,
            (
                f"{m.desired_version}: {stages_text(m.desired_stages)}"
                if m.desired_version
                else "(no manifest)"
            ),
            ", ".join(f"{s}={v}" for s, v in sorted(m.actual.items())) or "-",
            m.state,
            m.reason,
        ]
        for m in report.models
    ]
    head = (
        f"{len(report.models)} models: {len(report.models) - out_of_sync} Synced, "
        f"{out_of_sync} OutOfSync"
    )
    return head + "\n\n" + table(["model", "desired", "actual", "status", "reason"], rows)


@main.command()
@click.argument("model", required=False)
@REPO
@FORMAT("text", "json", "markdown")
@click.option(
    "--verify",
    is_flag=True,
    help="Re-hash stored artifacts against their tags, check that every tag points at "
    "a commit on the default branch and re-evaluate each promotion against the policies "
    "of its commit; exit 1 on any problem.",
)
def audit(model: str | None, repo: Path, fmt: str, verify: bool) -> None:
    """The full registry history of every model (or MODEL), from the tags alone."""
    from .audit import as_dict
    from .audit import audit as compute
    from .errors import CheckFailed

    _set_format(fmt)
    report = compute(repo, model, verify=verify)
    if fmt == "json":
        click.echo(json.dumps(as_dict(report), indent=2))
    elif fmt == "markdown":
        click.echo(render_audit_markdown(report))
    else:
        click.echo(render_audit_text(report))
    v = report.verification
    if v is not None and not v.ok:
        raise CheckFailed(f"verification found {len(v.findings)} problem(s)")


def _short(value: str | None, n: int = 12) -> str:
    return value[:n] if value else "-"


def _audit_cells(e: Any) -> list[str]:
    ev = e.evidence
    date = (e.date or "-").replace("T", " ")[:16]
    base = [str(e.counter or "-"), date, e.kind, e.version or "?", e.stage or "-"]
    if ev is None:
        why = f"no evidence ({e.evidence_problem})" if e.evidence_problem else "no evidence"
        return [*base, "-", e.tagger or "-", "-", why, "-", "-", "-"]
    outcomes: dict[str, int] = {}
    for v in ev.verdicts:
        outcomes[v.outcome] = outcomes.get(v.outcome, 0) + 1
    verdicts = ", ".join(f"{n} {o}" for o, n in outcomes.items()) or "-"
    if ev.waivers:
        verdicts += f"; {len(ev.waivers)} waiver(s)"
    if ev.bypass:
        verdicts += "; BYPASS"
    return [
        *base,
        f"#{ev.pr_number}" if ev.pr_number is not None else "-",
        ev.author or "-",
        ", ".join(ev.approvers) or "-",
        " ".join(f"{k}={v:.4g}" for k, v in ev.metrics.items()) or "-",
        _short(ev.data_sha256),
        _short(ev.artifact_sha256),
        verdicts,
    ]


AUDIT_HEADER = [
    "#",
    "date",
    "event",
    "version",
    "stage",
    "pr",
    "author",
    "approvers",
    "metrics",
    "data",
    "artifact",
    "verdicts",
]


def _stage_line(history: Any) -> str:
    stages = history.stage_versions()
    return ", ".join(f"{s}={v}" for s, v in stages.items()) or "no stage assigned"


def render_audit_text(report: Any) -> str:
    out = []
    if not report.histories:
        out.append("no registry tags")
    for name, history in report.histories.items():
        out.append(f"{name}: {len(history.events)} events; now {_stage_line(history)}")
        if history.events:
            out.append(table(AUDIT_HEADER, [_audit_cells(e) for e in history.events]))
        out.append("")
    out.extend(_verification_lines(report.verification, markdown=False))
    return "\n".join(out).rstrip()


def render_audit_markdown(report: Any) -> str:
    from . import markup as md

    out = ["# Registry audit", ""]
    if not report.histories:
        out += ["No registry tags.", ""]
    for name, history in report.histories.items():
        out += [f"## {name}", "", f"{len(history.events)} events; now {_stage_line(history)}.", ""]
        if not history.events:
            continue
        out.append("| " + " | ".join(AUDIT_HEADER) + " |")
        out.append("|" + "---|" * len(AUDIT_HEADER))
        for e in history.events:
            cells = [_md_cell(c) for c in _audit_cells(e)]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        details = [
            e for e in history.events if e.evidence and (e.evidence.verdicts or e.evidence.waivers)
        ]
        for e in details:
            ev = e.evidence
            link = f" ({md.link(f'PR #{ev.pr_number}', ev.pr_url)})" if ev.pr_url else ""
            out.append(f"- {md.code(e.tag)}{link}")
            for v in ev.verdicts:
                out.append(
                    f"  - {md.text(f'{v.policy} / {v.rule}:')} **{md.text(v.outcome)}** "
                    f"{md.text(v.message)}".rstrip()
                )
            for w in ev.waivers:
                who = ", ".join(w.approved_by) or "?"
                out.append(
                    "  - "
                    + md.text(
                        f"waiver {w.policy} / {w.rule} (approved by {who}, "
                        f"expires {w.expires or 'never'}): {w.reason}"
                    )
                )
        if details:
            out.append("")
    out.extend(_verification_lines(report.verification, markdown=True))
    return "\n".join(out).rstrip()


def _md_cell(text: str) -> str:
    from . import markup

    return str(markup.cell(text))


def _verification_lines(v: Any, *, markdown: bool) -> list[str]:
    if v is None:
        return []
    head = "## Verification" if markdown else "verification"
    summary = (
        f"{v.artifacts_checked} artifact(s) re-hashed, {v.commits_checked} commit(s) checked "
        f"against {v.default_branch}: "
        + ("no problems" if v.ok else f"{len(v.findings)} problem(s)")
    )
    out = [head, "", summary] if markdown else [f"{head}: {summary}"]
    bullet = "- " if markdown else "  "
    if markdown:
        from . import markup as md

        out += [f"{bullet}{md.text(f'{f.tag}: {f.check}: {f.message}')}" for f in v.findings]
    else:
        out += [f"{bullet}{f.tag}: {f.check}: {f.message}" for f in v.findings]
    out += [f"{bullet}not checked: {s}" for s in v.skipped]
    return out


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


# ---- flow commands (pull request and merge)

FORGE = click.option(
    "--forge",
    type=click.Choice(["auto", "local", "github"]),
    default="auto",
    show_default=True,
    help="Where reports go, approvals come from and releases are published: github inside "
    "GitHub Actions with a token (GITHUB_TOKEN or MODELWARD_GITHUB_TOKEN), else local "
    "(files under .modelward/ and stdout). auto picks for you.",
)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@main.command()
@REPO
@click.option(
    "--base", default=None, help="Base ref of the pull request [default: the default branch]."
)
@click.option("--head", default="HEAD", show_default=True, help="Head ref; must be checked out.")
@FORGE
@click.option(
    "--author", default=None, help="Pull request author (local forge only; GitHub: the event)."
)
@click.option(
    "--approved-by",
    "approved_by",
    multiple=True,
    help="A reviewer who approved (local forge only; repeat; GitHub: the reviews).",
)
@click.option(
    "--pr-number",
    type=int,
    default=None,
    help="Pull request number (local forge only; GitHub: the event).",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the Markdown report to this file.",
)
@FORMAT("markdown", "json")
def pr(
    repo: Path,
    base: str | None,
    head: str,
    forge: str,
    author: str | None,
    approved_by: tuple[str, ...],
    pr_number: int | None,
    report_file: Path | None,
    fmt: str,
) -> None:
    """Judge a pull request: validate, check data, train, compare, apply policies, report."""
    _set_format(fmt)
    from . import pr as flow
    from .forge.setup import choose, explain_denied

    chosen = choose(
        forge,
        repo,
        settings_ref=lambda ctx: (
            base
            or (ctx.pull_request.base_sha if ctx and ctx.pull_request else flow.default_base(repo))
        ),
        local={
            "author": author,
            "approvers": approved_by,
            "pr_number": pr_number,
            "report_file": report_file,
        },
        emit=click.echo,
    )
    head_ref = chosen.head if head == "HEAD" and chosen.head else head
    outcome = flow.run(
        repo,
        forge=chosen.forge,
        base=base or chosen.base or flow.default_base(repo),
        head=head_ref,
        today=_today(),
    )
    if report_file is not None and chosen.forge.name != "local":
        report_file.write_text(outcome.markdown)
    if fmt == "json":
        click.echo(json.dumps(outcome.data, indent=2, sort_keys=True))
    else:
        click.echo(outcome.markdown)
    _explain(explain_denied(getattr(chosen.forge, "denied", [])))
    click.get_current_context().exit(outcome.exit_code)


def _explain(message: str | None) -> None:
    if message:
        click.echo(f"modelward: {message}", err=True)


@main.command()
@REPO
@click.option("--before", default="HEAD~1", show_default=True, help="Commit before the merge.")
@click.option(
    "--after", default="HEAD", show_default=True, help="The merge commit; must be checked out."
)
@FORGE
@click.option(
    "--push/--no-push", default=True, show_default=True, help="Push the tags to the remote."
)
@click.option("--remote", default="origin", show_default=True, help="Remote to push tags to.")
@FORMAT("text", "json")
def promote(
    repo: Path, before: str, after: str, forge: str, push: bool, remote: str, fmt: str
) -> None:
    """Register and promote the versions a merge changed, as immutable git tags."""
    _set_format(fmt)
    from . import promote as flow
    from .forge.setup import choose, explain_denied

    chosen = choose(forge, repo, settings_ref=lambda ctx: before, local={}, emit=click.echo)
    if chosen.ctx is not None and chosen.ctx.push is not None:
        if not chosen.ctx.push.to_default_branch:
            raise UsageError(
                f"promote runs on pushes to the default branch, not {chosen.ctx.push.ref}"
            )
        before = before if before != "HEAD~1" else chosen.base or before
        after = after if after != "HEAD" else chosen.head or after
    outcome = flow.run(
        repo,
        forge=chosen.forge,
        before=before,
        after=after,
        push=push,
        remote=remote,
        today=_today(),
        ci_run_url=chosen.ctx.run_url if chosen.ctx else None,
    )
    _explain(explain_denied(getattr(chosen.forge, "denied", [])))
    if fmt == "json":
        click.echo(json.dumps(outcome.to_dict(), indent=2, sort_keys=True))
    else:
        click.echo(render_promotions(outcome.to_dict()))
    if outcome.bypassed or outcome.bypass:
        click.echo(
            "warning: a merge went in over a blocking policy; recorded as a bypass", err=True
        )


def render_promotions(data: dict[str, Any]) -> str:
    lines = [f"promote {data['before'][:12]}..{data['after'][:12]}"]
    if data["pull_request"] is not None:
        lines[0] += f" (PR #{data['pull_request']})"
    for p in data["promotions"]:
        tags = ", ".join(p["created"]) or "nothing new"
        flag = "  BYPASS: " + "; ".join(p["blocking"]) if p["bypass"] else ""
        arrow = "removed from" if p.get("action") == "unassign" else "->"
        lines.append(f"  {p['model']} v{p['version']} {arrow} {p['stage']}: created {tags}{flag}")
        if not p["report_checked"]:
            lines.append("    (no pull-request report found: metrics not cross-checked)")
        if p["release"]:
            lines.append(f"    release: {p['release']}")
    for s in data["skipped"]:
        lines.append(f"  skipped {s}")
    for b in data.get("bypass", []):
        kind = " (governance)" if b in data.get("governance_bypass", []) else ""
        lines.append(f"  BYPASS{kind}: {b}")
    if data.get("bypass_tag"):
        lines.append(f"  bypass recorded as tag {data['bypass_tag']}")
    if len(lines) == 1:
        lines.append("  no model changed its stage map")
    return "\n".join(lines)


@main.command("drift")
@click.argument("model", required=False)
@REPO
@click.option(
    "--data",
    default=None,
    help="New data: a CSV/parquet file or an fsspec URI [default: the model's monitoring.source].",
)
@click.option(
    "--against",
    default=None,
    help="Reference: a stage of modelward.yaml, or 'head' for the manifest as committed "
    "[default: the version in the model's furthest stage].",
)
@click.option(
    "--all", "all_models", is_flag=True, help="Check every model that has a monitoring.source."
)
@FORMAT("text", "json", "markdown")
def drift_command(
    model: str | None, repo: Path, data: str | None, against: str | None, all_models: bool, fmt: str
) -> None:
    """Test new data for drift (and decay, when it has labels) against the registered model.

    Exit 0: no drift; 1: the dataset drifted or the model decayed; 2: invalid input.
    """
    from . import monitoring
    from .errors import UsageError
    from .workspace import load

    _set_format(fmt)
    if all_models == (model is not None):
        raise UsageError("name one MODEL, or give --all")
    if all_models and data is not None:
        raise UsageError("--data names one model's data; --all reads each monitoring.source")
    ws = load(repo)
    if all_models:
        results = [
            monitoring.check_source(ws, n, against=against) for n in monitoring.monitored(ws)
        ]
    elif data is not None:
        assert model is not None
        results = [monitoring.check(ws, model, data, against=against)]
    else:
        assert model is not None
        results = [monitoring.check_source(ws, model, against=against)]
    _print_drift(results, fmt, many=all_models)
    click.get_current_context().exit(1 if any(r.report.failed for r in results) else 0)


def _print_drift(results: Sequence[Any], fmt: str, *, many: bool) -> None:
    """JSON: one object for one model, a list for --all."""
    from .drift_render import render_markdown, render_text

    if fmt == "json":
        payload = [r.to_dict() for r in results]
        click.echo(json.dumps(payload if many else payload[0], indent=2))
    elif fmt == "markdown":
        click.echo(render_markdown(results), nl=False)
    else:
        click.echo(render_text(results) if results else "no model has a monitoring.source")


@main.command()
@click.argument("model")
@REPO
@click.option(
    "--data",
    default=None,
    help="The new snapshot: a CSV/parquet file or an fsspec URI "
    "[default: the newest match of the model's monitoring.source].",
)
@click.option(
    "--against",
    default=None,
    help="Reference for the drift report: a stage, or 'head' [default: the furthest stage].",
)
@click.option(
    "--forge",
    type=click.Choice(["auto", "local", "github"]),
    default="auto",
    show_default=True,
    help="Where the pull request is opened; auto is github in GitHub Actions with a token.",
)
@FORMAT("text", "json")
def retrain(
    model: str, repo: Path, data: str | None, against: str | None, forge: str, fmt: str
) -> None:
    """Open (or update) the one retraining pull request of MODEL on new data.

    It branches modelward/retrain/MODEL from the default branch, puts the snapshot in
    place, updates the pin, bumps the minor version, and carries the drift report.
    """
    from . import monitoring
    from . import retrain as flow
    from .changes import default_base
    from .errors import UsageError
    from .forge.setup import choose
    from .workspace import load

    _set_format(fmt)
    chosen = choose(
        forge, repo, settings_ref=lambda ctx: default_base(repo), local={}, emit=click.echo
    )
    if data is None:
        ws = load(repo)
        spec = monitoring.source_of(ws, model) if model in ws.models else None
        if spec is None:
            raise UsageError(f"give --data: model {model!r} has no monitoring.source")
        data = monitoring.read_source(ws, spec).location
    outcome = flow.run(repo, model, data, forge=chosen.forge, against=against)
    if fmt == "json":
        click.echo(json.dumps(outcome.to_dict(), indent=2, sort_keys=True))
        return
    click.echo(f"{outcome.action}: {outcome.message}")
    if outcome.body:
        click.echo("")
        click.echo(outcome.body, nl=False)
