"""The emulator's HTTP/1.1 protocol on uvicorn's httptools one (a C parser), byte for byte what the h11 one sends.

uvicorn's `HttpToolsProtocol` parses a request head with llhttp and writes a response head by concatenation:
about a quarter of the CPU of h11's per request, this protocol about 40 % (`python -m bench.h11_profile 20000
--only protocol [--http h11]`: 46–48 against 114–121 µs). But llhttp and h11 disagree on hostile input and
uvicorn's two protocols write different bytes (lower-case framing headers, a plain-text 400, no `Host` check,
no head-size cap). Here nothing on the wire changes:

* Requests. Each request head is checked before llhttp sees it (`_HEAD`, one regex): the common, plain form —
  a known method, an origin-form target, HTTP/1.1, `name: value` lines of visible ASCII, one `Host`, at most
  one `Content-Length`, no `Transfer-Encoding`, `Expect` or `Upgrade`, `Connection` absent, `close` or
  `keep-alive` — is where llhttp and h11 read the same request, and llhttp parses it. Anything else (a chunked
  body, `Expect: 100-continue`, HTTP/1.0, an absolute-form target, no `Host`, a head over 16 KiB, bytes h11
  refuses …) hands the connection over to `EmulatorH11Protocol` for the rest of its life, at a request
  boundary, with the bytes not yet parsed: h11 answers it as it always did.
* Responses. `_Cycle.send` writes what h11 would: its status line, the headers in the app's order with h11's
  validation, `Transfer-Encoding: chunked` and `Connection: close` added (title-cased, at the end) where h11 adds
  them, its chunked and Content-Length bodies (and their errors), HEAD, and the close after the response.
* Connections: h11's rules, not llhttp's. A pipelined request waits until the response before it completes
  (and is checked only then); bytes after a `Connection: close` request are refused as h11 refuses them.

The emulator's own additions (`Guarded`: TCP_NODELAY, the corked single send, read timeouts, the lingering
close) are shared with the h11 protocol. Serving picks this protocol when httptools is importable
(`--http auto`, the default); `--http h11` keeps the other. One corpus of raw requests (tests/wire_corpus.py)
goes to a server on each (tests/reliability/test_wire_identity.py) and, in-process and split at every byte, to
both (tests/unit/test_protocol_wire.py): the bytes must be the same.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import unquote

import h11
import httptools
from uvicorn.protocols.http.flow_control import CLOSE_HEADER, HIGH_WATER_LIMIT, service_unavailable
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from mockserver.protocol import BODY, HEAD, OTHER, EmulatorH11Protocol, Guarded, refusal

__all__ = ["EmulatorHttpToolsProtocol"]

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
# the plain request head both parsers read alike (anything else goes to h11): method, target, header lines
_HEAD = re.compile(rb"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/[-A-Za-z0-9._~!$&*+,;=:@/?%]*) HTTP/1\.1\r\n"
                   rb"((?:" + _TOKEN + rb":[ \t]*[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?\r\n)*)\r\n")
# in the header block of a head _HEAD took, lower-cased with a newline before it: names, and the framing lines;
# in the block as sent: values
_FIELD_NAMES = re.compile(rb"\n([^:]+)")
_FRAMING = re.compile(rb"\n(host|content-length|connection|transfer-encoding|expect|upgrade):[ \t]*([^\r]*)")
_FIELD_VALUES = re.compile(rb":[ \t]*([^\r]*)\r\n")
_BLANK_LINE = re.compile(rb"\n\r?\n")   # where h11 ends a head (h11._receivebuffer.blank_line_regex)
_MAX_HEAD = 16 * 1024                  # h11's limit for an incomplete head (DEFAULT_MAX_INCOMPLETE_EVENT_SIZE)
_CL_DIGITS = 18
# h11's checks of the headers it sends (h11._headers: field_name, field_value, content length)
_NAME = re.compile(_TOKEN)
_VALUE = re.compile(rb"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")
_DIGITS = re.compile(rb"[0-9]+")
_SPECIAL_NAMES = frozenset((b"content-length", b"transfer-encoding", b"connection", b"host"))
_PLAIN: set[bytes] = set()   # response header names seen valid and not special (as sent): checked once
_METHODS = {m.encode(): m for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")}


class EmulatorHttpToolsProtocol(Guarded, HttpToolsProtocol):
    """uvicorn's httptools protocol, fed one checked request at a time; h11 takes over what it does not take."""

    _buf = b""             # bytes received and not yet given to the parser
    _left = 0              # body bytes of the current request still to come
    _closing = False       # the current request said `Connection: close`: nothing may follow it
    _served = False        # a request was parsed on this connection (h11 then answers garbage with chunking)
    _handed_over = False

    def _phase(self) -> int:
        if self._handed_over:
            return OTHER
        if self._left:
            return BODY
        return HEAD if self.cycle is None or self.cycle.response_complete else OTHER

    # --- requests: one plain head at a time, or the connection goes to h11 ------------------------------------

    def _parse(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._closing and not self._left:   # h11: data after a `Connection: close` request is an error
            self.send_400_response("Invalid HTTP request received.")
            return
        if self._left:
            body, data = data[:self._left], data[self._left:]
            self._left -= len(body)
            self.parser.feed_data(body)
            if self._left or self._closing:
                return
        if data:
            self._buf += data
        if self._buf:
            self._next()

    def _next(self) -> None:
        """Start the next request in the buffer if the last one is answered and read (h11's order)."""
        if self._left or (self.cycle is not None and not self.cycle.response_complete):
            if self._buf:
                self.flow.pause_reading()   # pipelined: read on once the response is out
            return
        buf = self._buf
        end = _BLANK_LINE.search(buf)
        if end is None:
            if len(buf) > _MAX_HEAD or buf[0] < 0x21:   # what h11 refuses before the head is complete
                self._hand_over()
            return
        end = end.end()
        head = _HEAD.fullmatch(buf, 0, end)
        if head is None:
            self._hand_over()
            return
        block = head[3]
        lowered = b"\n" + block.lower()
        if not self._plain(lowered):
            self._hand_over()
            return
        # names lower-cased, values as sent: what h11 gives uvicorn
        self._scope(head, list(zip(_FIELD_NAMES.findall(lowered), _FIELD_VALUES.findall(block), strict=True)))
        try:
            self.parser.feed_data(buf[:end])   # llhttp: the request line, the headers, the body's framing
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._hand_over()
            return
        self._served = True
        self._start_asgi_task(self.cycle, self._app)
        length = self._length
        body = buf[end:end + length]
        self._left = length - len(body)
        self._buf = b"" if self._closing else buf[end + len(body):]
        if body:
            self.parser.feed_data(body)

    def _plain(self, lowered: bytes) -> bool:
        """Whether the head's framing is one h11 and llhttp read alike: one Host, at most one Content-Length
        of digits, no Transfer-Encoding, Expect or Upgrade, Connection `close` or `keep-alive`."""
        hosts, length, closing = 0, None, False
        for name, value in _FRAMING.findall(lowered):
            if name == b"host":
                hosts += 1
            elif name == b"content-length" and length is None and value.isdigit() and len(value) <= _CL_DIGITS:
                length = int(value)
            elif name == b"connection" and value in (b"close", b"keep-alive"):
                closing = closing or value == b"close"
            else:
                return False
        self._length, self._closing = length or 0, closing
        return hosts == 1

    def _scope(self, head: re.Match, headers: list[tuple[bytes, bytes]]) -> None:
        """The request's scope, as uvicorn's h11 protocol builds it."""
        raw_path, _, query = head[2].partition(b"?")
        self.headers = headers
        self.scope = {"type": "http", "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
                      "http_version": "1.1", "server": self.server, "client": self.client, "scheme": self.scheme,
                      "method": _METHODS[head[1]], "root_path": self.root_path,
                      "path": self.root_path + unquote(raw_path.decode("ascii")),
                      "raw_path": self.root_path.encode("ascii") + raw_path, "query_string": query,
                      "headers": headers, "state": self.app_state.copy()}

    def _hand_over(self) -> None:
        """The rest of the connection is h11's: it gets the transport and the bytes not parsed yet."""
        self._handed_over = True
        self._disarm()
        self._unset_keepalive_if_required()
        self.connections.discard(self)
        raw = self.transport.raw
        self.transport.flush()
        if self.flow.read_paused:
            raw.resume_reading()
        h11_protocol = EmulatorH11Protocol(config=self.config, server_state=self.server_state,
                                           app_state=self.app_state, _loop=self.loop)
        raw.set_protocol(h11_protocol)
        h11_protocol.connection_made(raw)
        if self._served:   # h11 answers a bad request after a good one as an HTTP/1.1 peer (chunked)
            h11_protocol.conn.their_http_version = b"1.1"
        buf, self._buf = self._buf, b""
        h11_protocol.data_received(buf)

    on_message_begin = on_url = on_header = None   # _next takes the head apart (httptools skips these callbacks)

    def on_headers_complete(self) -> None:
        app = self.app
        if self.limit_concurrency is not None and (
                len(self.connections) >= self.limit_concurrency or len(self.tasks) >= self.limit_concurrency):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        self._app = app
        self.cycle = _Cycle(scope=self.scope, transport=self.transport, flow=self.flow, logger=self.logger,
                            access_logger=self.access_logger, access_log=self.access_log,
                            default_headers=self.server_state.default_headers, message_event=asyncio.Event(),
                            expect_100_continue=False, keep_alive=True, on_response=self.on_response_complete)
        self.cycle.closing = self._closing

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if not cycle.response_complete:
            cycle.body += body
            if len(cycle.body) > HIGH_WATER_LIMIT:
                self.flow.pause_reading()
            cycle.message_event.set()

    def on_message_complete(self) -> None:
        if not self.cycle.response_complete:
            self.cycle.more_body = False
            self.cycle.message_event.set()

    def on_response_complete(self) -> None:
        self._head_started = False
        self._disarm()
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)
        self.flow.resume_reading()
        if self._buf and not self._left:
            self._next()

    def send_400_response(self, msg: str) -> None:
        """h11's answer to bytes after a `Connection: close` request: the 400 unless the response has begun."""
        cycle = self.cycle
        if cycle is None or not cycle.response_started:
            conn = h11.Connection(h11.SERVER)
            conn.receive_data(self.scope["method"].encode("ascii") + b" / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            conn.next_event()
            for chunk in refusal(conn, msg):
                self.transport.write(chunk)
        self.transport.close()



class _Cycle(RequestResponseCycle):
    """uvicorn's httptools request cycle writing what h11 writes (`_response_head`, h11's body writers)."""

    closing = False        # the request said `Connection: close`
    _must_close = False
    _left: int | None = None   # a Content-Length body's bytes still to send; None: chunked
    _failed = False

    async def send_500_response(self) -> None:   # h11's: no Content-Length (a chunked body), then the close
        await self.send({"type": "http.response.start", "status": 500,
                         "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]})
        await self.send({"type": "http.response.body", "body": b"Internal Server Error", "more_body": False})

    async def send(self, message) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if self._failed:
            raise h11.LocalProtocolError("Can't send data when our state is ERROR")
        kind = message["type"]
        if not self.response_started:
            if kind != "http.response.start":
                raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{kind}'.")
            self.response_started = True
            self.waiting_for_100_continue = False
            self._start(message)
        elif not self.response_complete:
            if kind != "http.response.body":
                raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{kind}'.")
            self._body(b"" if self.scope["method"] == "HEAD" else message.get("body", b""),
                       message.get("more_body", False))
        else:
            raise RuntimeError(f"Unexpected ASGI message '{kind}' sent, after response already completed.")
        if self.response_complete:
            if self._must_close or not self.keep_alive:
                self.transport.close()
            self.on_response()

    def _start(self, message) -> None:
        status = message["status"]
        headers = self.default_headers + list(message.get("headers", []))
        if CLOSE_HEADER in self.scope["headers"] and CLOSE_HEADER not in headers:
            headers = headers + [CLOSE_HEADER]
        if self.access_log:
            self.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(self.scope), self.scope["method"],
                                    get_path_with_query_string(self.scope), self.scope["http_version"], status)
        reason = STATUS_PHRASES[status]
        try:
            head, self._left, self._must_close = _response_head(status, reason, headers, self.scope["method"],
                                                                self.closing)
        except h11.LocalProtocolError:
            self._failed = True
            raise
        self.transport.write(head)

    def _body(self, data: bytes, more_body: bool) -> None:
        left = self._left
        if left is None:
            if data:
                self.transport.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self._left = left = left - len(data)
            if left < 0:
                self._failed = True
                raise h11.LocalProtocolError("Too much data for declared Content-Length")
            self.transport.write(data)
        if not more_body:
            self.response_complete = True
            self.message_event.set()
            if left is None:
                self.transport.write(b"0\r\n\r\n")
            elif left:
                self._failed = True
                raise h11.LocalProtocolError("Too little data for declared Content-Length")


def _response_head(status: int, reason: bytes, headers, method: str,
                   closing: bool) -> tuple[bytes, int | None, bool]:
    """(head bytes, Content-Length body bytes or None for chunked, close after) as h11 writes a response to an
    HTTP/1.1 request. The usual response (header names seen before, none of them framing but one Content-Length
    of digits) is written here; any other goes through `_h11_head`, h11's steps one by one."""
    if type(status) is not int or not 200 <= status < 1000:
        return _h11_head(status, reason, headers, method, closing)
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
    length = None
    for name, value in headers:
        if name in _PLAIN and _VALUE.fullmatch(value):
            lines.append(b"%s: %s\r\n" % (name, value))
        elif name == b"content-length" and length is None and value.isdigit() and len(value) <= 20:
            length = value
            lines.append(b"content-length: %s\r\n" % value)
        else:
            return _h11_head(status, reason, headers, method, closing)
    bodiless = status in (204, 304)
    if length is None and not bodiless:
        lines.append(b"Transfer-Encoding: chunked\r\n")
    if closing:
        lines.append(b"Connection: close\r\n")
    lines.append(b"\r\n")
    left = 0 if method == "HEAD" or bodiless else None if length is None else int(length)
    return b"".join(lines), left, closing


def _h11_head(status: int, reason: bytes, headers, method: str, closing: bool) -> tuple[bytes, int | None, bool]:
    """`_response_head` the long way: h11.Response's checks, `_clean_up_response_headers_for_sending` (framing
    and Connection headers rewritten, title-cased, at the end), `write_any_response` (Host first)."""
    if not isinstance(status, int) or not 200 <= status < 1000:
        raise h11.LocalProtocolError("Response status_code should be in range [200, 1000)")
    items: list[tuple[bytes, bytes, bytes]] = []
    length = None
    chunked = False
    for name, value in headers:
        if not _NAME.fullmatch(name) or not _VALUE.fullmatch(value):
            raise h11.LocalProtocolError("Illegal header")
        lower = name.lower()
        if lower == b"content-length":
            values = {v.strip() for v in value.split(b",")}
            value = values.pop()
            if values or not _DIGITS.fullmatch(value) or len(value) > 20 or length not in (None, value):
                raise h11.LocalProtocolError("bad Content-Length")
            if length is not None:
                continue
            length = value
        elif lower == b"transfer-encoding":
            value = value.lower()
            if chunked or value != b"chunked":
                raise h11.LocalProtocolError("Only Transfer-Encoding: chunked is supported")
            chunked = True
        elif lower not in _SPECIAL_NAMES and len(_PLAIN) < 1024:
            _PLAIN.add(name)
        items.append((name, lower, value))
    bodiless = status in (204, 304)
    if not bodiless and (chunked or length is None):   # h11 frames a body of unknown length with chunks
        items = [i for i in items if i[1] not in (b"content-length", b"transfer-encoding")]
        items.append((b"Transfer-Encoding", b"transfer-encoding", b"chunked"))
        chunked = True
    tokens = {t.strip() for i in items if i[1] == b"connection" for t in i[2].lower().split(b",")} - {b""}
    if closing:
        tokens.discard(b"keep-alive")
        tokens.add(b"close")
        items = [i for i in items if i[1] != b"connection"]
        items += [(b"Connection", b"connection", t) for t in sorted(tokens)]
    items.sort(key=lambda i: i[1] != b"host")   # stable: Host first, the rest in order
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
    lines += [b"%s: %s\r\n" % (name, value) for name, _, value in items]
    lines.append(b"\r\n")
    left = 0 if method == "HEAD" or bodiless else None if chunked else int(length)
    return b"".join(lines), left, closing or b"close" in tokens
