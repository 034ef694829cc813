"""Export scikit-learn's bundled wine data to wine.csv (no download).

Three cultivars of Italian wine (Barolo, Grignolino, Barbera; Forina et al., UCI),
178 samples, 13 chemical measurements: the example instance's 3-class model.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.datasets import load_wine

CULTIVARS = {0: "barolo", 1: "grignolino", 2: "barbera"}


def main() -> None:
    frame = load_wine(as_frame=True).frame
    frame.columns = [c.replace("/", "_").replace(" ", "_") for c in frame.columns]
    frame["cultivar"] = frame.pop("target").map(CULTIVARS)
    path = Path(__file__).with_name("wine.csv")
    frame.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")
    print(f"wrote {len(frame)} rows to {path}")


if __name__ == "__main__":
    main()
