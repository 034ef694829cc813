"""Cost of signed registry tags: signing at promote and checking at `audit --verify`.

Builds a throwaway repository with N tags signed by an ssh key that ssh-keygen makes in
the same temporary folder, then times, in one run: `signing.verify` of every tag
(batched `git verify-tag`, the check `audit --verify` runs when registry.signing is
set), the same again once its good verdicts are cached, and `git for-each-ref` reading
the same tags (what `audit` costs without it).

Run: .venv/bin/python benchmarks/bench_signing.py [N]   (default 300)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modelward import signing
from modelward.manifest import Signing


def sh(repo: Path, *args: str, input: bytes | None = None) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, input=input)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    os.environ |= {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com"}
    os.environ |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        key = root / "bot"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        repo = root / "repo"
        (repo / "policies").mkdir(parents=True)
        allowed = f'bot namespaces="git" {key.with_suffix(".pub").read_text()}'
        (repo / "policies" / "allowed_signers").write_text(allowed)
        (repo / "modelward.yaml").write_text(
            "apiVersion: modelward/v1\nkind: Config\nregistry:\n  signing:\n    format: ssh\n"
            f"    key: {key}\n    allowed_signers: policies/allowed_signers\n"
        )
        sh(repo, "init", "-q", "-b", "main")
        sh(repo, "add", "-A")
        sh(repo, "commit", "-qm", "init")
        config = Signing(format="ssh", key=str(key), allowed_signers="policies/allowed_signers")
        names = [f"m{i:04d}@v1.0.0" for i in range(n)]
        start = time.perf_counter()
        for name in names:
            sh(
                repo,
                *signing.git_options(config, repo),
                "tag",
                "--sign",
                "-m",
                f"{name}\n\nmodelward: 1\n",
                name,
            )
        t_sign = (time.perf_counter() - start) / n
        policy = signing.policy_at(repo, "main")
        assert policy is not None
        start = time.perf_counter()
        problems = signing.verify(repo, policy, names)
        t_verify = time.perf_counter() - start
        assert problems == {}, problems
        start = time.perf_counter()
        assert signing.verify(repo, policy, names) == {}
        t_cached = time.perf_counter() - start
        start = time.perf_counter()
        sh(repo, "for-each-ref", "--format=%(refname)%00%(contents)", "refs/tags")
        t_read = time.perf_counter() - start
        print(f"{n} ssh-signed tags")
        print(f"  sign one tag (git tag --sign, promote):   {t_sign * 1000:7.1f} ms")
        print(f"  verify all (signing.verify, one run):     {t_verify:7.3f} s")
        print(f"    per tag:                                {t_verify / n * 1000:7.2f} ms")
        print(f"    extrapolated to 1,250 tags:             {t_verify / n * 1250:7.2f} s")
        print(f"  verify all again (good verdicts cached):  {t_cached:7.3f} s")
        print(f"  read all (git for-each-ref, no checking): {t_read:7.3f} s")
        print(f"  ratio first verify / cached verify:       {t_verify / t_cached:7.0f}x")


if __name__ == "__main__":
    main()
