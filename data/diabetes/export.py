"""Export scikit-learn's bundled diabetes data to diabetes.csv, unscaled (no download)."""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_diabetes


def main() -> None:
    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame = frame.rename(
        columns={
            "target": "progression",
            "s1": "tc",
            "s2": "ldl",
            "s3": "hdl",
            "s4": "tch",
            "s5": "ltg",
            "s6": "glu",
        }
    )
    frame["sex"] = frame["sex"].map({1.0: "female", 2.0: "male"})
    frame.to_csv(
        path := Path(__file__).with_name("diabetes.csv"),
        index=False,
        float_format="%.6g",
        lineterminator="\n",
    )
    print(f"wrote {len(frame)} rows to {path}")


if __name__ == "__main__":
    main()
