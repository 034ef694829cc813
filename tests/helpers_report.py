"""Report inputs built from the example instance, as pr.py will build them.

Names, versions, metric lists, slice columns, expectation lines and policy rule
lines come from the real manifests at the project root; only the scores (which
training would produce) are written down here.
"""

from __future__ import annotations

from typing import Any

from conftest import ROOT

from modelward.manifest import RULE_KINDS
from modelward.workspace import Workspace, load
from modelward.yamlio import load_path

HEAD_SHA = "3f2c9a1b7d4e5f60718293a4b5c6d7e8f9012345"
VERSIONS = {"great-expectations": "1.3.0", "python": "3.11.9", "scikit-learn": "1.5.2"}


def verdict(
    ws: Workspace,
    policy: str,
    rule: str,
    status: str,
    reason: str,
    waiver: dict[str, Any] | None = None,
) -> dict[str, Any]:
    loaded = ws.policies[policy]
    index = next(i for i, r in enumerate(loaded.record.rules) if r.kind == rule)
    return {
        "policy": policy,
        "rule": rule,
        "status": status,
        "enforcement": loaded.record.enforcement,
        "reason": reason,
        "path": loaded.path,
        "line": loaded.doc.line(("rules", index)),
        "waiver": waiver,
    }


def expectations(ws: Workspace, dataset: str, failing: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The dataset's real expectations with their lines; `failing` maps index -> result."""
    path = ws.expectations_path(ws.datasets[dataset].record)
    doc = load_path(path, f"data/{dataset}/expectations.yaml")
    out = []
    for i, entry in enumerate(doc.data["expectations"]):
        if "type" in entry:
            kind, kwargs = entry["type"], entry["kwargs"]
        else:
            ((kind, kwargs),) = entry.items()
        result = {
            "index": i,
            "line": doc.line(("expectations", i)),
            "type": kind,
            "kwargs": kwargs,
            "success": True,
            "unexpected_count": 0 if kind.startswith("expect_column_values") else None,
            "unexpected_percent": 0.0 if kind.startswith("expect_column_values") else None,
            "sample": [],
            "observed": None,
        }
        result.update(failing.get(i, {}))
        out.append(result)
    return {
        "dataset": dataset,
        "success": all(e["success"] for e in out),
        "cached": False,
        "expectations": out,
    }


def example_report_data() -> dict[str, Any]:
    """churn changed (baseline, slices, waived fairness), breast-cancer failing, diabetes deleted."""
    ws = load(ROOT)
    churn = ws.models["churn"].record
    bc = ws.models["breast-cancer"].record
    diabetes = ws.models["diabetes"].record
    fairness_waiver = next(w for w in ws.waivers.record.waivers if w.rule == "fairness_gap")

    churn_scores = {
        "roc_auc": (0.8712, 0.8841),
        "f1": (0.6930, 0.7012),
        "accuracy": (0.8110, 0.8110),
        "recall": (0.6655, 0.6540),
    }
    region = {
        "east": (251, 0.8902, 0.7120, 0.8200, 0.6700),
        "north": (262, 0.8794, 0.6951, 0.8053, 0.6512),
        "south": (240, 0.8861, 0.7033, 0.8125, 0.6488),
        "west": (247, 0.8807, 0.6940, 0.8057, 0.6461),
    }
    gender = {
        "female": (489, 0.8850, 0.7050, 0.8139, 0.6610),
        "male": (474, 0.8838, 0.6990, 0.8080, 0.6523),
        "nonbinary": (37, 0.8520, 0.6400, 0.7838, 0.5833),
    }

    def slice_table(rows: dict[str, tuple[int, float, float, float, float]]) -> dict[str, Any]:
        return {
            value: {
                "n": n,
                "metrics": {"roc_auc": a, "f1": f, "accuracy": acc, "recall": r},
            }
            for value, (n, a, f, acc, r) in rows.items()
        }

    churn_model = {
        "name": churn.name,
        "version": "1.1.0",
        "stage": "production",
        "status": "changed",
        "reasons": ["models/churn/model.yaml changed", "data/churn/churn.csv changed"],
        "base_version": churn.version,
        "metrics": [
            {
                "name": m,
                "baseline": churn_scores[m][0],
                "candidate": churn_scores[m][1],
                "primary": m == churn.evaluation.primary,
            }
            for m in churn.evaluation.metrics
        ],
        "baseline": {"version": churn.version, "stage": "production", "source": "registry"},
        "slices": {"region": slice_table(region), "gender": slice_table(gender)},
        "data_checks": expectations(ws, "churn", {}),
        "verdicts": [
            verdict(
                ws,
                "production",
                "required_card_fields",
                "pass",
                "intended_use, limitations, ethical_considerations are filled in",
            ),
            verdict(ws, "production", "data_checks_pass", "pass", "13 of 13 expectations passed"),
            verdict(ws, "production", "min_metric", "pass", "roc_auc 0.8841 >= 0.8000"),
            verdict(
                ws,
                "production",
                "no_regression",
                "pass",
                "roc_auc 0.8841 against 0.8712 of churn 1.0.0 in production (+0.0129)",
            ),
            verdict(
                ws,
                "fairness",
                "fairness_gap",
                "fail",
                "recall gap across gender is 0.0777 (female 0.6610, nonbinary 0.5833) > 0.05",
                waiver={
                    "policy": fairness_waiver.policy,
                    "rule": fairness_waiver.rule,
                    "model": fairness_waiver.model,
                    "reason": fairness_waiver.reason,
                    "approved_by": list(fairness_waiver.approved_by),
                    "expires": fairness_waiver.expires.isoformat(),
                    "expired": False,
                },
            ),
            verdict(ws, "production", "approvals", "pass", "approved by alice, bob (2 of 2)"),
            verdict(
                ws,
                "production",
                "allowed_estimators",
                "pass",
                f"{churn.model.estimator} matches sklearn.ensemble.*",
            ),
            verdict(ws, "production", "max_artifact_mb", "pass", "0.4 MB <= 50 MB"),
            verdict(ws, "production", "version_bump", "pass", "artifact changed, 1.0.0 -> 1.1.0"),
        ],
        "hashes": {
            "data_sha256": ws.datasets["churn"].record.sha256,
            "suite_sha256": "5d41402abc4b2a76b9719d911017c592a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "artifact_sha256": "9e107d9d372bb6826bd81d3542a419d6e2f1c0b0a1d2e3f405162738495a6b7c",
            "manifest_digest": "c3499c2729730a7f807efb8676a92dcb6f8a3f8f1a2b3c4d5e6f708192a3b4c5",
        },
        "artifact_bytes": 412_331,
        "versions": VERSIONS,
        "cached": False,
        "error": None,
    }

    bc_failing = {
        5: {
            "success": False,
            "unexpected_count": 3,
            "unexpected_percent": 0.527,
            "sample": [3120.5, 4254.0, 3432.0],
            "observed": None,
        }
    }
    bc_model = {
        "name": bc.name,
        "version": "0.4.0",
        "stage": "staging",
        "status": "changed",
        "reasons": ["data/breast-cancer/breast_cancer.csv changed"],
        "base_version": bc.version,
        "metrics": [
            {"name": m, "baseline": b, "candidate": c, "primary": m == bc.evaluation.primary}
            for m, b, c in zip(
                bc.evaluation.metrics,
                (0.9951, 0.9623, 0.9808, 0.9790),
                (0.9947, 0.9623, 0.9623, 0.9720),
                strict=True,
            )
        ],
        "baseline": {"version": bc.version, "stage": "staging", "source": "registry"},
        "slices": {},
        "data_checks": expectations(ws, "breast-cancer", bc_failing),
        "verdicts": [
            verdict(
                ws,
                "staging",
                "data_checks_pass",
                "fail",
                "1 of 8 expectations failed: expect_column_values_to_be_between (mean_area)",
            ),
            verdict(
                ws,
                "staging",
                "required_card_fields",
                "pass",
                "intended_use, limitations are filled in",
            ),
            verdict(
                ws,
                "staging",
                "allowed_estimators",
                "pass",
                f"{bc.model.estimator} matches sklearn.*",
            ),
            verdict(
                ws,
                "staging",
                "approvals",
                "pending",
                "0 approvals (1 required) from owners (@acme/health-ds, dana); the author does not count",
            ),
            verdict(ws, "staging", "version_bump", "pass", "artifact changed, 0.3.0 -> 0.4.0"),
        ],
        "hashes": {
            "data_sha256": ws.datasets["breast-cancer"].record.sha256,
            "suite_sha256": "0a4d55a8d778e5022fab701977c5d840bbc486d0c1d2e3f4a5b6c7d8e9f00112",
            "artifact_sha256": "2c624232cdd221771294dfbb310aca000a0df6ac8b66b696d90ef06fdefb64a3",
            "manifest_digest": "7b52009b64fd0a2a49e6d8a939753077792b0554a1b2c3d4e5f6a7b8c9d0e1f2",
        },
        "artifact_bytes": 3_214,
        "versions": VERSIONS,
        "cached": False,
        "error": None,
    }

    diabetes_model = {
        "name": diabetes.name,
        "version": diabetes.version,
        "stage": "none",
        "status": "deleted",
        "reasons": ["models/diabetes/model.yaml deleted"],
        "base_version": diabetes.version,
        "metrics": [],
        "baseline": None,
        "slices": {},
        "data_checks": None,
        "verdicts": [],
        "hashes": {
            "data_sha256": None,
            "suite_sha256": None,
            "artifact_sha256": None,
            "manifest_digest": None,
        },
        "artifact_bytes": None,
        "versions": {},
        "cached": False,
        "error": None,
    }

    return {
        "head_sha": HEAD_SHA,
        "base": "main",
        "head": "churn-1.1",
        "summary": "fail",
        "pull_request": 42,
        "generated_by": "modelward 0.1.0",
        "models": [churn_model, bc_model, diabetes_model],
        "governance": [],
        "notes": ["Policies were read from the base branch (main), not from this pull request."],
    }


REGIONS = ("churn-emea", "churn-apac", "fraud-cards", "credit-limit", "demand-forecast")


def many_models_data(n: int = 30) -> dict[str, Any]:
    """n changed models, each with many slices and long failing-expectation samples."""
    models = []
    for i in range(n):
        name = f"model-{i:02d}-{REGIONS[i % len(REGIONS)]}"
        slices = {
            f"segment_{c}": {
                f"value-{v:02d}": {
                    "n": 100 + v,
                    "metrics": {
                        m: round(0.5 + (i * 7 + c * 3 + v) % 40 / 100, 4)
                        for m in ("roc_auc", "f1", "accuracy", "recall", "precision")
                    },
                }
                for v in range(12)
            }
            for c in range(4)
        }
        failing = [
            {
                "index": k,
                "line": 3 + k,
                "type": "expect_column_values_to_match_regex",
                "kwargs": {"column": f"free_text_{k}", "regex": "^[A-Z]{3}-\\d{6}$" + "x" * 200},
                "success": False,
                "unexpected_count": 1234 + k,
                "unexpected_percent": 12.34,
                "sample": ["a very long unexpected value " * 20 for _ in range(50)],
                "observed": {"partial_unexpected_list": ["z" * 300] * 5},
            }
            for k in range(6)
        ]
        passing = [
            {
                "index": 6 + k,
                "line": 9 + k,
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": f"col_{k}"},
                "success": True,
                "unexpected_count": 0,
                "unexpected_percent": 0.0,
                "sample": [],
                "observed": None,
            }
            for k in range(20)
        ]
        verdicts = [
            {
                "policy": "production",
                "rule": rule,
                "status": "fail" if rule in ("data_checks_pass", "fairness_gap") else "pass",
                "enforcement": "block",
                "reason": f"{rule} for {name}: the measured value against the policy's bound",
                "path": "policies/production.yaml",
                "line": 9 + k,
                "waiver": None,
            }
            for k, rule in enumerate(RULE_KINDS)
        ]
        models.append(
            {
                "name": name,
                "version": f"1.{i}.0",
                "stage": "production",
                "status": "changed",
                "reasons": [f"models/{name}/model.yaml changed"],
                "base_version": f"1.{i}.0-rc.1",
                "metrics": [
                    {"name": m, "baseline": 0.8, "candidate": 0.8 + i / 1000, "primary": k == 0}
                    for k, m in enumerate(("roc_auc", "f1", "accuracy", "recall", "precision"))
                ],
                "baseline": {
                    "version": f"1.{i}.0-rc.1",
                    "stage": "production",
                    "source": "registry",
                },
                "slices": slices,
                "data_checks": {
                    "dataset": f"dataset-{i:02d}",
                    "success": False,
                    "cached": True,
                    "expectations": failing + passing,
                },
                "verdicts": verdicts,
                "hashes": {
                    "data_sha256": f"{i:02d}" * 32,
                    "suite_sha256": f"{i + 1:02d}" * 32,
                    "artifact_sha256": f"{i + 2:02d}" * 32,
                    "manifest_digest": f"{i + 3:02d}" * 32,
                },
                "artifact_bytes": 1_000_000 + i,
                "versions": VERSIONS,
                "cached": True,
                "error": None,
            }
        )
    return {
        "head_sha": HEAD_SHA,
        "base": "main",
        "head": "bulk-retrain",
        "summary": "fail",
        "pull_request": 7,
        "generated_by": "modelward 0.1.0",
        "models": models,
        "governance": [],
        "notes": [],
    }
