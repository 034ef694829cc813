"""A GitHub REST test server: real HTTP on loopback, state in memory, every request and
response checked against GitHub's own OpenAPI description (see spec.py)."""

from .server import Fault, GitHubServer

__all__ = ["Fault", "GitHubServer"]
