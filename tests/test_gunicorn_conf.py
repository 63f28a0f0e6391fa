"""gunicorn.conf.py as every server (tests, `make run`, the container) uses it."""

from __future__ import annotations

from pathlib import Path


def test_no_control_socket_is_shared_between_servers(serve, sqlite_env, tmp_path: Path) -> None:
    """gunicorn 25.1+ opens a control socket at $HOME/.gunicorn/gunicorn.ctl by default: every
    server run by one user would share that path. The service does not use it: none is made."""
    home = tmp_path / "home"
    home.mkdir()
    first = serve(**sqlite_env, HOME=str(home))
    second = serve(**sqlite_env, HOME=str(home))
    assert first.get("/ready").status == 200 and second.get("/ready").status == 200
    control = home / ".gunicorn" / "gunicorn.ctl"
    assert not control.exists(), "a control socket was created"
    unix_paths = Path("/proc/net/unix").read_text()
    assert str(control) not in unix_paths
    for server in (first, second):
        assert "control socket" not in server.log().lower()
