"""reference: the manifest reference in docs/ is the schema, rendered."""

from __future__ import annotations

from conftest import ROOT

from modelward.manifest import Model, Monitoring, Policy, Rule, Thresholds
from modelward.reference import embed, field_docs, markdown_reference, type_name


def test_readme_reference_equals_the_rendered_schema() -> None:
    # if this fails: run `.venv/bin/python scripts/gen_reference.py` and commit the result
    readme = (ROOT / "README.md").read_text()
    assert readme == embed(readme)
    assert markdown_reference() in readme


def test_every_field_of_every_schema_has_a_row_with_its_docstring() -> None:
    text = markdown_reference()
    for record in (Model, Policy, Rule):
        docs = field_docs(record)
        for name, info in record.model_fields.items():
            assert docs.get(name), f"{record.__name__}.{name} has no docstring"
            row = f"| `{info.alias or name}` |"
            assert any(
                line.startswith(row) and line.endswith(f"| {docs[name]} |")
                for line in text.splitlines()
            ), row


def test_types_read_like_prose() -> None:
    assert type_name(Model.model_fields["owners"].annotation) == "list of string"
    assert type_name(Model.model_fields["task"].annotation) == "`classification` or `regression`"
    assert type_name(Rule.model_fields["min_metric"].annotation) == (
        "mapping of metric name to number"
    )
    assert type_name(Model.model_fields["card"].annotation) == "[Card](#card)"


def test_a_field_declared_in_a_parent_schema_keeps_the_parent_docstring() -> None:
    inherited = set(Thresholds.model_fields) - set(vars(Monitoring).get("__annotations__", {}))
    assert inherited
    for name in inherited:
        assert field_docs(Monitoring)[name] == field_docs(Thresholds)[name]
