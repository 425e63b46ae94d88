"""`moot view`: the run page served on 127.0.0.1, with a JSON API that pages the conversation list.

Routes:

- `/`: the run page (manifest, findings when a current analysis exists, the conversation browser);
- `/api/facets`: the values each filter can take;
- `/api/conversations?q=&scenario=&order=&outcome=&stop=&final.FIELD=&consensus=&rounds=&errors=&offset=&limit=`:
  a page of the list;
- `/api/conversations/ID`: one conversation with its rounds, decisions and model calls.

The list is served from summaries held in memory (see `RunIndex`), so a run of many thousands of
conversations opens at once; a conversation is read from the trace when it is opened.

The server listens on 127.0.0.1 only, and answers only requests addressed to it by name:
`127.0.0.1:PORT`, `localhost:PORT` or `[::1]:PORT` in the `Host` header. Any other name gets a
421, so that a web page whose own name was made to point at 127.0.0.1 (DNS rebinding) cannot read
the run. Every response carries a Content-Security-Policy (the page's lets only its own inline
script and style run, see `moot.report.page`; the API's allows nothing), `X-Content-Type-Options:
nosniff` and `Referrer-Policy: no-referrer`.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from moot.analysis.comparison import is_comparison, read_comparison
from moot.errors import UserError
from moot.report.comparison import comparison_page
from moot.report.index import RunIndex
from moot.report.page import RenderedPage, current_analysis, render_page
from moot.report.query import ListQuery
from moot.trace.opening import read_manifest

HOST = "127.0.0.1"
DEFAULT_PORT = 8765
_CONVERSATION_PREFIX = "/api/conversations/"
LOCAL_NAMES = (HOST, "localhost", "[::1]")
"""The names a request may give the viewer in its `Host` header (with the port)."""
API_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
"""The Content-Security-Policy of every response but the page: JSON and error bodies run and load nothing."""
SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"))
"""Headers of every response."""


class ViewerServer(ThreadingHTTPServer):
    """An HTTP server bound to one run directory and its index."""

    daemon_threads = True

    def __init__(self, run_dir: Path, port: int) -> None:
        self.run_dir = run_dir
        self.comparison = is_comparison(run_dir)
        """Whether the folder is a comparison (`moot compare`): its page embeds its conversations; no API."""
        self.index: RunIndex | None = None if self.comparison else RunIndex(run_dir)
        try:
            super().__init__((HOST, port), ViewerHandler)
        except OSError as exc:
            if self.index is not None:
                self.index.close()
            raise UserError(
                f"cannot serve on {HOST}:{port} ({exc.strerror or exc}); pass another --port (0 picks a free one)"
            ) from None

    @property
    def url(self) -> str:
        """Where the page is served."""
        return f"http://{HOST}:{self.server_address[1]}/"

    @property
    def hosts(self) -> frozenset[str]:
        """The `Host` header values the viewer answers: its local names with its port (without it too on port 80)."""
        port = self.server_address[1]
        names = {f"{name}:{port}" for name in LOCAL_NAMES}
        return frozenset(names | set(LOCAL_NAMES) if port == 80 else names)

    def conversations(self) -> int:
        """How many conversations the page lists."""
        if self.index is not None:
            return int(self.index.facets()["total"])
        return sum(run.conversations for run in read_comparison(self.run_dir).runs)

    def page(self) -> RenderedPage:
        """The run page, from the manifest as it is now (a comparison's page, for a comparison folder)."""
        if self.index is None:
            return comparison_page(self.run_dir)
        manifest = read_manifest(self.run_dir)
        return render_page(
            manifest,
            current_analysis(self.run_dir, manifest.final_hash),
            source="api",
            protocol=self.index.protocol,
        )

    def server_close(self) -> None:
        """Stop listening and release the trace."""
        super().server_close()
        if self.index is not None:
            self.index.close()


class ViewerHandler(BaseHTTPRequestHandler):
    """Answers the page and the API routes; anything else is a 404."""

    server: ViewerServer
    _policy: str = API_POLICY
    """The Content-Security-Policy of the response being sent."""

    def do_GET(self) -> None:  # the name http.server dispatches to
        """Route a GET request (refused unless addressed to the viewer by one of its local names)."""
        self._policy = API_POLICY
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in self.server.hosts:
            port = self.server.server_address[1]
            names = f"{HOST}:{port}, localhost:{port} or [::1]:{port}"
            self._json(HTTPStatus.MISDIRECTED_REQUEST, {"error": f"this viewer answers only requests for {names}"})
            return
        url = urlsplit(self.path)
        index = self.server.index
        try:
            if url.path == "/":
                page = self.server.page()
                self._policy = page.policy
                self._send(HTTPStatus.OK, page.html.encode("utf-8"), "text/html; charset=utf-8")
            elif url.path.startswith("/api/") and index is None:
                self._json(HTTPStatus.NOT_FOUND, {"error": "a comparison's page holds its conversations; no API"})
            elif url.path == "/api/facets" and index is not None:
                self._json(HTTPStatus.OK, index.facets())
            elif url.path == "/api/conversations" and index is not None:
                self._json(HTTPStatus.OK, index.page(ListQuery.from_params(dict(parse_qsl(url.query)))))
            elif url.path.startswith(_CONVERSATION_PREFIX) and index is not None:
                conversation_id = unquote(url.path[len(_CONVERSATION_PREFIX) :])
                detail = index.conversation(conversation_id)
                if detail is None:
                    self._json(HTTPStatus.NOT_FOUND, {"error": f"conversation '{conversation_id}' is not in this run"})
                else:
                    self._json(HTTPStatus.OK, detail)
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {url.path}"})
        except UserError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception as exc:  # the page shows the message; the server goes on serving
            self._policy = API_POLICY
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"})

    def _json(self, status: HTTPStatus, body: Any) -> None:
        self._send(
            status,
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
            "application/json; charset=utf-8",
        )

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        """Add the security headers to every response (http.server's own error responses too), then end the headers."""
        self.send_header("Content-Security-Policy", self._policy)
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # the signature http.server calls
        """Requests are not logged: the terminal shows only the address and how to stop."""


def open_viewer(run_dir: Path | str, port: int = DEFAULT_PORT) -> ViewerServer:
    """Index a run and bind the viewer to 127.0.0.1:`port` (0 picks a free port); call `serve_forever` to serve."""
    return ViewerServer(Path(run_dir), port)
