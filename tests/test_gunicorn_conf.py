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


def test_each_server_makes_a_cache_folder_of_its_own_and_removes_it(serve, sqlite_env, tmp_path: Path) -> None:
    """Without INSTANCE_CACHE_DIR the master makes a temporary folder before its workers
    exist, so they inherit its path (infinityai/instance_cache.py): a failed sign-in is
    counted there. Another server gets another; each is removed when its server stops."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    first = serve(workers=2, **sqlite_env, TMPDIR=str(temp))
    second = serve(workers=2, **sqlite_env, TMPDIR=str(temp))
    folders = sorted(temp.glob("infinityai-cache-*"))
    assert len(folders) == 2, folders
    reply = first.post("/login", body="username=nobody&password=wrong",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 400
    assert [len(list(folder.glob("*.djcache"))) > 0 for folder in folders].count(True) == 1
    first.stop()
    assert len(list(temp.glob("infinityai-cache-*"))) == 1 and second.get("/ready").status == 200
