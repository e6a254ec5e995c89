"""HTTP family against real sockets on 127.0.0.1: the client hits a server the test starts, and
the catalog's server is hit by a real client (httpx)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reflow_cli import Actor, Message, Network, PortSpec
from reflow_cli.catalog import http as http_family
from tests.catalog._helpers import Sink, run_component, tagged as T

FLOW = T("Flow")


# -- a real server for the client ----------------------------------------------------------------------


class _TestServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with a few behaviours chosen by path."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.flaky = 0
        lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    owner.seen.append(
                        {"method": self.command, "path": self.path, "body": body, "headers": {k.lower(): v for k, v in self.headers.items()}}
                    )
                status, headers, payload = owner.route(self.command, self.path, body)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, method: str, path: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        if path.startswith("/flaky"):
            self.flaky += 1
            if self.flaky <= 2:
                return 503, [("Retry-After", "0")], b"busy"
        if path.startswith("/always503"):
            return 503, [], b"down"
        if path.startswith("/sleep"):
            time.sleep(0.3)
        if path.startswith("/missing"):
            return 404, [("Content-Type", "text/plain")], b"no such thing"
        if path.startswith("/text"):
            return 200, [("Content-Type", "text/plain")], b"plain text"
        if path.startswith("/items/"):
            return 200, [("Content-Type", "application/json")], json.dumps({"id": int(path.split("?")[0].rsplit("/", 1)[1])}).encode()
        if path.startswith("/multi"):
            return 200, [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Type", "application/json")], b"[1, 2]"
        return 200, [("Content-Type", "application/json"), ("X-Up", "Yes")], json.dumps({"path": path, "method": method}).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[_TestServer]:
    srv = _TestServer()
    yield srv
    srv.close()


def _request(config: dict, inputs: dict, **kwargs: Any) -> Any:
    return run_component("tpl_http_request", config, inputs, **kwargs)


# -- tpl_http_request ------------------------------------------------------------------------------------


def test_get_returns_status_headers_and_parsed_body(server: _TestServer) -> None:
    result = _request({"url": server.url + "/json"}, {"data_in": [FLOW]})
    data = result.one("response_out")["data"]
    assert data["status"] == 200 and data["method"] == "GET" and data["url"] == server.url + "/json"
    assert data["body"] == {"path": "/json", "method": "GET"}
    assert data["headers"]["content-type"] == "application/json" and data["headers"]["x-up"] == "Yes"
    assert all(name == name.lower() for name in data["headers"])


def test_get_and_flow_send_no_body(server: _TestServer) -> None:
    # the reference sent the tagged packet as a JSON body even with GET ({"type":"Flow"} for a Flow)
    server.seen.clear()
    _request({"url": server.url + "/json"}, {"data_in": [FLOW, T("Object", {"a": 1})]})
    _request({"url": server.url + "/json", "method": "POST"}, {"data_in": [FLOW]})
    _request({"url": server.url + "/json", "method": "DELETE"}, {"data_in": [T("Integer", 1)]})
    assert [(s["method"], s["body"]) for s in server.seen] == [("GET", b""), ("GET", b""), ("POST", b""), ("DELETE", b"")]
    assert all("content-type" not in s["headers"] for s in server.seen)


@pytest.mark.parametrize(
    ("config", "data", "body", "content_type"),
    [
        ({}, T("Object", {"a": 1}), b'{"a":1}', "application/json"),
        ({}, T("String", "hé"), b'"h\xc3\xa9"', "application/json"),
        ({"bodyType": "text"}, T("String", "hé"), "hé".encode(), "text/plain; charset=utf-8"),
        ({"bodyType": "text"}, T("Array", [1]), b"[1]", "text/plain; charset=utf-8"),
        ({"bodyType": "form"}, T("Object", {"q": "a b", "n": 2}), b"q=a+b&n=2", "application/x-www-form-urlencoded"),
        ({}, T("Bytes", [0, 255]), b"\x00\xff", "application/octet-stream"),
        ({"body": {"fixed": True}}, T("Integer", 3), b'{"fixed":true}', "application/json"),
        ({"headers": {"Content-Type": "application/vnd.x+json"}}, T("Object", {}), b"{}", "application/vnd.x+json"),
    ],
)
def test_post_bodies(server: _TestServer, config: dict, data: dict, body: bytes, content_type: str) -> None:
    server.seen.clear()
    result = _request({"url": server.url + "/json", "method": "POST", **config}, {"data_in": [data]})
    assert result.one("response_out")["data"]["status"] == 200
    (seen,) = server.seen
    assert seen["body"] == body and seen["headers"]["content-type"] == content_type


def test_a_config_body_is_sent_even_with_get(server: _TestServer) -> None:
    server.seen.clear()
    _request({"url": server.url + "/json", "body": {"b": 2}}, {"data_in": [FLOW]})
    assert server.seen[0]["method"] == "GET" and server.seen[0]["body"] == b'{"b":2}'


def test_url_templates_query_and_headers(server: _TestServer) -> None:
    server.seen.clear()
    config = {"url": server.url + "/items/${id}", "query": {"q": "x y", "tag": ["a", "b"]}, "headers": {"X-A": "config", "X-B": 1}}
    result = _request(config, {"data_in": [T("Object", {"id": 7})]})
    assert result.one("response_out")["data"]["url"] == server.url + "/items/7"
    (seen,) = server.seen
    assert seen["path"] == "/items/7?q=x+y&tag=a&tag=b"
    assert (seen["headers"]["x-a"], seen["headers"]["x-b"]) == ("config", "1")
    result = _request(config, {"data_in": [T("Object", {"other": 1})]})
    assert result.data("error_out") == [f"HTTP request failed: no field 'id' for the url (url: {config['url']}, method: GET)"]


def test_headers_in_applies_to_the_requests_that_follow(server: _TestServer) -> None:
    # the reference sent a request for the headers_in packet itself
    server.seen.clear()
    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("h", "tpl_http_request", {"url": server.url + "/json", "headers": {"X-A": "config"}})
    net.add_node("later", "tpl_delay", {"delayMs": 50})
    net.add_node("sink", "sink")
    net.add_connection("later", "output", "h", "data_in")
    net.add_connection("h", "response_out", "sink", "r")
    net.add_initial("h", "data_in", FLOW)
    net.add_initial("h", "headers_in", T("Object", {"X-A": "runtime"}))
    net.add_initial("later", "input", FLOW)
    assert net.run(timeout=10)
    assert len(server.seen) == 2  # one per data_in packet, none for headers_in
    assert server.seen[-1]["headers"]["x-a"] == "runtime"
    result = _request({"url": server.url + "/json"}, {"headers_in": [T("String", "x")]})
    assert result.data("error_out") == ["Expected Object on headers_in port, got String"]


def test_error_statuses_are_responses_unless_fail_on_status(server: _TestServer) -> None:
    result = _request({"url": server.url + "/missing"}, {"data_in": [FLOW]})
    data = result.one("response_out")["data"]
    assert (data["status"], data["body"]) == (404, "no such thing")
    result = _request({"url": server.url + "/missing", "failOnStatus": True}, {"data_in": [FLOW]})
    assert result.data("error_out") == [f"HTTP request failed: HTTP 404 Not Found (url: {server.url}/missing, method: GET)"]


def test_retries_with_backoff(server: _TestServer) -> None:
    server.flaky = 0
    started = time.perf_counter()
    result = _request({"url": server.url + "/flaky", "retries": 3, "retryDelay": 40}, {"data_in": [FLOW]})
    elapsed = time.perf_counter() - started
    assert result.one("response_out")["data"]["status"] == 200 and server.flaky == 3
    assert elapsed >= 0.04 + 0.08  # 40 ms, then 80 ms (Retry-After: 0 does not shorten the backoff)
    result = _request({"url": server.url + "/always503", "retries": 2, "retryDelay": 1, "failOnStatus": True}, {"data_in": [FLOW]})
    assert result.data("error_out") == [
        f"HTTP request failed: HTTP 503 Service Unavailable, after 3 attempts (url: {server.url}/always503, method: GET)"
    ]
    result = _request({"url": server.url + "/always503", "retries": 1, "retryDelay": 1}, {"data_in": [FLOW]})
    assert result.one("response_out")["data"]["status"] == 503


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_errors_go_to_error_out_after_the_retries() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/x"
    result = _request({"url": url, "retries": 2, "retryDelay": 5}, {"data_in": [FLOW]})
    (text,) = result.data("error_out")
    assert text.startswith(f"HTTP request failed: error sending request for url ({url}): ")
    assert text.endswith(f"(after 3 attempts) (url: {url}, method: GET)")


def test_timeouts(server: _TestServer) -> None:
    result = _request({"url": server.url + "/sleep", "timeout": 100}, {"data_in": [FLOW]})
    assert result.data("error_out") == [f"HTTP request failed: timed out after 100 ms (url: {server.url}/sleep, method: GET)"]


def test_response_types(server: _TestServer) -> None:
    result = _request({"url": server.url + "/text", "responseType": "json"}, {"data_in": [FLOW]})
    assert result.data("error_out") == [f"HTTP request failed: the response is not JSON: 'plain text' (url: {server.url}/text, method: GET)"]
    result = _request({"url": server.url + "/json", "responseType": "text"}, {"data_in": [FLOW]})
    assert json.loads(result.one("response_out")["data"]["body"]) == {"path": "/json", "method": "GET"}
    result = _request({"url": server.url + "/multi"}, {"data_in": [FLOW]})
    data = result.one("response_out")["data"]
    assert data["body"] == [1, 2] and data["headers"]["set-cookie"] == "a=1, b=2"
    result = _request({"url": server.url + "/json", "method": "head"}, {"data_in": [FLOW]})
    assert result.one("response_out")["data"]["body"] == "" and result.one("response_out")["data"]["method"] == "HEAD"


def test_bad_urls(server: _TestServer) -> None:
    assert _request({"url": "ftp://example.invalid/x"}, {"data_in": [FLOW]}).data("error_out")[0].startswith(
        "HTTP request failed: unsupported url"
    )
    with pytest.raises(Exception, match="'url' is a required property"):
        _request({}, {"data_in": [FLOW]})


def test_requests_of_two_nodes_overlap(server: _TestServer) -> None:
    # httpx runs on trio (through anyio): a request waiting for its answer blocks no other node
    net = Network()
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("sink", "sink")
    for name in ("a", "b", "c"):
        net.add_node(name, "tpl_http_request", {"url": server.url + "/sleep"})
        net.add_connection(name, "response_out", "sink", name)
        net.add_initial(name, "data_in", FLOW)
    started = time.perf_counter()
    assert net.run(timeout=10)
    assert len(sink.items) == 3 and time.perf_counter() - started < 0.8  # 3 x 0.3 s, concurrently


# -- tpl_server_request / tpl_server_response -------------------------------------------------------------


class Responder(Actor):
    """Answers requests: echo by default; /silent never answers; /twice answers twice."""

    component = "test_responder"
    inports = [PortSpec("request")]
    outports = [PortSpec("response")]

    def __init__(self, answer: Any = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = answer

    def run(self, ctx: Any) -> None:
        request = ctx.inputs["request"]["data"]
        self.requests.append(request)
        if self.answer is not None:
            ctx.send({"response": Message.object(self.answer(request))})
            return
        if request["path"] == "/silent":
            return
        answer = {
            "id": request["id"],
            "status": 201 if request["method"] == "POST" else 200,
            "headers": {"X-Path": request["path"]},
            "body": {"echo": request["body"], "query": request["query"]},
        }
        if request["path"] == "/text":
            answer["body"] = "hi there"
        if request["path"] == "/empty":
            answer = {"id": request["id"], "status": 204}
        ctx.send({"response": Message.object(answer)})
        if request["path"] == "/twice":
            ctx.send({"response": Message.object(answer)})


class _Server:
    def __init__(self, config: dict[str, Any], answer: Any = None) -> None:
        self.net = Network()
        self.sink = Sink()
        self.responder = Responder(answer)
        net = self.net
        net.register_actor("sink", self.sink)
        net.register_actor("responder", self.responder)
        net.add_node("srv", "tpl_server_request", {"port": 0, **config})
        net.add_node("app", "responder")
        net.add_node("resp", "tpl_server_response")
        net.add_node("sink", "sink")
        net.add_connection("srv", "request", "app", "request")
        net.add_connection("app", "response", "resp", "input")
        net.add_connection("srv", "listening", "sink", "listening")
        net.add_connection("srv", "error", "sink", "server_error")
        net.add_connection("resp", "response", "sink", "sent")
        net.add_connection("resp", "error", "sink", "response_error")
        net.add_initial("srv", "start", FLOW)
        net.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            found = self.port_data("listening") or self.port_data("server_error")
            if found:
                break
            time.sleep(0.01)
        listening = self.port_data("listening")
        self.url = listening[0]["url"] if listening else ""
        self.client = httpx.Client(base_url=self.url, timeout=5)

    def port_data(self, port: str) -> list[Any]:
        return [m.get("data") for p, m, _t in list(self.sink.items) if p == port]

    def close(self) -> float:
        self.client.close()
        started = time.perf_counter()
        self.net.shutdown(grace=0.5)
        return time.perf_counter() - started


@pytest.fixture()
def serve() -> Iterator[Any]:
    servers: list[_Server] = []

    def start(answer: Any = None, **config: Any) -> _Server:
        server = _Server(config, answer)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def test_server_serves_real_http_on_localhost(serve: Any) -> None:
    # the reference's tpl_server_request served nothing: it emitted the request fields of its config
    srv = serve()
    (listening,) = srv.port_data("listening")
    assert listening["host"] == "127.0.0.1" and listening["url"] == f"http://127.0.0.1:{listening['port']}"
    response = srv.client.post("/hooks/a?x=1&x=2&y=", json={"ref": "main"}, headers={"X-Token": "t"})
    assert response.status_code == 201
    assert response.json() == {"echo": {"ref": "main"}, "query": {"x": ["1", "2"], "y": ""}}
    assert response.headers["x-path"] == "/hooks/a" and response.headers["content-type"] == "application/json"
    (request,) = srv.responder.requests
    assert set(request) == {"id", "method", "path", "query", "headers", "body"}
    assert len(request["id"]) == 32 and request["method"] == "POST" and request["path"] == "/hooks/a"
    assert request["headers"]["x-token"] == "t" and request["headers"]["content-type"] == "application/json"
    (sent,) = srv.port_data("sent")
    assert sent == {"id": request["id"], "statusCode": 201, "contentType": "application/json", "body": response.json()}


def test_server_bodies(serve: Any) -> None:
    srv = serve()
    assert srv.client.post("/f", data={"a": "1", "b": "x y"}).json()["echo"] == {"a": "1", "b": "x y"}
    assert srv.client.post("/t", content="héllo", headers={"content-type": "text/plain"}).json()["echo"] == "héllo"
    assert srv.client.post("/b", content=b"\xff\x00").json()["echo"] == "/wA="
    assert srv.responder.requests[-1]["bodyEncoding"] == "base64"
    assert srv.client.get("/g").json()["echo"] is None
    text = srv.client.get("/text")
    assert text.text == "hi there" and text.headers["content-type"] == "text/plain; charset=utf-8"
    empty = srv.client.get("/empty")
    assert empty.status_code == 204 and empty.content == b""


def test_server_refuses_bad_requests(serve: Any) -> None:
    srv = serve(path="/hooks", method="post", maxBodyBytes=10)
    assert srv.client.post("/other", json={}).status_code == 404
    wrong = srv.client.get("/hooks")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert srv.client.post("/hooks", content=b"x" * 11).status_code == 413
    bad = srv.client.post("/hooks/x", content=b"{nope", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"].startswith("invalid request body")
    assert srv.responder.requests == []
    assert srv.client.post("/hooks/ok", json=[1]).status_code == 201
    with socket.create_connection(("127.0.0.1", int(srv.url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")


def test_an_unanswered_request_gets_504_after_the_timeout(serve: Any) -> None:
    srv = serve(timeout=200)
    started = time.perf_counter()
    response = srv.client.get("/silent")
    assert response.status_code == 504 and 0.19 <= time.perf_counter() - started < 2
    assert response.json() == {"error": "no response within 200 ms", "id": srv.responder.requests[0]["id"]}
    assert http_family.pending_requests() == []


def test_a_late_or_second_answer_goes_to_error(serve: Any) -> None:
    srv = serve()
    assert srv.client.get("/twice").status_code == 200
    deadline = time.monotonic() + 2
    while not srv.port_data("response_error") and time.monotonic() < deadline:
        time.sleep(0.01)
    (text,) = srv.port_data("response_error")
    assert text.startswith("no request '") and text.endswith("is waiting for a response (answered already, timed out, or unknown)")


def test_server_handles_concurrent_clients(serve: Any) -> None:
    srv = serve()
    results: dict[int, Any] = {}

    def client(n: int) -> None:
        with httpx.Client(base_url=srv.url, timeout=5) as c:
            results[n] = c.post(f"/n/{n}", json={"n": n}).json()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {n: r["echo"]["n"] for n, r in results.items()} == {n: n for n in range(12)}


def test_server_keeps_connections_alive(serve: Any) -> None:
    srv = serve()
    for n in range(3):
        assert srv.client.get(f"/k/{n}").status_code == 200
    assert srv.client.get("/k/3", headers={"connection": "close"}).status_code == 200


def test_server_stops_at_shutdown(serve: Any) -> None:
    srv = serve()
    assert srv.client.get("/x").status_code == 200
    port = int(srv.url.rsplit(":", 1)[1])
    assert srv.close() < 1.5  # long_running: shutdown cancels the serving tick at once
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_server_port_in_use_is_an_error(serve: Any) -> None:
    first = serve()
    port = int(first.url.rsplit(":", 1)[1])
    second = serve(port=port)
    (text,) = second.port_data("server_error")
    assert text.startswith(f"HTTP server could not listen on 127.0.0.1:{port}: ")


def test_server_response_errors() -> None:
    result = run_component("tpl_server_response", {}, {"input": [T("Object", {"id": "f" * 32}), T("Object", {"status": 200}), T("Object", {"id": "x", "status": 99})]})
    assert result.data("error") == [
        f"no request {'f' * 32!r} is waiting for a response (answered already, timed out, or unknown)",
        "tpl_server_response needs an Object with the request's `id`",
        "invalid status 99: use 100..599",
    ]


def test_the_http_examples_hold(server: _TestServer, serve: Any) -> None:
    """The documented examples of the family (which need a server or a client) against real sockets."""
    from reflow_cli.catalog.http import HttpRequest, ServerRequest, ServerResponse

    example = HttpRequest.example
    documented = "http://127.0.0.1:8080"
    config = {**example["config"], "url": example["config"]["url"].replace(documented, server.url)}
    got = _request(config, example["inputs"]).one("response_out")["data"]
    want = example["outputs"]["response_out"][0]["data"]
    assert (got["status"], got["body"], got["method"]) == (want["status"], want["body"], want["method"])
    assert got["url"] == want["url"].replace(documented, server.url)
    assert want["headers"].items() <= got["headers"].items()

    reply = ServerResponse.example["inputs"]["input"][0]["data"]
    srv = serve(answer=lambda request: {**reply, "id": request["id"]}, **{**ServerRequest.example["config"], "port": 0})
    response = srv.client.post("/hooks/github?x=1", json={"ref": "main"})
    (request,) = srv.responder.requests
    want = ServerRequest.example["outputs"]["request"][0]["data"]
    assert {k: request[k] for k in ("method", "path", "query", "body")} == {k: want[k] for k in ("method", "path", "query", "body")}
    assert want["headers"].items() <= request["headers"].items()
    assert (response.status_code, response.json()) == (reply["status"], reply["body"])
    (sent,) = srv.port_data("sent")
    assert sent == {**ServerResponse.example["outputs"]["response"][0]["data"], "id": request["id"]}
    assert ServerRequest.example["outputs"]["listening"][0]["data"]["url"] == documented


def test_server_head_and_bad_response_headers(serve: Any) -> None:
    srv = serve(answer=lambda request: {"id": request["id"], "headers": {"bad header": "x"} if request["path"] == "/bad" else {}, "body": "text"})
    head = srv.client.head("/x")
    assert head.status_code == 200 and head.content == b""
    bad = srv.client.get("/bad")
    assert bad.status_code == 500 and bad.text.startswith("invalid response: ")
    assert srv.client.get("/good").text == "text"  # the server goes on
