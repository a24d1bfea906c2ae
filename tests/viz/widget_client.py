"""A page without a browser: a raw websocket client that speaks the Jupyter widget protocol to a running server.

It opens a session as the page's JavaScript does (a ``solara.control`` comm, then ``run``), keeps every
widget's state as the server sends it, and can send what a page could send: a value for a widget (an
``update``) or a click (a ``custom`` event) — including values no real control would send, which is what
the server tests need.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from urllib.parse import urlsplit

from solara.server.kernel import deserialize_binary_message
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


class WidgetClient:
    """One session on the server at ``url`` (the page's URL), driven message by message."""

    def __init__(self, url: str, max_size: int | None = 2**26):
        self.kernel_id = "k-" + uuid.uuid4().hex[:12]
        self.session = uuid.uuid4().hex
        netloc = urlsplit(url).netloc
        ws_url = f"ws://{netloc}/jupyter/api/kernels/{self.kernel_id}/channels?session_id={self.session}"
        self._stack = contextlib.ExitStack()
        # max_queue=None: the connection's thread keeps reading (and answering pings) while the test does not read,
        # as a browser does; with a bounded queue a client left unread for a while is dropped by the keepalive
        self.ws = self._stack.enter_context(
            connect(ws_url, origin=url.rstrip("/"), open_timeout=20, max_size=max_size, max_queue=None)
        )
        self.widgets: dict[str, dict] = {}  # comm id -> the widget's state as last sent by the server
        self.control = uuid.uuid4().hex
        self.closed = False

    # -- sending ----------------------------------------------------------------------------------------
    def _send(self, msg_type: str, content: dict) -> None:
        header = {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "session": self.session,
            "username": "test",
            "date": "2026-01-01T00:00:00Z",
            "version": "5.3",
        }
        msg = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
        self.ws.send(json.dumps({**msg, "buffers": []}))

    def send_raw(self, text: str) -> None:
        self.ws.send(text)

    def start(self, timeout_s: float = 60.0, path: str = "") -> None:
        """Open the app as the page does (at ``path``, e.g. ``/join?code=ABC``: the page's address after the host)
        and wait until its first render has arrived."""
        self._send("comm_open", {"comm_id": self.control, "target_name": "solara.control", "data": {}})
        args = {"path": path, "appName": "__default__", "themes": {"light": {}, "dark": {}}, "dark": False}
        self._send("comm_msg", {"comm_id": self.control, "data": {"method": "run", "args": args}})
        self.wait_for(lambda: self.finished, timeout_s, "the app's first render")

    finished = False

    def update(self, comm_id: str, **state) -> None:
        """Send a widget value, as a page does when the user moves a control."""
        data = {"method": "update", "state": state, "buffer_paths": []}
        self._send("comm_msg", {"comm_id": comm_id, "data": data})

    def click(self, comm_id: str) -> None:
        data = {"method": "custom", "content": {"event": "click", "data": {}}}
        self._send("comm_msg", {"comm_id": comm_id, "data": data})

    # -- receiving --------------------------------------------------------------------------------------
    def pump(self, timeout_s: float) -> None:
        """Read what the server sends for up to ``timeout_s`` seconds."""
        deadline = time.monotonic() + timeout_s
        while not self.closed and (left := deadline - time.monotonic()) > 0:
            try:
                raw = self.ws.recv(timeout=left)
            except TimeoutError:
                return
            except ConnectionClosed:
                self.closed = True
                return
            self._take(json.loads(raw) if isinstance(raw, str) else deserialize_binary_message(raw))

    def _take(self, msg: dict) -> None:
        kind, content = msg.get("header", {}).get("msg_type"), msg.get("content", {})
        comm_id = content.get("comm_id")
        data = content.get("data", {})
        if kind == "comm_open":
            self.widgets[comm_id] = dict(data.get("state", {}))
        elif kind == "comm_msg" and comm_id == self.control and data.get("method") == "finished":
            self.finished = True
        elif kind == "comm_msg" and data.get("method") in ("update", "echo_update") and comm_id in self.widgets:
            self.widgets[comm_id].update(data.get("state", {}))
        elif kind == "comm_close":
            self.widgets.pop(comm_id, None)

    def wait_for(self, predicate, timeout_s: float, what: str):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            if self.closed:
                raise AssertionError(f"the server closed the websocket while waiting for {what}")
            self.pump(0.2)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    # -- finding widgets --------------------------------------------------------------------------------
    def find(self, **match) -> list[str]:
        """Comm ids of the widgets whose state has every ``key=value`` of ``match`` (``_model_name`` etc.)."""
        return [cid for cid, state in self.widgets.items() if all(state.get(k) == v for k, v in match.items())]

    def texts(self) -> str:
        """Every text the page shows (HTML, labels, alerts), joined: what a student would read."""
        parts = []
        for state in self.widgets.values():
            for key in ("value", "label", "v_model", "children", "unsafe_innerHTML", "text"):
                v = state.get(key)
                if isinstance(v, str):
                    parts.append(v)
                elif isinstance(v, list):
                    parts.extend(x for x in v if isinstance(x, str))
        return "\n".join(parts)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()
