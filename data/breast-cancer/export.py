"""Export scikit-learn's bundled breast cancer data to breast_cancer.csv (no download)."""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_breast_cancer


def main() -> None:
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame["malignant"] = 1 - frame.pop("target")  # sklearn codes malignant as 0
    path = Path(__file__).with_name("breast_cancer.csv")
    frame.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    print(f"wrote {len(frame)} rows to {path}")


if __name__ == "__main__":
    main()
