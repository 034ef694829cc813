"""Generate data/churn/churn.csv: a synthetic subscriber table, deterministic.

Run `python data/churn/generate.py` to regenerate; the committed CSV and the
sha256 pin in dataset.yaml must then be updated together.

`python data/churn/generate.py --next-quarter FILE` writes a later snapshot of the same
population in which prices rose and the contract mix moved towards longer contracts
(what `modelward drift` should notice), with its own seed and the same columns.
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np

ROWS = 5000
SEED = 7
REGIONS = ["north", "south", "east", "west"]
GENDERS = ["female", "male", "nonbinary"]
CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENTS = ["card", "bank-transfer", "invoice"]
CONTRACT_MIX = (0.55, 0.25, 0.20)
PRICE_MEAN = 65.0
NEXT_QUARTER_SEED = 8
NEXT_QUARTER_CONTRACT_MIX = (0.30, 0.30, 0.40)
NEXT_QUARTER_PRICE_MEAN = 85.0


def rows(
    n: int = ROWS,
    seed: int = SEED,
    *,
    contract_mix: tuple[float, float, float] = CONTRACT_MIX,
    price_mean: float = PRICE_MEAN,
) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        age = int(np.clip(rng.normal(44, 14), 18, 90))
        gender = GENDERS[int(rng.choice(3, p=[0.49, 0.48, 0.03]))]
        region = REGIONS[int(rng.integers(0, 4))]
        contract = CONTRACTS[int(rng.choice(3, p=list(contract_mix)))]
        tenure = int(np.clip(rng.exponential(24 if contract == "month-to-month" else 40), 1, 120))
        charges = round(float(np.clip(rng.normal(price_mean, 22), 15, 150)), 2)
        tickets = int(rng.poisson(1.2 + (charges > 90)))
        payment = PAYMENTS[int(rng.integers(0, 3))] if rng.random() > 0.02 else ""
        logit = (
            -1.2
            + 1.4 * (contract == "month-to-month")
            - 0.9 * (contract == "two-year")
            - 0.035 * tenure
            + 0.018 * (charges - 65)
            + 0.45 * tickets
            + 0.25 * (region == "south")
            - 0.01 * (age - 44)
            + 0.3 * (payment == "invoice")
        )
        churned = int(rng.random() < 1 / (1 + math.exp(-logit)))
        out.append(
            {
                "customer_id": f"C{i:05d}",
                "age": age,
                "gender": gender,
                "region": region,
                "contract": contract,
                "tenure_months": tenure,
                "monthly_charges": f"{charges:.2f}",
                "support_tickets": tickets,
                "payment_method": payment,
                "churned": churned,
            }
        )
    return out


def next_quarter(n: int = ROWS) -> list[dict[str, object]]:
    """A later snapshot: higher prices, more one- and two-year contracts."""
    return rows(
        n,
        NEXT_QUARTER_SEED,
        contract_mix=NEXT_QUARTER_CONTRACT_MIX,
        price_mean=NEXT_QUARTER_PRICE_MEAN,
    )


def write(data: list[dict[str, object]], path: Path) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--next-quarter"] and len(argv) == 2:
        data, path = next_quarter(), Path(argv[1])
    elif not argv:
        data, path = rows(), Path(__file__).with_name("churn.csv")
    else:
        raise SystemExit("usage: generate.py [--next-quarter FILE]")
    write(data, path)
    print(f"wrote {len(data)} rows to {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
