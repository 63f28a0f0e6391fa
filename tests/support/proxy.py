"""A loopback TCP proxy between the service and its database, switchable mid-run.

The drills must change what the service's `DB_HOST:DB_PORT` leads to without
restarting the service: the service is pointed at this proxy once, and the test
switches the proxy between forwarding to a real MariaDB and a black hole that
accepts and never answers (a firewall that drops packets, a hung load balancer),
or cuts every open connection (a failover, an idle-connection reaper).
"""

from __future__ import annotations

import select
import socket
import threading
import time


class _Pair:
    """One client connection and, when forwarding, its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.client = client
        self.upstream = upstream
        self.frozen = upstream is None  # a black-holed connection never gets a byte back

    def close(self) -> None:
        for sock in (self.client, self.upstream):
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()


class TcpProxy:
    """Forward 127.0.0.1:<port> to 127.0.0.1:<target>, or hang, or cut connections.

    One thread runs a select loop over every connection; all of it is bounded by
    `close()`, which the tests call in a `finally`.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port: int | None = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.listener.setblocking(False)
        self.port: int = self.listener.getsockname()[1]
        self.accepted = 0
        self._pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tcp-proxy", daemon=True)
        self._thread.start()

    # --- switches ------------------------------------------------------------

    def forward(self, target_port: int) -> None:
        """New connections go to `target_port`; black-holed connections are closed
        (their clients gave up on them long ago: a reconnect is what follows)."""
        with self._lock:
            self.target_port = target_port
            for pair in [p for p in self._pairs if p.frozen]:
                self._drop(pair)

    def hang(self) -> None:
        """Accept and never answer: open connections stop getting bytes back, new
        ones are accepted and held silent. The service sees a database that hangs
        after accept and mid-query alike."""
        with self._lock:
            self.target_port = None
            for pair in self._pairs:
                pair.frozen = True

    def cut(self) -> int:
        """Close every open connection at once; returns how many."""
        with self._lock:
            pairs = list(self._pairs)
            for pair in pairs:
                self._drop(pair)
        return len(pairs)

    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    # --- machinery ------------------------------------------------------------

    def _drop(self, pair: _Pair) -> None:
        pair.close()
        self._pairs.remove(pair)

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except (BlockingIOError, OSError):
            return
        self.accepted += 1
        client.settimeout(2)
        upstream = None
        if self.target_port is not None:
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()  # the real server refuses: so does the proxy
                return
        self._pairs.append(_Pair(client, upstream))

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                readable = [self.listener]
                owner: dict[socket.socket, _Pair] = {}
                for pair in self._pairs:
                    if not pair.frozen and pair.upstream is not None:
                        readable += [pair.client, pair.upstream]
                        owner[pair.client] = owner[pair.upstream] = pair
            try:
                ready, _, _ = select.select(readable, [], [], 0.05)
            except (OSError, ValueError):
                time.sleep(0.01)  # a socket closed under us by a switch: rebuild the list
                continue
            with self._lock:
                for sock in ready:
                    if sock is self.listener:
                        self._accept()
                        continue
                    pair = owner[sock]
                    if pair not in self._pairs or pair.frozen:
                        continue
                    other = pair.upstream if sock is pair.client else pair.client
                    try:
                        data = sock.recv(65536)
                        if data:
                            other.sendall(data)
                            continue
                    except OSError:
                        pass
                    self._drop(pair)  # one side closed: close the other, as a real path would

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        with self._lock:
            for pair in list(self._pairs):
                self._drop(pair)
        self.listener.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
