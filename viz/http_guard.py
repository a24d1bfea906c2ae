"""The HTTP connection under uvicorn, hardened: deadlines for a request's headers, its body and a websocket's
handshake, and a cap on connections.

uvicorn (h11) waits for ever for a request's headers and body, so clients that open connections and never finish
them (or trickle a byte a second) hold a file descriptor each until the process has none left.
:class:`GuardedH11Protocol` is uvicorn's h11 protocol with

* a deadline for the headers: a request's headers must be complete :data:`HEADER_TIMEOUT_S` after the
  connection opened (or after the previous response on a kept-alive connection), else the connection is closed;
* a deadline for the body: once the headers are in, the whole body must be in :data:`BODY_TIMEOUT_S` later
  (however it trickles), else the connection is closed;
* a cap on open connections (HTTP and websockets) per server process and per client address: one more is
  closed at once, so its descriptor is freed at once, and the server keeps descriptors in hand for the
  rest of the class (the cap stays below half the process's descriptor limit).

:class:`GuardedWebSocketProtocol` is uvicorn's websocket protocol with a deadline for the handshake: a connection
upgraded to a websocket that is not accepted (or refused) :data:`WS_HANDSHAKE_TIMEOUT_S` later is closed (uvicorn
waits for ever).  An open websocket that stops answering is closed by uvicorn's ping (``ws_ping_interval``,
``ws_ping_timeout``), and idle kept-alive connections by its ``timeout_keep_alive``.  None of these closings is
logged: a client can make them happen as often as it likes.
"""

from __future__ import annotations

import asyncio
import logging
import resource

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger("tokenomy.viz.http")

HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 20.0  # a page's requests carry no body or a small one
WS_HANDSHAKE_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 1_024  # per server process; a class of 40 browsers holds about 300
MAX_CONNECTIONS_PER_CLIENT = 256  # a classroom behind one address still fits


def connection_cap(limit: int = MAX_CONNECTIONS) -> int:
    """The cap on open connections: ``limit``, or half the descriptors this process may open if fewer."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return limit if soft == resource.RLIM_INFINITY else max(16, min(limit, soft // 2))


def _closing(connection) -> bool:
    transport = getattr(connection, "transport", None)
    return transport is not None and transport.is_closing()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines for the headers and the body and a cap on connections (see the
    module's text)."""

    header_timeout_s = HEADER_TIMEOUT_S
    body_timeout_s = BODY_TIMEOUT_S
    max_connections = connection_cap()
    max_per_client = MAX_CONNECTIONS_PER_CLIENT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_deadline: asyncio.TimerHandle | None = None
        self._body_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        host = self.client[0] if self.client else None
        live = [c for c in self.connections if not _closing(c)]  # those refused a moment ago are not counted
        same_client = sum(1 for c in live if (getattr(c, "client", None) or (None,))[0] == host)
        if len(live) > self.max_connections or same_client > self.max_per_client:
            log.warning("refused a connection from %s: too many open connections", host)
            transport.abort()  # the descriptor is freed now, not when the client gives up
            return
        self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout_s, self._header_deadline_passed)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _cancel_body_deadline(self) -> None:
        if self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None

    def _still_ours(self) -> bool:
        """This connection is still an HTTP one (not upgraded to a websocket meanwhile) and open."""
        return self.transport.get_protocol() is self and not self.transport.is_closing()

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        if self._still_ours() and self.conn.their_state is h11.IDLE:
            self.transport.abort()

    def _body_deadline_passed(self) -> None:
        self._body_deadline = None
        if self._still_ours() and self.conn.their_state is h11.SEND_BODY:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.get_protocol() is not self:  # upgraded: the websocket's own deadline applies
            self._cancel_header_deadline()
            self._cancel_body_deadline()
            return
        state = self.conn.their_state
        if state is not h11.IDLE:
            self._cancel_header_deadline()  # the headers are in
        if state is h11.SEND_BODY:
            if self._body_deadline is None:  # from the end of the headers, not renewed by each piece of body
                self._body_deadline = self.loop.call_later(self.body_timeout_s, self._body_deadline_passed)
        else:
            self._cancel_body_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._cancel_body_deadline()
            self._arm_header_deadline()  # the next request on this connection has the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        self._cancel_body_deadline()
        super().connection_lost(exc)


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol (the one it picks with ``websockets`` installed) with a deadline for the
    handshake: not accepted or refused :data:`WS_HANDSHAKE_TIMEOUT_S` after the upgrade, the connection is closed."""

    handshake_timeout_s = WS_HANDSHAKE_TIMEOUT_S

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._handshake_deadline = self.loop.call_later(self.handshake_timeout_s, self._handshake_deadline_passed)

    def _handshake_deadline_passed(self) -> None:
        if not self.handshake_complete and not self.transport.is_closing():
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._handshake_deadline.cancel()
        super().connection_lost(exc)
