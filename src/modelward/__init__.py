"""modelward: GitOps for machine-learning models."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # importlib.metadata costs ~90 ms at start-up; only --version and reports need it
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("modelward")
        except PackageNotFoundError:  # running from a source tree
            return "0.0.0"
    raise AttributeError(f"module 'modelward' has no attribute {name!r}")
