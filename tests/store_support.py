"""The project's own test helpers for the database: emptying it between tests, and a proxy a
fault test can pause. Not installed (QA teams' helpers are in e2e/databases.py)."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url

from ops.schema import load_all_models


def empty_all_tables(engine) -> None:
    """Delete every row (keeping the schema and Alembic's version)."""
    tables = list(reversed(load_all_models().sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            if names:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


class PausableProxy:
    """A TCP proxy in front of a database on this machine, that a fault test can pause.

    Paused, it neither accepts nor forwards: connections already open go silent (as a hung
    server or a dropped network does) and new ones wait in the listen queue. Loopback only:
    it is a test tool, never something to point at another machine.
    """

    def __init__(self, host: str, port: int) -> None:
        import ipaddress
        import socket
        import threading

        if not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
            raise ValueError(f"the fault proxy only fronts loopback addresses, not {host!r}")
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._running = threading.Event()
        self._running.set()
        self._stopped = threading.Event()
        self._peers: dict = {}
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()

    def url_for(self, url: str) -> str:
        """`url` (a PostgreSQL URL to this proxy's target) routed through the proxy."""
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def close(self) -> None:
        self._stopped.set()
        self._running.set()
        self._thread.join(5)
        for sock in list(self._peers):
            sock.close()
        self._listener.close()

    def _run(self) -> None:
        import selectors
        import socket

        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        while not self._stopped.is_set():
            if not self._running.wait(0.05):
                continue
            for key, _ in selector.select(0.05):
                sock = key.fileobj
                if sock is self._listener:
                    client, _ = self._listener.accept()
                    try:
                        upstream = socket.create_connection(self._target, timeout=5)
                    except OSError:
                        client.close()
                        continue
                    for a, b in ((client, upstream), (upstream, client)):
                        self._peers[a] = b
                        selector.register(a, selectors.EVENT_READ)
                    continue
                if sock not in self._peers:
                    continue
                try:
                    data = sock.recv(65536)
                    if data:
                        self._peers[sock].sendall(data)
                        continue
                except OSError:
                    pass
                peer = self._peers.pop(sock)
                self._peers.pop(peer, None)
                for s in (sock, peer):
                    try:
                        selector.unregister(s)
                    except (KeyError, ValueError):
                        pass
                    s.close()
        selector.close()
