"""Generate data/churn/churn.csv: a synthetic subscriber table, deterministic.

Run `python data/churn/generate.py` to regenerate; the committed CSV and the
sha256 pin in dataset.yaml must then be updated together.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

ROWS = 5000
SEED = 7
REGIONS = ["north", "south", "east", "west"]
GENDERS = ["female", "male", "nonbinary"]
CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENTS = ["card", "bank-transfer", "invoice"]


def rows(n: int = ROWS, seed: int = SEED) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        age = int(np.clip(rng.normal(44, 14), 18, 90))
        gender = GENDERS[int(rng.choice(3, p=[0.49, 0.48, 0.03]))]
        region = REGIONS[int(rng.integers(0, 4))]
        contract = CONTRACTS[int(rng.choice(3, p=[0.55, 0.25, 0.20]))]
        tenure = int(np.clip(rng.exponential(24 if contract == "month-to-month" else 40), 1, 120))
        charges = round(float(np.clip(rng.normal(65, 22), 15, 150)), 2)
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


def main() -> None:
    data = rows()
    path = Path(__file__).with_name("churn.csv")
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    print(f"wrote {len(data)} rows to {path}")


if __name__ == "__main__":
    main()
