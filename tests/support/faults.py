"""Real network faults on loopback: a port that refuses, a listener that never answers,
a listener that closes every connection at once (a service that is not MySQL)."""

from __future__ import annotations

import socket
import threading


def refused_port() -> int:
    """A loopback port with nothing listening (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HangingListener:
    """Accepts TCP connections and never sends a byte: a database that hangs after accept."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self._on_accept(conn)

    def _on_accept(self, conn: socket.socket) -> None:
        self.accepted.append(conn)  # held open, never answered

    def open_connections(self) -> int:
        """Accepted connections the client has not closed yet."""
        alive = 0
        for conn in self.accepted:
            try:
                conn.setblocking(False)
                alive += conn.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        return alive

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()

    def __enter__(self) -> HangingListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ClosingListener(HangingListener):
    """Accepts TCP connections and closes each at once: DB_PORT pointing at something else."""

    def _on_accept(self, conn: socket.socket) -> None:
        conn.close()
