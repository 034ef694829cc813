"""The server: a werkzeug WSGI app on 127.0.0.1 (random port) in a thread.

State is held in memory and read directly by tests (`server.comments[7]`, ...). Every
request is counted (`server.calls`) and checked against GitHub's OpenAPI description,
and so is every response, faults included; a mismatch is recorded in
`server.violations`, which the pytest fixture turns into a failed test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import Headers, ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from . import spec

PER_PAGE = 30
API_HOST = "https://api.github.com"
UPLOADS_HOST = "https://uploads.github.com"
UPLOADS_PREFIX = "/uploads"
NOT_ACCESSIBLE = "Resource not accessible by integration"
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
STAMP = "2026-01-01T00:00:00Z"


@dataclass
class Fault:
    """Inject one failure into the next `times` requests that match method and path.

    kinds: `applied-502` (the write is applied, then 502), `5xx` (503 before applying),
    `secondary` (403 secondary rate limit with Retry-After), `429` (with Retry-After),
    `slow` (answer after `delay` seconds, past the client's timeout).
    """

    method: str
    path: str  # a regular expression searched in the path
    kind: str
    times: int = 1
    delay: float = 3.0
    hits: int = 0


@dataclass
class Call:
    method: str
    path: str
    status: int
    page: int


@dataclass
class Pull:
    number: int
    author: str
    head_sha: str
    base_ref: str
    head_ref: str = "feature"
    base_sha: str = "0" * 40
    title: str = "Change a model"
    state: str = "open"
    merged: bool = False
    merge_commit_sha: str | None = None
    fork: bool = False
    body: str | None = None
    labels: list[str] = field(default_factory=list)


@dataclass
class Release:
    id: int
    tag: str
    name: str
    body: str
    assets: dict[str, bytes] = field(default_factory=dict)
    asset_ids: dict[str, int] = field(default_factory=dict)


def user(login: str, ident: int | None = None) -> dict[str, Any]:
    """A simple-user object for `login` (type Bot for `name[bot]` logins)."""
    u = spec.example("team-member-items")[0]
    uid = ident or int(hashlib.sha256(login.encode()).hexdigest()[:7], 16)
    u.update(
        login=login,
        id=uid,
        node_id=f"U_{uid}",
        url=f"{API_HOST}/users/{login}",
        html_url=f"https://github.com/{login}",
        type="Bot" if login.endswith("[bot]") else "User",
        site_admin=False,
    )
    return u


class GitHubServer:
    """One repository's worth of GitHub, reached at `self.url`."""

    def __init__(
        self,
        owner: str = "acme",
        repo: str = "models",
        token: str = "ghs_test_token",
        prefix: str = "",
    ) -> None:
        """`prefix` serves the API under a path, as GitHub Enterprise Server does
        (`/api/v3`); uploads stay on their own path of the host."""
        self.owner, self.repo, self.token, self.prefix = owner, repo, token, prefix
        self.bot_login = "github-actions[bot]"
        self.readonly = False
        self.pulls: dict[int, Pull] = {}
        self.reviews: dict[int, list[dict[str, Any]]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.statuses: dict[str, list[dict[str, Any]]] = {}
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.annotation_batches: list[int] = []
        self.commit_pulls: dict[str, list[int]] = {}
        self.releases: dict[int, Release] = {}
        self.teams: dict[tuple[str, str], list[str]] = {}
        self.unreadable_teams: set[tuple[str, str]] = set()
        self.contents: dict[tuple[str, str], bytes] = {}
        self.origin: Path | None = None
        """The repository's bare git directory: pull requests are opened on its branches."""
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self._ids = 1000
        self._lock = threading.RLock()
        self._map = Map(self._rules())
        self._http = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._http.server_port}"
        self.api = self.url + prefix
        """The API base URL (GITHUB_API_URL)."""
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ------------------------------------------------------------ lifecycle

    def start(self) -> GitHubServer:
        spec.openapi()  # load before the first request, not inside its timeout
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._thread.join(5)

    # ------------------------------------------------------------ test helpers

    def next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def add_pull(self, pull: Pull) -> Pull:
        self.pulls[pull.number] = pull
        self.reviews.setdefault(pull.number, [])
        self.comments.setdefault(pull.number, [])
        return pull

    def add_review(
        self, number: int, login: str, state: str, commit_id: str, *, dismissed: bool = False
    ) -> dict[str, Any]:
        r = spec.example("pull-request-review-items")[0]
        rid = self.next_id()
        r.update(
            id=rid,
            node_id=f"PRR_{rid}",
            user=user(login),
            body="",
            state="DISMISSED" if dismissed else state,
            commit_id=commit_id,
            submitted_at=STAMP,
            html_url=f"https://github.com/{self.owner}/{self.repo}/pull/{number}#pullrequestreview-{rid}",
            pull_request_url=f"{API_HOST}/repos/{self.owner}/{self.repo}/pulls/{number}",
            author_association="MEMBER",
        )
        self.reviews.setdefault(number, []).append(r)
        return r

    def add_comment(self, number: int, login: str, body: str) -> dict[str, Any]:
        c = spec.example("issue-comment")
        cid = self.next_id()
        c.update(
            id=cid,
            node_id=f"IC_{cid}",
            url=f"{self.api}/repos/{self.owner}/{self.repo}/issues/comments/{cid}",
            html_url=f"https://github.com/{self.owner}/{self.repo}/pull/{number}#issuecomment-{cid}",
            issue_url=f"{self.api}/repos/{self.owner}/{self.repo}/issues/{number}",
            body=body,
            user=user(login),
            created_at=STAMP,
            updated_at=STAMP,
            author_association="NONE" if login.endswith("[bot]") else "MEMBER",
        )
        c.pop("performed_via_github_app", None)
        c.pop("reactions", None)
        self.comments.setdefault(number, []).append(c)
        return c

    def bot_comments(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.get(number, []) if c["user"]["login"] == self.bot_login]

    def api_calls(self) -> int:
        """Requests made, not counting pages of a listing after its first."""
        return sum(1 for c in self.calls if c.page <= 1)

    def reset_calls(self) -> None:
        self.calls.clear()

    # ------------------------------------------------------------ routing

    def _rules(self) -> Iterable[Rule]:
        r = "/repos/<owner>/<repo>"
        p = self.prefix
        rules = [
            Rule(f"{r}/pulls/<int:number>", methods=["GET"], endpoint="get_pull"),
            Rule(f"{r}/pulls/<int:number>", methods=["PATCH"], endpoint="update_pull"),
            Rule(f"{r}/pulls", methods=["GET"], endpoint="list_pulls"),
            Rule(f"{r}/pulls", methods=["POST"], endpoint="create_pull"),
            Rule(f"{r}/issues/<int:number>/labels", methods=["POST"], endpoint="add_labels"),
            Rule(f"{r}/pulls/<int:number>/reviews", methods=["GET"], endpoint="list_reviews"),
            Rule(f"{r}/issues/<int:number>/comments", methods=["GET"], endpoint="list_comments"),
            Rule(f"{r}/issues/<int:number>/comments", methods=["POST"], endpoint="create_comment"),
            Rule(f"{r}/issues/comments/<int:cid>", methods=["PATCH"], endpoint="update_comment"),
            Rule(f"{r}/issues/comments/<int:cid>", methods=["DELETE"], endpoint="delete_comment"),
            Rule(f"{r}/statuses/<sha>", methods=["POST"], endpoint="create_status"),
            Rule(f"{r}/check-runs", methods=["POST"], endpoint="create_check"),
            Rule(f"{r}/check-runs/<int:cid>", methods=["PATCH"], endpoint="update_check"),
            Rule(f"{r}/commits/<sha>/pulls", methods=["GET"], endpoint="commit_pulls_"),
            Rule(f"{r}/releases/tags/<path:tag>", methods=["GET"], endpoint="release_by_tag"),
            Rule(f"{r}/releases", methods=["POST"], endpoint="create_release"),
            Rule(f"{r}/releases/<int:rid>/assets", methods=["GET"], endpoint="list_assets"),
            Rule(
                f"{UPLOADS_PREFIX}{r}/releases/<int:rid>/assets",
                methods=["POST"],
                endpoint="upload_asset",
            ),
            Rule("/orgs/<org>/teams/<slug>/members", methods=["GET"], endpoint="team_members"),
            Rule(f"{r}/contents/<path:path>", methods=["GET"], endpoint="get_content"),
        ]
        for rule in rules:
            if not rule.rule.startswith(UPLOADS_PREFIX):
                rule.rule = p + rule.rule
        return rules

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        body = request.get_data(cache=True)
        self._check_request(request, body)
        response = self._dispatch(request)
        self._check_response(request, body, response)
        page = int(request.args.get("page", "1") or 1)
        with self._lock:
            self.calls.append(Call(request.method, request.path, response.status_code, page))
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        try:
            endpoint, args = self._map.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return self._error(exc.code or 404, "Not Found")
        auth = request.headers.get("Authorization", "")
        if auth.split(" ", 1)[-1] != self.token:
            return self._error(401, "Bad credentials")
        fault = self._fault(request)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        elif fault is not None and fault.kind == "5xx":
            return self._error(503, "Service Unavailable")
        elif fault is not None and fault.kind == "secondary":
            return self._error(403, SECONDARY, {"Retry-After": "1"})
        elif fault is not None and fault.kind == "429":
            return self._error(429, "API rate limit exceeded", {"Retry-After": "1"})
        if self.readonly and request.method != "GET":
            return self._error(403, NOT_ACCESSIBLE)
        with self._lock:
            try:
                response: Response = getattr(self, f"_h_{endpoint}")(request, **args)
            except (KeyError, TypeError, ValueError) as exc:
                return self._error(422, f"Validation Failed: {exc}")
        if fault is not None and fault.kind == "applied-502":
            return self._error(502, "Server Error")
        return response

    def _fault(self, request: Request) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if (
                    f.hits < f.times
                    and f.method == request.method
                    and re.search(f.path, request.path)
                ):
                    f.hits += 1
                    return f
        return None

    # ------------------------------------------------------------ responses

    def _json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return Response(
            json.dumps(data),
            status=status,
            headers=headers or {},
            content_type="application/json; charset=utf-8",
        )

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        doc = "https://docs.github.com/rest"
        return self._json({"message": message, "documentation_url": doc}, status, headers)

    def _page(self, request: Request, items: list[Any]) -> Response:
        per_page = min(int(request.args.get("per_page", PER_PAGE)), 100)
        page = int(request.args.get("page", "1"))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(p: int, rel: str) -> str:
            query = urlencode({**request.args.to_dict(), "per_page": per_page, "page": p})
            return f'<{self.url}{request.path}?{query}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return self._json(chunk, headers={"Link": ", ".join(links)} if links else None)

    def _repo_ok(self, owner: str, repo: str) -> bool:
        return (owner.lower(), repo.lower()) == (self.owner.lower(), self.repo.lower())

    def _pull_json(self, p: Pull, example: str) -> dict[str, Any]:
        d: dict[str, Any] = spec.example(example)
        if isinstance(d, list):
            d = d[0]
        base = f"{self.api}/repos/{self.owner}/{self.repo}"
        d.update(
            url=f"{base}/pulls/{p.number}",
            id=p.number + 500000,
            number=p.number,
            html_url=f"https://github.com/{self.owner}/{self.repo}/pull/{p.number}",
            issue_url=f"{base}/issues/{p.number}",
            comments_url=f"{base}/issues/{p.number}/comments",
            review_comments_url=f"{base}/pulls/{p.number}/comments",
            commits_url=f"{base}/pulls/{p.number}/commits",
            statuses_url=f"{base}/statuses/{p.head_sha}",
            state="closed" if p.merged else p.state,
            title=p.title,
            user=user(p.author),
            merge_commit_sha=p.merge_commit_sha,
            merged_at=STAMP if p.merged else None,
            closed_at=STAMP if p.merged or p.state == "closed" else None,
            assignee=None,
            assignees=[],
            requested_reviewers=[],
            requested_teams=[],
            labels=[self._label_json(name) for name in p.labels],
            milestone=None,
            auto_merge=None,
            body=p.body,
        )
        d["head"] = {**d["head"], "sha": p.head_sha, "ref": p.head_ref, "label": p.head_ref}
        d["base"] = {**d["base"], "sha": p.base_sha, "ref": p.base_ref, "label": p.base_ref}
        if p.fork:
            head_repo = dict(d["head"]["repo"])
            head_repo.update(full_name=f"forker/{self.repo}", fork=True, owner=user("forker"))
            d["head"]["repo"] = head_repo
        if example == "pull-request":
            d.update(merged=p.merged, mergeable=None, merged_by=None, comments=0)
        return d

    # ------------------------------------------------------------ handlers

    def _h_get_pull(self, request: Request, owner: str, repo: str, number: int) -> Response:
        if not self._repo_ok(owner, repo) or number not in self.pulls:
            return self._error(404, "Not Found")
        return self._json(self._pull_json(self.pulls[number], "pull-request"))

    def _label_json(self, name: str) -> dict[str, Any]:
        d: dict[str, Any] = spec.example("label-items")[0]
        lid = int(hashlib.sha256(name.encode()).hexdigest()[:7], 16)
        d.update(
            id=lid,
            node_id=f"LA_{lid}",
            url=f"{self.api}/repos/{self.owner}/{self.repo}/labels/{name}",
            name=name,
            description="",
            default=False,
        )
        return d

    def branch_sha(self, branch: str) -> str | None:
        """The tip of `branch` in the bare origin (None when it does not exist)."""
        if self.origin is None:
            return None
        proc = subprocess.run(
            ["git", "--git-dir", str(self.origin), "rev-parse", "--verify", "--quiet",
             f"refs/heads/{branch}^{{commit}}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return proc.stdout.strip() or None

    def _head_ref(self, head: str) -> str:
        owner, _, ref = head.rpartition(":")
        if owner and owner.lower() != self.owner.lower():
            raise ValueError(f"head {head}: only branches of {self.owner} are served")
        return ref

    def _h_list_pulls(self, request: Request, owner: str, repo: str) -> Response:
        state = request.args.get("state", "open")
        head = request.args.get("head")
        base = request.args.get("base")
        items = [
            self._pull_json(p, "pull-request-simple-items")
            for p in sorted(self.pulls.values(), key=lambda p: -p.number)
            if (state == "all" or ("closed" if p.merged else p.state) == state)
            and (head is None or (not p.fork and self._head_ref(head) == p.head_ref))
            and (base is None or base == p.base_ref)
        ]
        return self._page(request, items)

    def _h_create_pull(self, request: Request, owner: str, repo: str) -> Response:
        data = json.loads(request.get_data())
        ref = self._head_ref(data["head"])
        sha = self.branch_sha(ref)
        if sha is None:
            return self._error(422, f"Validation Failed: head {ref} does not exist")
        if any(
            p.head_ref == ref and p.state == "open" and not p.merged for p in self.pulls.values()
        ):
            return self._error(
                422, f"Validation Failed: A pull request already exists for {data['head']}."
            )
        number = max([*self.pulls, *self.comments, 0]) + 1
        pull = Pull(
            number, self.bot_login, sha, data["base"], head_ref=ref,
            title=data.get("title") or ref, body=data.get("body"),
        )  # fmt: skip
        self.add_pull(pull)
        return self._json(self._pull_json(pull, "pull-request"), 201)

    def _h_update_pull(self, request: Request, owner: str, repo: str, number: int) -> Response:
        pull = self.pulls.get(number)
        if pull is None:
            return self._error(404, "Not Found")
        data = json.loads(request.get_data())
        for key in ("title", "body", "state"):
            if key in data:
                setattr(pull, key, data[key])
        if "base" in data:
            pull.base_ref = data["base"]
        pull.head_sha = self.branch_sha(pull.head_ref) or pull.head_sha
        return self._json(self._pull_json(pull, "pull-request"))

    def _h_add_labels(self, request: Request, owner: str, repo: str, number: int) -> Response:
        pull = self.pulls.get(number)
        if pull is None:
            return self._error(404, "Not Found")
        data = json.loads(request.get_data())
        for name in data.get("labels") or []:
            if name not in pull.labels:
                pull.labels.append(name)
        return self._json([self._label_json(name) for name in pull.labels])

    def _h_list_reviews(self, request: Request, owner: str, repo: str, number: int) -> Response:
        return self._page(request, self.reviews.get(number, []))

    def _h_list_comments(self, request: Request, owner: str, repo: str, number: int) -> Response:
        if number not in self.pulls:
            return self._error(404, "Not Found")
        return self._page(request, self.comments.get(number, []))

    def _h_create_comment(self, request: Request, owner: str, repo: str, number: int) -> Response:
        if number not in self.pulls:
            return self._error(404, "Not Found")
        body = json.loads(request.get_data())["body"]
        return self._json(self.add_comment(number, self.bot_login, body), 201)

    def _find_comment(self, cid: int) -> tuple[int, dict[str, Any]] | None:
        for number, items in self.comments.items():
            for c in items:
                if c["id"] == cid:
                    return number, c
        return None

    def _h_update_comment(self, request: Request, owner: str, repo: str, cid: int) -> Response:
        found = self._find_comment(cid)
        if found is None:
            return self._error(404, "Not Found")
        comment = found[1]
        if comment["user"]["login"] != self.bot_login:
            return self._error(403, "You cannot edit another user's comment")
        comment["body"] = json.loads(request.get_data())["body"]
        comment["updated_at"] = STAMP
        return self._json(comment)

    def _h_delete_comment(self, request: Request, owner: str, repo: str, cid: int) -> Response:
        found = self._find_comment(cid)
        if found is None:
            return self._error(404, "Not Found")
        self.comments[found[0]].remove(found[1])
        return Response(status=204)

    def _h_create_status(self, request: Request, owner: str, repo: str, sha: str) -> Response:
        data = json.loads(request.get_data())
        s = spec.example("status")
        sid = self.next_id()
        s.update(
            id=sid,
            node_id=f"S_{sid}",
            url=f"{self.api}/repos/{owner}/{repo}/statuses/{sha}",
            state=data["state"],
            description=data.get("description"),
            target_url=data.get("target_url"),
            context=data.get("context", "default"),
            creator=user(self.bot_login),
        )
        if len(data.get("description") or "") > 140:
            return self._error(422, "description is too long (maximum is 140 characters)")
        self.statuses.setdefault(sha, []).append(s)
        return self._json(s, 201)

    def _check_json(self, run: dict[str, Any]) -> dict[str, Any]:
        d = spec.example("check-run")
        base = f"{self.api}/repos/{self.owner}/{self.repo}"
        d.update(
            id=run["id"],
            node_id=f"CR_{run['id']}",
            head_sha=run["head_sha"],
            name=run["name"],
            status=run["status"],
            conclusion=run["conclusion"],
            url=f"{base}/check-runs/{run['id']}",
            html_url=f"https://github.com/{self.owner}/{self.repo}/runs/{run['id']}",
            details_url=run.get("details_url"),
            external_id="",
            pull_requests=[],
        )
        d["output"] = {
            "title": run["output"].get("title"),
            "summary": run["output"].get("summary"),
            "text": run["output"].get("text"),
            "annotations_count": len(run["annotations"]),
            "annotations_url": f"{base}/check-runs/{run['id']}/annotations",
        }
        return d

    def _take_annotations(self, run: dict[str, Any], output: dict[str, Any]) -> str | None:
        batch = output.get("annotations") or []
        if len(batch) > 50:
            return "output.annotations: at most 50 annotations a request"
        if batch:
            self.annotation_batches.append(len(batch))
        run["annotations"] += batch
        run["output"] = {k: v for k, v in output.items() if k != "annotations"}
        return None

    def _h_create_check(self, request: Request, owner: str, repo: str) -> Response:
        data = json.loads(request.get_data())
        run = {
            "id": self.next_id(),
            "name": data["name"],
            "head_sha": data["head_sha"],
            "status": data.get("status", "completed" if "conclusion" in data else "queued"),
            "conclusion": data.get("conclusion"),
            "details_url": data.get("details_url"),
            "annotations": [],
            "output": {},
        }
        problem = self._take_annotations(run, data.get("output") or {})
        if problem:
            return self._error(422, problem)
        self.check_runs[run["id"]] = run
        return self._json(self._check_json(run), 201)

    def _h_update_check(self, request: Request, owner: str, repo: str, cid: int) -> Response:
        run = self.check_runs.get(cid)
        if run is None:
            return self._error(404, "Not Found")
        data = json.loads(request.get_data())
        for key in ("status", "conclusion", "details_url"):
            if key in data:
                run[key] = data[key]
        problem = self._take_annotations(run, data.get("output") or {})
        if problem:
            return self._error(422, problem)
        return self._json(self._check_json(run))

    def _h_commit_pulls_(self, request: Request, owner: str, repo: str, sha: str) -> Response:
        numbers = self.commit_pulls.get(sha, [])
        items = [self._pull_json(self.pulls[n], "pull-request-simple-items") for n in numbers]
        return self._page(request, items)

    def _release_json(self, rel: Release) -> dict[str, Any]:
        d = spec.example("release")
        base = f"{self.api}/repos/{self.owner}/{self.repo}"
        d.update(
            id=rel.id,
            node_id=f"RE_{rel.id}",
            url=f"{base}/releases/{rel.id}",
            html_url=f"https://github.com/{self.owner}/{self.repo}/releases/tag/{rel.tag}",
            assets_url=f"{base}/releases/{rel.id}/assets",
            upload_url=f"{self.url}{UPLOADS_PREFIX}/repos/{self.owner}/{self.repo}"
            f"/releases/{rel.id}/assets{{?name,label}}",
            tag_name=rel.tag,
            name=rel.name,
            body=rel.body,
            draft=False,
            prerelease=False,
            author=user(self.bot_login),
            assets=[self._asset_json(rel, n) for n in rel.assets],
        )
        return d

    def _asset_json(self, rel: Release, name: str) -> dict[str, Any]:
        d = spec.example("release-asset-items")[0]
        aid = rel.asset_ids[name]
        d.update(
            id=aid,
            node_id=f"RA_{aid}",
            url=f"{self.api}/repos/{self.owner}/{self.repo}/releases/assets/{aid}",
            browser_download_url=f"https://github.com/{self.owner}/{self.repo}/releases/download/{rel.tag}/{name}",
            name=name,
            label="",
            size=len(rel.assets[name]),
            digest="sha256:" + hashlib.sha256(rel.assets[name]).hexdigest(),
            content_type="application/octet-stream",
            uploader=user(self.bot_login),
        )
        return d

    def release_by_tag(self, tag: str) -> Release | None:
        return next((r for r in self.releases.values() if r.tag == tag), None)

    def _h_release_by_tag(self, request: Request, owner: str, repo: str, tag: str) -> Response:
        rel = self.release_by_tag(tag)
        if rel is None:
            return self._error(404, "Not Found")
        return self._json(self._release_json(rel))

    def _h_create_release(self, request: Request, owner: str, repo: str) -> Response:
        data = json.loads(request.get_data())
        if self.release_by_tag(data["tag_name"]) is not None:
            return self._error(422, "Validation Failed: tag_name already_exists")
        rel = Release(
            self.next_id(), data["tag_name"], data.get("name") or "", data.get("body") or ""
        )
        self.releases[rel.id] = rel
        return self._json(self._release_json(rel), 201)

    def _h_list_assets(self, request: Request, owner: str, repo: str, rid: int) -> Response:
        rel = self.releases.get(rid)
        if rel is None:
            return self._error(404, "Not Found")
        return self._page(request, [self._asset_json(rel, n) for n in rel.assets])

    def _h_upload_asset(self, request: Request, owner: str, repo: str, rid: int) -> Response:
        rel = self.releases.get(rid)
        name = request.args.get("name", "")
        if rel is None:
            return self._error(404, "Not Found")
        if name in rel.assets:
            return self._error(422, "Validation Failed: name already_exists")
        rel.assets[name] = request.get_data()
        rel.asset_ids[name] = self.next_id()
        return self._json(self._asset_json(rel, name), 201)

    def _h_team_members(self, request: Request, org: str, slug: str) -> Response:
        key = (org.lower(), slug.lower())
        if key in self.unreadable_teams:
            return self._error(403, NOT_ACCESSIBLE)
        if key not in self.teams:
            return self._error(404, "Not Found")
        return self._page(request, [user(m) for m in self.teams[key]])

    def _h_get_content(self, request: Request, owner: str, repo: str, path: str) -> Response:
        ref = request.args.get("ref", "main")
        raw = self.contents.get((ref, path))
        if raw is None:
            return self._error(404, "Not Found")
        d = spec.example("content-file-response-if-content-is-a-file")
        sha = hashlib.sha1(raw).hexdigest()
        d.update(
            name=path.rsplit("/", 1)[-1],
            path=path,
            sha=sha,
            size=len(raw),
            encoding="base64",
            content=base64.b64encode(raw).decode(),
            url=f"{self.api}/repos/{owner}/{repo}/contents/{path}?ref={ref}",
        )
        return self._json(d)

    # ------------------------------------------------------------ the contract

    def _openapi_request(self, request: Request, body: bytes) -> Any:
        from openapi_core.datatypes import RequestParameters

        path = request.path
        host = API_HOST
        if path.startswith(UPLOADS_PREFIX + "/"):
            host, path = UPLOADS_HOST, path[len(UPLOADS_PREFIX) :]
        elif self.prefix and path.startswith(self.prefix + "/"):
            path = path[len(self.prefix) :]

        class _Req:
            parameters = RequestParameters(
                query=ImmutableMultiDict(request.args),
                header=Headers(request.headers),
                cookie=ImmutableMultiDict(request.cookies),
            )
            method = request.method.lower()
            content_type = (request.content_type or "").lower()
            host_url = host

        _Req.path = path  # type: ignore[attr-defined]
        _Req.body = body or None  # type: ignore[attr-defined]
        return _Req()

    def _check_request(self, request: Request, body: bytes) -> None:
        try:
            spec.openapi().validate_request(self._openapi_request(request, body))
        except Exception as exc:  # every kind of mismatch is a violation
            self._violation("request", request, exc)

    def _check_response(self, request: Request, body: bytes, response: Response) -> None:
        class _Resp:
            status_code = response.status_code
            content_type = (response.content_type or "").lower()
            headers = Headers(response.headers)
            data = response.get_data() or None

        try:
            spec.openapi().validate_response(self._openapi_request(request, body), _Resp())
        except Exception as exc:
            self._violation(f"response {response.status_code}", request, exc)

    def _violation(self, what: str, request: Request, exc: Exception) -> None:
        details = [str(exc)]
        cause: BaseException | None = exc.__cause__
        while cause is not None:
            details.append(str(cause)[:2000])
            for sub in getattr(cause, "schema_errors", ()) or ():
                details.append(f"  - {sub.message} at {list(sub.absolute_path)}")
            cause = cause.__cause__
        with self._lock:
            self.violations.append(
                f"{what} {request.method} {request.path}: " + " | ".join(details)
            )
