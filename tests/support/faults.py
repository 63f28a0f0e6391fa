"""Real network faults on loopback: a port that refuses, a listener that never answers,
a listener that closes every connection at once (a service that is not MySQL), and a
server that speaks MySQL's greeting without TLS and then asks for the password in
clear (a misconfigured server, or something pretending to be one)."""

from __future__ import annotations

import socket
import struct
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


class PlainPasswordServer(HangingListener):
    """Greets as a MySQL server that offers no TLS, then answers the client's sign-in
    with a switch to mysql_clear_password, keeping every byte it is sent: what a
    client gives away to a server it should have refused."""

    # Capabilities: long password, found rows, long flag, connect with db, protocol 41,
    # transactions, secure connection, multi statements/results, plugin auth. No CLIENT_SSL.
    CAPABILITIES = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x80000

    def __init__(self, first: str | None = None) -> None:
        """`first`: what the first connection gets instead ("close": closed at once;
        "error": MySQL's 1040 Too many connections), as a flaky server or an attacker
        hoping for a second, plain connection would do."""
        self.received: list[bytes] = []  # per connection, everything after the greeting
        self.first = first
        self.connections = 0
        super().__init__()

    @staticmethod
    def _packet(seq: int, payload: bytes) -> bytes:
        return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload

    def _on_accept(self, conn: socket.socket) -> None:
        threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        got = b""
        self.connections += 1
        if self.connections == 1 and self.first == "close":
            conn.close()
            return
        if self.connections == 1 and self.first == "error":
            conn.sendall(self._packet(0, b"\xff" + struct.pack("<H", 1040) + b"Too many connections"))
            conn.close()
            return
        try:
            caps = self.CAPABILITIES
            greeting = (b"\x0a" + b"5.5.5-10.11.0-MariaDB\x00" + struct.pack("<I", 7) + b"abcdefgh" + b"\x00"
                        + struct.pack("<H", caps & 0xFFFF) + b"\x2d" + struct.pack("<H", 2)
                        + struct.pack("<H", caps >> 16) + bytes([21]) + b"\x00" * 10 + b"ijklmnopqrst\x00"
                        + b"mysql_native_password\x00")
            conn.settimeout(3)
            conn.sendall(self._packet(0, greeting))
            sign_in = conn.recv(65536)
            got += sign_in
            if sign_in:
                conn.sendall(self._packet(sign_in[3] + 1, b"\xfemysql_clear_password\x00\x00"))
                got += conn.recv(65536)
        except OSError:
            pass
        finally:
            self.received.append(got)
            conn.close()
