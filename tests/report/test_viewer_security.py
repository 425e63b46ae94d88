"""`moot view` answers only requests addressed to it on 127.0.0.1, and every response carries its
security headers; the page's Content-Security-Policy allows exactly its own inline script and style."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from moot.report.html import write_report
from moot.report.server import ViewerServer, open_viewer

API_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
"""The policy of every response but the page: nothing runs or loads."""


@contextmanager
def serving(run_dir) -> Iterator[ViewerServer]:
    """The viewer of a run, served from a thread on a free port."""
    server = open_viewer(run_dir, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def request(server: ViewerServer, path: str, host: str | None, method: str = "GET") -> http.client.HTTPResponse:
    """A request to the viewer with this `Host` header (None: none at all); the response, its body read."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    if host is not None:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]  # the body travels with its response
    connection.close()
    return response


def assert_security_headers(response: http.client.HTTPResponse) -> str:
    """The response carries nosniff, no-referrer and a policy that frames nothing; its policy."""
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Referrer-Policy") == "no-referrer"
    policy = response.getheader("Content-Security-Policy")
    assert policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    return policy


def inline_hash(html: str, tag: str) -> str:
    """The CSP source of the one executable inline `<tag>` block of a page."""
    blocks = re.findall(rf"<{tag}([^>]*)>(.*?)</{tag}>", html, re.S)
    (block,) = [body for attributes, body in blocks if "application/json" not in attributes]
    return "'sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii") + "'"


FOREIGN_HOSTS = [
    "evil.example:{port}",
    "evil.example",
    "127.0.0.1:1",
    "localhost",
    "127.0.0.2:{port}",
    "localhost.:{port}",
    "",
    None,
]
"""`Host` headers the viewer refuses ({port}: its port; None: no header)."""


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_request_for_another_host_is_refused(debate_run, host):
    with serving(debate_run) as server:
        port = server.server_address[1]
        for path in ("/", "/api/facets", "/api/conversations", "/api/conversations/nope"):
            response = request(server, path, host.format(port=port) if host is not None else None)
            assert response.status == 421
            assert response.getheader("Content-Type") == "application/json; charset=utf-8"
            names = f"127.0.0.1:{port}, localhost:{port} or [::1]:{port}"
            assert json.loads(response.body) == {"error": f"this viewer answers only requests for {names}"}
            assert b"planned_debate" not in response.body
            assert_security_headers(response)


def test_the_viewers_own_names_are_answered(debate_run):
    with serving(debate_run) as server:
        port = server.server_address[1]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LocalHost:{port}"):
            page = request(server, "/", host)
            assert page.status == 200 and b"planned_debate" in page.body
            assert json.loads(request(server, "/api/facets", host).body)["total"] == 8


def test_every_response_carries_the_security_headers(debate_run):
    with serving(debate_run) as server:
        host = f"127.0.0.1:{server.server_address[1]}"
        page = request(server, "/", host)
        assert page.status == 200 and page.getheader("Content-Type") == "text/html; charset=utf-8"
        policy = assert_security_headers(page)
        api_responses = [
            request(server, "/api/facets", host),  # 200
            request(server, "/api/conversations?rounds=two", host),  # 400 of the API
            request(server, "/favicon.ico", host),  # 404
            request(server, "/", host, method="POST"),  # 501 of http.server itself
            request(server, "/", host, method="BREW"),
        ]
        assert [r.status for r in api_responses] == [200, 400, 404, 501, 501]
        for response in api_responses:
            assert assert_security_headers(response) == API_POLICY
        # A request line http.server refuses itself.
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=30) as raw:
            raw.sendall(b"GET / extra HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
            head = raw.makefile("rb").read().decode("latin-1")
        assert head.startswith("HTTP/1.0 400") and "X-Content-Type-Options: nosniff" in head
        assert f"Content-Security-Policy: {API_POLICY}" in head
    html = page.body.decode("utf-8")
    assert "http-equiv" not in html  # the header alone states the viewer's policy
    assert policy == (
        f"default-src 'none'; script-src {inline_hash(html, 'script')}; style-src {inline_hash(html, 'style')}; "
        "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def test_the_report_file_states_the_same_policy_in_a_meta_element(debate_run, tmp_path):
    html = write_report(debate_run, tmp_path / "report.html").read_text(encoding="utf-8")
    (meta,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    # Before anything it governs; without frame-ancestors, which a meta policy cannot carry; no API to reach.
    assert html.index("Content-Security-Policy") < html.index("<style>") < html.index("<script")
    assert meta.replace("&#39;", "'") == (
        f"default-src 'none'; script-src {inline_hash(html, 'script')}; style-src {inline_hash(html, 'style')}; "
        "img-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
    )
