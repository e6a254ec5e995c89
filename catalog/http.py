"""HTTP family: a client (``tpl_http_request``) and a server (``tpl_server_request`` / ``tpl_server_response``).

The client runs on ``httpx`` (on trio, through anyio) with a connection pool per node,
timeouts, and retries with exponential backoff. The server is an HTTP/1.1 server on trio
sockets with ``h11``, bound to 127.0.0.1 unless told otherwise: each request becomes a
packet with an ``id``; a ``tpl_server_response`` node answers it by that id, and a request
left unanswered gets 504 after ``timeout``. Both libraries are imported only when a node
of this family starts.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from ._common import json_text, natural, render_template, schema

__all__ = ["COMPONENTS", "pending_requests"]

log = logging.getLogger("reflow.catalog.http")

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))
_HEADERS_SCHEMA = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}


def _headers_of(pairs: Any) -> dict[str, str]:
    """Lower-case header names; repeated headers joined with ", "."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.decode("latin-1").lower() if isinstance(name, bytes) else str(name).lower()
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- tpl_http_request ----------------------------------------------------------------------------------


class _Failure(Exception):
    """A request that failed for good (after its retries)."""


class HttpRequest(Actor):
    """Sends an HTTP request for every packet on `data_in` and emits the response."""

    component = "tpl_http_request"
    inports = [
        PortSpec("data_in", None, "any packet sends a request; with POST, PUT and PATCH its data is the body"),
        PortSpec("headers_in", "Object", "headers for the requests that follow (does not send a request)"),
    ]
    outports = [
        PortSpec("response_out", "Object", "{status, headers (lower-case names), body (parsed JSON, else text), url, method}"),
        PortSpec("error_out", "Error", "`HTTP request failed: ...` (connection, timeout, or a status with failOnStatus), after the retries"),
    ]
    config_schema = schema(
        {
            "url": {
                "type": "string",
                "minLength": 1,
                "description": "The URL. `${field}` placeholders are filled from the data_in packet's data (`${id}`, `${user.name}`).",
            },
            "method": {
                "type": "string",
                "enum": [*_METHODS, *(m.lower() for m in _METHODS)],
                "default": "GET",
                "description": "The HTTP method.",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "default": 30000,
                "description": "Milliseconds allowed for connecting, and for each read or write.",
            },
            "headers": {**_HEADERS_SCHEMA, "default": {}, "description": "Request headers (headers_in adds to them and wins)."},
            "query": {
                "type": "object",
                "default": {},
                "description": "Query parameters added to the URL ({name: value}; a list value repeats the name).",
            },
            "body": {
                "description": "A fixed body, sent with every request whatever the method (it replaces data_in's data).",
            },
            "bodyType": {
                "type": "string",
                "enum": ["json", "text", "form"],
                "default": "json",
                "description": "How the body is encoded: json (application/json), text (Strings as they are, other "
                "data as JSON text; text/plain), form (an Object, application/x-www-form-urlencoded). Bytes data is "
                "sent as it is (application/octet-stream).",
            },
            "responseType": {
                "type": "string",
                "enum": ["auto", "json", "text"],
                "default": "auto",
                "description": "auto: the body parsed as JSON when it is JSON, else text (as the reference); json: a "
                "body that is not JSON is an error; text: always text.",
            },
            "retries": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10,
                "default": 0,
                "description": "Attempts after the first when the connection fails, a timeout expires or the status "
                "is in `retryOn`.",
            },
            "retryDelay": {
                "type": "number",
                "minimum": 0,
                "default": 200,
                "description": "Milliseconds before the first retry; doubled before each next one (exponential "
                "backoff), at most `retryMaxDelay`. A Retry-After header (seconds) is honoured up to that too.",
            },
            "retryMaxDelay": {"type": "number", "minimum": 0, "default": 5000, "description": "Longest wait between two attempts, in ms."},
            "retryOn": {
                "type": "array",
                "items": {"type": "integer", "minimum": 100, "maximum": 599},
                "default": [429, 502, 503, 504],
                "description": "Statuses that are retried.",
            },
            "failOnStatus": {
                "type": "boolean",
                "default": False,
                "description": "Send responses with status >= 400 to `error_out` (`HTTP 404 Not Found ...`) instead of "
                "`response_out` (where the reference sends them).",
            },
            "followRedirects": {"type": "boolean", "default": True, "description": "Follow redirects (up to 20)."},
        },
        required=("url",),
    )
    description = (
        "For each packet on `data_in`, sends a `method` request to `url` and emits {status, headers, body, url, "
        "method} on `response_out`; any status is a response (404 too) unless `failOnStatus`. The packet's data "
        "is the body only for POST, PUT and PATCH (the reference sent the tagged packet as a JSON body even with "
        "GET, and a Flow as {\"type\":\"Flow\"}); a `body` in the config is always sent. Connection errors and "
        "timeouts are retried `retries` times with exponential backoff, then reported on `error_out`."
    )
    example = {
        "config": {"url": "http://127.0.0.1:8080/items/${id}", "method": "GET", "retries": 2},
        "inputs": {"data_in": [{"type": "Object", "data": {"id": 7}}]},
        "outputs": {
            "response_out": [
                {
                    "type": "Object",
                    "data": {
                        "status": 200,
                        "headers": {"content-type": "application/json"},
                        "body": {"id": 7},
                        "url": "http://127.0.0.1:8080/items/7",
                        "method": "GET",
                    },
                }
            ]
        },
        "needs": "an HTTP server at 127.0.0.1:8080 (tests/catalog/test_http.py starts one)",
    }

    async def setup(self, ctx: Any) -> None:
        import httpx  # lazy: only HTTP nodes pay for it

        config = ctx.config
        seconds = float(config.get("timeout", 30000)) / 1000
        ctx.state["client"] = httpx.AsyncClient(
            timeout=httpx.Timeout(seconds),
            follow_redirects=bool(config.get("followRedirects", True)),
            max_redirects=20,
        )

    async def teardown(self, ctx: Any) -> None:
        client = ctx.state.pop("client", None)
        if client is not None:
            await client.aclose()

    async def run(self, ctx: Any) -> None:
        inputs = ctx.inputs
        state = ctx.state
        headers_in = inputs.get("headers_in")
        if headers_in is not None:
            if headers_in["type"] != "Object":
                ctx.done({"error_out": Message.error(f"Expected Object on headers_in port, got {headers_in['type']}")})
                return
            state["headers"] = {str(k).lower(): _header_text(v) for k, v in headers_in["data"].items()}
        message = inputs.get("data_in")
        if message is None:
            ctx.done()
            return
        config = ctx.config
        method = str(config.get("method") or "GET").upper()
        data = message.get("data")
        url = str(config["url"])
        if "${" in url:
            try:
                url = render_template(url, data, "error")
            except KeyError as exc:
                ctx.done({"error_out": Message.error(f"HTTP request failed: no field {exc.args[0]!r} for the url (url: {config['url']}, method: {method})")})
                return
        try:
            response = await self._send(ctx, method, url, message)
        except _Failure as exc:
            ctx.done({"error_out": Message.error(f"HTTP request failed: {exc} (url: {url}, method: {method})")})
            return
        ctx.done(response)

    def _request_parts(self, config: Mapping[str, Any], method: str, message: Any, headers: dict[str, str]) -> dict[str, Any]:
        """httpx keyword arguments for the body: none, or from `body`, or from the packet for POST/PUT/PATCH."""
        if "body" in config:
            value = config["body"]
        elif method in _BODY_METHODS and message["type"] != "Flow":
            if message["type"] == "Bytes":
                headers.setdefault("content-type", "application/octet-stream")
                return {"content": message["data"]}
            value = message.get("data")
        else:
            return {}
        body_type = config.get("bodyType") or "json"
        if body_type == "text":
            headers.setdefault("content-type", "text/plain; charset=utf-8")
            return {"content": (value if isinstance(value, str) else json_text(value)).encode("utf-8")}
        if body_type == "form":
            if not isinstance(value, Mapping):
                raise _Failure(f"bodyType form needs an Object, not {json_text(value)[:60]}")
            return {"data": {str(k): v if isinstance(v, str) else json_text(v) for k, v in value.items()}}
        headers.setdefault("content-type", "application/json")
        return {"content": json_text(value).encode("utf-8")}

    async def _send(self, ctx: Any, method: str, url: str, message: Any) -> dict[str, Message]:
        import httpx
        import trio

        config = ctx.config
        client = ctx.state["client"]
        headers = {str(k).lower(): _header_text(v) for k, v in (config.get("headers") or {}).items()}
        headers.update(ctx.state.get("headers") or {})  # lower-cased when they came in
        parts = self._request_parts(config, method, message, headers)
        query = config.get("query") or None
        retries = int(config.get("retries", 0))
        delay = float(config.get("retryDelay", 200)) / 1000
        longest = float(config.get("retryMaxDelay", 5000)) / 1000
        retry_on = set(config.get("retryOn") or ())
        timeout_ms = config.get("timeout", 30000)
        attempt = 0
        while True:
            wait = min(delay * (2**attempt), longest)
            try:
                response = await client.request(method, url, headers=headers, params=query, **parts)
            except httpx.TimeoutException:
                problem = f"timed out after {timeout_ms:g} ms"
            except httpx.InvalidURL as exc:
                raise _Failure(f"invalid url: {exc}") from None
            except httpx.UnsupportedProtocol as exc:
                raise _Failure(f"unsupported url: {exc}") from None
            except httpx.TooManyRedirects as exc:
                raise _Failure(str(exc)) from None
            except httpx.HTTPError as exc:
                problem = f"error sending request for url ({url}): {exc or type(exc).__name__}"
            else:
                if response.status_code in retry_on and attempt < retries:
                    after = response.headers.get("retry-after", "")
                    if after.strip().isdigit():
                        wait = max(wait, min(float(after), longest))
                    attempt += 1
                    await trio.sleep(wait)
                    continue
                return self._response(config, method, url, response, attempt)
            if attempt >= retries:
                raise _Failure(problem + (f" (after {attempt + 1} attempts)" if attempt else ""))
            attempt += 1
            await trio.sleep(wait)

    @staticmethod
    def _response(config: Mapping[str, Any], method: str, url: str, response: Any, attempt: int) -> dict[str, Message]:
        status = response.status_code
        text = response.text
        kind = config.get("responseType") or "auto"
        body: Any = text
        if kind != "text" and text.strip():
            try:
                body = json.loads(text)
            except ValueError:
                if kind == "json":
                    return {"error_out": Message.error(f"HTTP request failed: the response is not JSON: {text[:80]!r} (url: {url}, method: {method})")}
        if config.get("failOnStatus") and status >= 400:
            reason = response.reason_phrase or ""
            tried = f", after {attempt + 1} attempts" if attempt else ""
            return {"error_out": Message.error(f"HTTP request failed: HTTP {status} {reason}{tried} (url: {url}, method: {method})".replace(" ,", ","))}
        data = {"status": status, "headers": _headers_of(response.headers.raw), "body": body, "url": url, "method": method}
        return {"response_out": Message.object(data)}


# -- the server's pending requests ------------------------------------------------------------------------


@dataclass
class _Pending:
    """A request waiting for its tpl_server_response (thread-safe hand-over to the server's trio loop)."""

    token: Any
    event: Any
    response: tuple[int, list[tuple[str, str]], bytes] | None = None
    answered: bool = False


_PENDING: dict[str, _Pending] = {}
_PENDING_LOCK = threading.Lock()


def pending_requests() -> list[str]:
    """Ids of the requests waiting for a response, in this process (for tests and diagnostics)."""
    with _PENDING_LOCK:
        return list(_PENDING)


def _answer(request_id: str, response: tuple[int, list[tuple[str, str]], bytes]) -> bool:
    """Hand ``response`` to the server holding ``request_id``; False when no such request waits."""
    with _PENDING_LOCK:
        pending = _PENDING.get(request_id)
        if pending is None or pending.answered:
            return False
        pending.answered = True
        pending.response = response
    try:
        pending.token.run_sync_soon(pending.event.set)
    except Exception:  # the server's run is over
        return False
    return True


# -- tpl_server_request -----------------------------------------------------------------------------------

_MAX_HEAD = 64 * 1024
_IDLE_SECONDS = 75.0


@dataclass
class _ServerSettings:
    host: str
    port: int
    path: str
    method: str
    timeout_s: float
    max_body: int


def _json_response(status: int, value: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("content-type", "application/json")], json_text(value).encode("utf-8")


def _decode_body(body: bytes, content_type: str) -> tuple[Any, str | None]:
    """The request body as data: JSON, a form, text; ``(value, encoding)`` (encoding "base64" for binary)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not body:
        return None, None
    if kind == "application/json" or kind.endswith("+json"):
        return json.loads(body.decode("utf-8")), None
    if kind == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl

        return _query_object(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), None
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        import base64

        return base64.b64encode(body).decode("ascii"), "base64"


def _query_object(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``[(name, value)]`` as an Object: one value as a String, repeated names as an Array."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out


class ServerRequest(Actor):
    """An HTTP server: every request becomes a packet; tpl_server_response answers it."""

    component = "tpl_server_request"
    long_running = True  # serves until the run stops
    inports = [PortSpec("start", None, "any packet starts the server")]
    outports = [
        PortSpec("request", "Object", "{id, method, path, query, headers, body} for every request"),
        PortSpec("listening", "Object", "once bound: {host, port, url}", optional=True),
        PortSpec("error", "Error", "the server could not start (address in use, bad host)"),
        PortSpec("body", None, "the request body (the reference's port)", optional=True),
        PortSpec("headers", "Object", "the request headers (the reference's port)", optional=True),
        PortSpec("params", "Object", "the query parameters (the reference's port)", optional=True),
        PortSpec("method", "String", "the method (the reference's port)", optional=True),
        PortSpec("url", "String", "the path (the reference's port)", optional=True),
    ]
    config_schema = schema(
        {
            "host": {
                "type": "string",
                "default": "127.0.0.1",
                "description": "Address to listen on. 127.0.0.1 (the default) accepts local clients only; 0.0.0.0 "
                "listens on every interface.",
            },
            "port": {"type": "integer", "minimum": 0, "maximum": 65535, "default": 8080, "description": "TCP port (0: any free port; see `listening`)."},
            "path": {
                "type": "string",
                "default": "",
                "description": "Serve only this path and the paths below it (`/hooks` serves /hooks and /hooks/x); "
                "others get 404. Empty: every path.",
            },
            "method": {
                "type": "string",
                "default": "",
                "description": "Accept only this method (others get 405). Empty: any method.",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "default": 30000,
                "description": "Milliseconds a request waits for its tpl_server_response before the client gets 504.",
            },
            "maxBodyBytes": {
                "type": "integer",
                "minimum": 0,
                "default": 1048576,
                "description": "Larger request bodies get 413 and are not emitted.",
            },
        }
    )
    description = (
        "On a packet on `start`, listens for HTTP/1.1 on `host`:`port` (trio sockets with h11) and sends every "
        "request on `request` as {id, method, path, query, headers, body}: the body is parsed JSON (for a JSON "
        "content type; invalid JSON gets 400), an Object for a form, else text (binary bodies as base64 with "
        "`bodyEncoding: base64`). A tpl_server_response node given {id, status, headers, body} answers it; a "
        "request nobody answers gets 504 after `timeout`. The bound address goes out on `listening`. The "
        "reference's server_request never served HTTP (it read the request from its config)."
    )
    example = {
        "config": {"port": 8080, "path": "/hooks"},
        "inputs": {"start": [{"type": "Flow"}]},
        "outputs": {
            "listening": [{"type": "Object", "data": {"host": "127.0.0.1", "port": 8080, "url": "http://127.0.0.1:8080"}}],
            "request": [
                {
                    "type": "Object",
                    "data": {
                        "id": "<request id>",
                        "method": "POST",
                        "path": "/hooks/github",
                        "query": {"x": "1"},
                        "headers": {"content-type": "application/json"},
                        "body": {"ref": "main"},
                    },
                }
            ],
        },
        "needs": "a client: curl -d '{\"ref\": \"main\"}' -H 'content-type: application/json' 'http://127.0.0.1:8080/hooks/github?x=1'",
    }

    async def run(self, ctx: Any) -> None:
        import trio

        config = ctx.config
        settings = _ServerSettings(
            host=str(config.get("host") or "127.0.0.1"),
            port=int(config.get("port", 8080)),
            path=str(config.get("path") or ""),
            method=str(config.get("method") or "").upper(),
            timeout_s=float(config.get("timeout", 30000)) / 1000,
            max_body=int(config.get("maxBodyBytes", 1048576)),
        )
        try:
            listeners = await trio.open_tcp_listeners(settings.port, host=settings.host)
        except OSError as exc:
            ctx.done({"error": Message.error(f"HTTP server could not listen on {settings.host}:{settings.port}: {exc.strerror or exc}")})
            return
        port = listeners[0].socket.getsockname()[1]
        send_channel, receive_channel = trio.open_memory_channel[dict[str, Any]](64)
        token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            handler = _ConnectionHandler(settings, send_channel, token)
            nursery.start_soon(trio.serve_listeners, handler.serve, listeners)
            shown = f"[{settings.host}]" if ":" in settings.host else settings.host
            await ctx.send_async({"listening": Message.object({"host": settings.host, "port": port, "url": f"http://{shown}:{port}"})})
            async with receive_channel:
                async for request in receive_channel:
                    await ctx.send_async(
                        {
                            "request": Message.object(request),
                            "body": natural(request["body"]),
                            "headers": Message.object(request["headers"]),
                            "params": Message.object(request["query"]),
                            "method": Message.string(request["method"]),
                            "url": Message.string(request["path"]),
                        }
                    )


class _ConnectionHandler:
    """Serves one connection at a time per task: parse with h11, hand requests on, write responses."""

    def __init__(self, settings: _ServerSettings, channel: Any, token: Any) -> None:
        self.settings = settings
        self.channel = channel
        self.token = token

    async def serve(self, stream: Any) -> None:
        import h11
        import trio

        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD)
        try:
            while True:
                with trio.move_on_after(_IDLE_SECONDS) as idle:
                    event = await self._next(conn, stream)
                if idle.cancelled_caught or isinstance(event, h11.ConnectionClosed):
                    return
                if not isinstance(event, h11.Request):
                    return
                status_headers_body = await self._handle(conn, stream, event)
                await self._respond(conn, stream, *status_headers_body, head=event.method == b"HEAD")
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                try:
                    conn.start_next_cycle()
                except h11.LocalProtocolError:
                    return
        except h11.RemoteProtocolError as exc:
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                try:
                    await self._respond(conn, stream, exc.error_status_hint, [("content-type", "text/plain")], f"bad request: {exc}\n".encode())
                except Exception:  # the client is gone
                    pass
        except (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError, h11.LocalProtocolError):
            return
        except Exception:  # one bad connection must never stop the server
            log.exception("tpl_server_request: a connection failed")
            return
        finally:
            with trio.CancelScope(shield=True):
                await stream.aclose()

    async def _next(self, conn: Any, stream: Any) -> Any:
        import h11

        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            data = await stream.receive_some(65536)
            conn.receive_data(data or b"")

    async def _read_body(self, conn: Any, stream: Any) -> bytes | None:
        """The body, or None when it is longer than maxBodyBytes (the rest is drained)."""
        import h11

        body = bytearray()
        too_big = False
        limit = self.settings.max_body
        while True:
            event = await self._next(conn, stream)
            if isinstance(event, h11.Data):
                if not too_big:
                    body += event.data
                    if len(body) > limit:
                        too_big = True
                        body.clear()
            elif isinstance(event, h11.EndOfMessage):
                return None if too_big else bytes(body)
            else:
                return bytes(body)

    async def _handle(self, conn: Any, stream: Any, request: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        import trio
        from urllib.parse import parse_qsl, unquote, urlsplit

        settings = self.settings
        body = await self._read_body(conn, stream)
        target = request.target.decode("latin-1")
        parts = urlsplit(target)
        path = unquote(parts.path) or "/"
        method = request.method.decode("ascii", errors="replace").upper()
        if body is None:
            return _json_response(413, {"error": f"request body larger than {settings.max_body} bytes"})
        if settings.path and not (path == settings.path or path.startswith(settings.path.rstrip("/") + "/")):
            return _json_response(404, {"error": f"no route for {path}"})
        if settings.method and method != settings.method:
            status, headers, payload = _json_response(405, {"error": f"method {method} not allowed; use {settings.method}"})
            return status, [*headers, ("allow", settings.method)], payload
        headers = _headers_of(request.headers)
        try:
            value, encoding = _decode_body(body, headers.get("content-type", ""))
        except (ValueError, UnicodeDecodeError) as exc:
            return _json_response(400, {"error": f"invalid request body: {exc}"})
        request_id = os.urandom(16).hex()
        packet: dict[str, Any] = {
            "id": request_id,
            "method": method,
            "path": path,
            "query": _query_object(parse_qsl(parts.query, keep_blank_values=True)),
            "headers": headers,
            "body": value,
        }
        if encoding:
            packet["bodyEncoding"] = encoding
        pending = _Pending(self.token, trio.Event())
        with _PENDING_LOCK:
            _PENDING[request_id] = pending
        try:
            await self.channel.send(packet)
            with trio.move_on_after(settings.timeout_s):
                await pending.event.wait()
        finally:
            with _PENDING_LOCK:
                _PENDING.pop(request_id, None)
                answered = pending.response
                pending.answered = True
        if answered is None:
            timeout_ms = settings.timeout_s * 1000
            return _json_response(504, {"error": f"no response within {timeout_ms:g} ms", "id": request_id})
        return answered

    async def _respond(
        self, conn: Any, stream: Any, status: int, headers: list[tuple[str, str]], body: bytes, head: bool = False
    ) -> None:
        import h11

        if head:
            body = b""  # a response to HEAD has headers only
        full = [(name, value) for name, value in headers if name.lower() != "content-length"]
        full += [("content-length", str(len(body))), ("server", "reflow")]
        try:
            start = h11.Response(status_code=status, headers=full)
        except h11.LocalProtocolError as exc:  # a header h11 refuses (a bad name or value)
            text = f"invalid response: {exc}".encode()
            status, body = 500, b"" if head else text
            start = h11.Response(
                status_code=500,
                headers=[("content-type", "text/plain"), ("content-length", str(len(text))), ("server", "reflow")],
            )
        await stream.send_all(conn.send(start))
        if body:
            await stream.send_all(conn.send(h11.Data(data=body)))
        data = conn.send(h11.EndOfMessage())
        if data:
            await stream.send_all(data)


# -- tpl_server_response ----------------------------------------------------------------------------------


class ServerResponse(Actor):
    """Answers a request of tpl_server_request by its id."""

    component = "tpl_server_response"
    inports = [
        PortSpec("input", "Object", "{id, status, headers, body}: id from the request; the rest optional"),
    ]
    outports = [
        PortSpec("response", "Object", "{id, statusCode, contentType, body} of each response sent", optional=True),
        PortSpec("error", "Error", "no request waits with that id (answered, timed out, or unknown), or a bad status"),
    ]
    config_schema = schema(
        {
            "statusCode": {"type": "integer", "minimum": 100, "maximum": 599, "default": 200, "description": "Status when the input has none."},
            "contentType": {
                "type": "string",
                "default": "application/json",
                "description": "Content type of a non-String body (written as JSON) when the headers give none; a "
                "String body is sent as it is, as text/plain unless the headers say otherwise.",
            },
        }
    )
    description = (
        "Sends the response to the request whose `id` the input carries: `status` (default `statusCode`), "
        "`headers`, and `body` (a String as it is, anything else as JSON; null and no body: empty). Echoes "
        "{id, statusCode, contentType, body} on `response`. An id with no waiting request (already answered, "
        "timed out with 504, or unknown) goes to `error`."
    )
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Object", "data": {"id": "<request id>", "status": 201, "body": {"ok": True}}}]},
        "outputs": {
            "response": [
                {
                    "type": "Object",
                    "data": {"id": "<request id>", "statusCode": 201, "contentType": "application/json", "body": {"ok": True}},
                }
            ]
        },
        "needs": "a waiting request of a tpl_server_request node (its `request` packet gives the id)",
    }

    def run(self, ctx: Any) -> None:
        message = ctx.inputs["input"]
        data = message.get("data")
        if message["type"] != "Object" or not isinstance(data.get("id"), str):
            ctx.done({"error": Message.error("tpl_server_response needs an Object with the request's `id`")})
            return
        config = ctx.config
        status = data.get("status", config.get("statusCode", 200))
        if isinstance(status, bool) or not isinstance(status, (int, float)) or status != int(status) or not 100 <= status <= 599:
            ctx.done({"error": Message.error(f"invalid status {json_text(status)}: use 100..599")})
            return
        status = int(status)
        raw_headers = data.get("headers") or {}
        if not isinstance(raw_headers, Mapping):
            ctx.done({"error": Message.error("`headers` must be an Object")})
            return
        headers = [(str(k).lower(), _header_text(v)) for k, v in raw_headers.items()]
        names = {name for name, _ in headers}
        body = data.get("body")
        if body is None or status in (204, 304) or 100 <= status < 200:
            payload = b""
            content_type = dict(headers).get("content-type")
        elif isinstance(body, str):
            payload = body.encode("utf-8")
            content_type = dict(headers).get("content-type", "text/plain; charset=utf-8")
        else:
            payload = json_text(body).encode("utf-8")
            content_type = dict(headers).get("content-type", config.get("contentType") or "application/json")
        if content_type and "content-type" not in names and payload:
            headers.append(("content-type", content_type))
        request_id = data["id"]
        if not _answer(request_id, (status, headers, payload)):
            ctx.done({"error": Message.error(f"no request {request_id!r} is waiting for a response (answered already, timed out, or unknown)")})
            return
        ctx.done(
            {
                "response": Message.object(
                    {"id": request_id, "statusCode": status, "contentType": content_type, "body": body}
                )
            }
        )


COMPONENTS: dict[str, type[Actor]] = {
    "tpl_http_request": HttpRequest,
    "tpl_server_request": ServerRequest,
    "tpl_server_response": ServerResponse,
}

