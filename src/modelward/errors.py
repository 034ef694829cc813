"""Every user-facing failure is a ModelwardError; the CLI maps them to exit codes.

Exit codes: 1 a check or a blocking policy failed, 2 invalid input or usage,
3 the forge or git failed. Anything that is not a ModelwardError is a bug: the CLI
reports it as an internal error (exit 4) and `--traceback` shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class ModelwardError(Exception):
    """Base of every failure the user can act on."""

    exit_code: int = 2


@dataclass(frozen=True)
class Problem:
    """One located problem in a file: the unit of every validation message."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "field": self.field, "message": self.message}


class InvalidInput(ModelwardError):
    """One or more problems in manifests, datasets, policies or config (exit 2)."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(
            sorted(set(problems), key=lambda p: (p.path, p.line, p.field, p.message))
        )
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, path: str, line: int, field: str, message: str) -> InvalidInput:
        return cls([Problem(path, line, field, message)])


class UsageError(ModelwardError):
    """A command was called with arguments that cannot work (exit 2)."""

    exit_code = 2


class DataError(ModelwardError):
    """A data file is missing, unreadable or does not match its pin (exit 2)."""

    exit_code = 2

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path, self.line = path, line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class ArtifactError(ModelwardError):
    """A stored artifact is missing or does not hash to its recorded sha256 (exit 2)."""

    exit_code = 2


class GitError(ModelwardError):
    """A git command failed (exit 3)."""

    exit_code = 3

    def __init__(self, args: Sequence[str], stderr: str) -> None:
        self.args_ = tuple(args)
        self.stderr = stderr.strip()
        command = " ".join(a for a in args[:3] if not a.startswith("--format"))
        if "not a git repository" in self.stderr:
            message = "not a git repository: run inside a clone, or point --repo at one"
        else:
            message = f"git {command} failed: {self.stderr or 'no output'}"
        super().__init__(message)


class ForgeError(ModelwardError):
    """The forge (GitHub or the local stand-in) refused or failed (exit 3)."""

    exit_code = 3


class TagConflict(ModelwardError):
    """A registry tag exists with a different payload; tags are never moved (exit 3)."""

    exit_code = 3


class CheckFailed(ModelwardError):
    """A check or verification found a problem (exit 1)."""

    exit_code = 1
