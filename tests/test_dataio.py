"""Reading a dataset as it is: read options, files without rows, a wrong separator, parquet."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli
from helpers_training import edit, load, repin

from modelward import dataio, training
from modelward.errors import DataError, InvalidInput

pytestmark = pytest.mark.slow


def _semicolon_csv(root: Path) -> Path:
    """Rewrite the diabetes data the European way: ';' between fields, ',' as decimal mark."""
    path = root / "data/diabetes/diabetes.csv"
    lines = path.read_text().splitlines()
    path.write_bytes(
        ("\n".join(line.replace(",", ";").replace(".", ",") for line in lines) + "\n").encode()
    )
    return path


def test_read_options_reach_pandas_and_the_metrics_do_not_change(example_dir: Path) -> None:
    before = training.train(load(example_dir), "diabetes")
    _semicolon_csv(example_dir)
    repin(example_dir, "diabetes")
    edit(
        example_dir / "data/diabetes/dataset.yaml",
        "source: diabetes.csv",
        "source: diabetes.csv\nread: {sep: ';', decimal: ',', na_values: ['?']}",
    )
    after = training.train(load(example_dir), "diabetes")
    assert after.metrics == pytest.approx(before.metrics, abs=1e-9)
    assert after.key != before.key  # how the file is parsed is part of the artifact key


def test_a_header_that_is_one_column_holding_the_separator_gets_a_hint(example_dir: Path) -> None:
    _semicolon_csv(example_dir)
    repin(example_dir, "diabetes")
    result = cli("validate", "--repo", example_dir)
    assert result.exit_code == 2
    assert (
        "data/diabetes/dataset.yaml:5: source: the header is one column "
        "'age;sex;bmi;bp;tc;ldl;hdl;tch;ltg;glu;progression' that contains ';'; "
        "if ';' separates the fields, set read: {sep: ';'} in dataset.yaml"
    ) in result.output


def test_read_options_are_schema_checked(example_dir: Path) -> None:
    edit(
        example_dir / "data/diabetes/dataset.yaml",
        "source: diabetes.csv",
        "source: diabetes.csv\nread: {sep: ';;', encoding: latin-9, decimal: '.', quote: x}",
    )
    with pytest.raises(InvalidInput) as err:
        load(example_dir)
    assert str(err.value).splitlines() == [
        "data/diabetes/dataset.yaml:6: read.encoding: unknown encoding 'latin-9'; "
        "e.g. utf-8, latin-1, cp1252",
        "data/diabetes/dataset.yaml:6: read.quote: unknown key 'quote'",
        "data/diabetes/dataset.yaml:6: read.sep: must be one character (got ';;')",
    ]


def test_latin1_data_reads_with_its_encoding(example_dir: Path) -> None:
    path = example_dir / "data/diabetes/diabetes.csv"
    text = path.read_text().replace("female", "fémale")
    path.write_bytes(text.encode("latin-1"))
    repin(example_dir, "diabetes")
    with pytest.raises(DataError, match=r"set read: \{encoding: latin-1\}"):
        training.train(load(example_dir), "diabetes")
    edit(
        example_dir / "data/diabetes/dataset.yaml",
        "source: diabetes.csv",
        "source: diabetes.csv\nread: {encoding: latin-1}",
    )
    result = training.train(load(example_dir), "diabetes")
    assert sorted(result.slice_metrics["sex"]) == ["fémale", "male"]


def test_parse_dates_makes_a_date_column_that_is_refused_as_a_feature(example_dir: Path) -> None:
    path = example_dir / "data/diabetes/diabetes.csv"
    lines = path.read_text().splitlines()
    lines = [lines[0] + ",seen"] + [
        f"{line},12/0{1 + i % 9}/2024" for i, line in enumerate(lines[1:])
    ]
    path.write_text("\n".join(lines) + "\n")
    repin(example_dir, "diabetes")
    edit(
        example_dir / "data/diabetes/dataset.yaml",
        "source: diabetes.csv",
        "source: diabetes.csv\nread: {parse_dates: [seen]}",
    )
    frame = dataio.read_frame(dataio.locate(load(example_dir), "diabetes"))
    assert str(frame["seen"].dtype).startswith("datetime64")
    with pytest.raises(InvalidInput, match=r"feature 'seen' holds dates \(datetime64"):
        training.train(load(example_dir), "diabetes")


def test_parquet_keeps_its_dtypes_and_refuses_read_options(example_dir: Path) -> None:
    import pandas as pd

    folder = example_dir / "data/diabetes"
    frame = pd.read_csv(folder / "diabetes.csv")
    frame["sex"] = frame["sex"].astype("category")
    frame["age"] = frame["age"].astype("int16")
    frame.to_parquet(folder / "diabetes.parquet")
    edit(folder / "dataset.yaml", "source: diabetes.csv", "source: diabetes.parquet")
    repin(example_dir, "diabetes")
    read = dataio.read_frame(dataio.locate(load(example_dir), "diabetes"))
    assert (str(read["sex"].dtype), str(read["age"].dtype)) == ("category", "int16")
    edit(
        folder / "dataset.yaml",
        "source: diabetes.parquet",
        "source: diabetes.parquet\nread: {sep: ';'}",
    )
    with pytest.raises(InvalidInput) as err:
        load(example_dir)
    assert str(err.value) == (
        "data/diabetes/dataset.yaml:6: read: read options apply to csv files; "
        "parquet keeps its own types"
    )


def test_a_file_with_a_header_and_no_rows_fails_check_data_with_exit_2(example_dir: Path) -> None:
    path = example_dir / "data/diabetes/diabetes.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    repin(example_dir, "diabetes")
    result = cli("check-data", "diabetes", "--repo", example_dir)
    assert result.exit_code == 2
    assert result.output.strip() == (
        "modelward: data/diabetes/dataset.yaml:5: data/diabetes/diabetes.csv has a header "
        "but no rows; there is nothing to check or train on"
    )
