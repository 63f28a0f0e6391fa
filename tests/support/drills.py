"""The fault-drill harness: a live service under steady mixed load, one fault
injected and removed while the load runs, and the whole record judged.

Every drill asserts the contract's promises over *every* response, not a sample:
no 5xx on /ready at any moment, /health always answers within its bound with a
well-formed body that tells the truth (not `connected` while the fault holds,
`connected` again soon after it is removed), database-user logins answer 503 JSON
while the database is away and 200 again within seconds of its return, the
fallback admin's logins and tokens keep working throughout, no worker is
restarted, nothing answers 500, and no secret reaches the log or a response.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus

from tests.support.load import Action, Load, Sample
from tests.support.servers import LiveServer

HEALTH_DB_TIMEOUT = 1.0
# The contract's bound, plus a margin for a 2-core machine shared with other runs.
HEALTH_BOUND = HEALTH_DB_TIMEOUT + 0.25
MARGIN = 0.35
HEALTH_KEYS = {"status", "database", "timestamp", "version", "service", "latency_ms"}

# The service's database timeouts during drills: shorter than production's so a
# drill that waits them out fits the suite's time budget. /health's bound does not
# depend on them; how long a database-user login waits on a hung database does.
DRILL_DB_TIMEOUTS = {"DB_CONNECT_TIMEOUT": "2", "DB_READ_TIMEOUT": "2", "DB_WRITE_TIMEOUT": "2"}


@dataclass
class Credentials:
    """What the load signs in with; every value here must never appear in output."""

    db_username: str
    db_password: str
    admin_username: str
    admin_password: str
    secrets: list[str] = field(default_factory=list)  # never in a log line or a response
    tokens: list[str] = field(default_factory=list)  # never in a log line


def form(username: str, password: str) -> tuple[bytes, dict[str, str]]:
    return (f"username={username}&password={password}".encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})


def mixes(server: LiveServer, creds: Credentials | None,
           admin_token: str | None = None) -> list[list[tuple[str, Action]]]:
    """Four clients: two on the probes, one signing in as the database user, one as
    the fallback admin and using the fallback token it was given before the drill."""

    def get(path: str, headers: dict[str, str] | None = None) -> Action:
        return lambda: server.get(path, headers=headers, timeout=20)

    probes: list[list[tuple[str, Action]]] = [
        [("ready", get("/ready")), ("health", get("/health"))],
        [("health", get("/health")), ("ready", get("/ready"))],
    ]
    if creds is None:
        return probes
    db_body, headers = form(creds.db_username, creds.db_password)
    admin_body, _ = form(creds.admin_username, creds.admin_password)

    def post(body: bytes) -> Action:
        return lambda: server.post("/login", body=body, headers=headers, timeout=20)

    fallback: list[tuple[str, Action]] = [("login_fallback", post(admin_body))]
    if admin_token:
        fallback.append(("me_fallback", get("/api/auth/me", {"Authorization": f"Bearer {admin_token}"})))
    return [*probes, [("login_db", post(db_body)), ("ready", get("/ready"))], fallback]


def fallback_token(server: LiveServer, creds: Credentials) -> str:
    """An access token of the fallback admin, taken before the drill: it must keep
    working through the fault."""
    body, headers = form(creds.admin_username, creds.admin_password)
    reply = server.post("/login", body=body, headers=headers)
    assert reply.status == HTTPStatus.OK, reply.body
    token = reply.json()["access_token"]
    creds.tokens.append(token)
    return token


@dataclass
class Expect:
    """What the drill expects while the fault holds (None: no expectation, e.g. an
    instantaneous fault) and how soon things must be well again once it is removed."""

    health_during: set[str] | None
    login_db_during: set[int] | None = None
    # accounts/outage.py answers sign-ins as during an outage for 5 s after a failure.
    recover_within: float = 8.0


@dataclass
class DrillResult:
    name: str
    load: Load
    recovered_health: float | None
    recovered_login: float | None
    summary: str


def _ended_before(sample: Sample, t: float) -> bool:
    return sample.started + sample.elapsed < t


def run_drill(name: str, server: LiveServer, creds: Credentials | None, fault: Callable[[], object],
              restore: Callable[[], object], expect: Expect, *, admin_token: str | None = None,
              baseline: float = 1.2, fault_for: float = 3.0, settle: float = 0.3) -> DrillResult:
    """Inject `fault`, hold it `fault_for` seconds, `restore`, wait for recovery, and
    judge every response. The fault is removed in a `finally`."""
    pids = server.all_pids()
    if creds is not None and admin_token is None:
        admin_token = fallback_token(server, creds)
    load = Load(mixes(server, creds, admin_token))
    with load:
        time.sleep(baseline)
        load.mark("fault")
        try:
            fault()
            t_in = load.mark("fault-in")
            time.sleep(fault_for)
        finally:
            t_restore = load.mark("restore")
            restore()
        t_back = load.mark("restored")
        # Wait (bounded) until things have been well for a second, so that the "well
        # for good" assertion has samples to judge.
        deadline = t_back + expect.recover_within + 1.0
        while time.monotonic() < deadline:
            settled = _settled(load, t_back, creds)
            if settled is not None and time.monotonic() - (t_back + settled) >= 1.0:
                break
            time.sleep(0.1)
    t_end = time.monotonic()

    rec_health = _settle(load, "health", t_back, lambda s: s.database == "connected")
    rec_login = _settle(load, "login_db", t_back, lambda s: s.status == HTTPStatus.OK)
    summary = _summary(name, load, t_end, rec_health, rec_login)
    print(summary)

    recovered = _settled(load, t_back, creds)
    problems = _judge(load, server, creds, expect, pids, t_in, settle, t_restore, t_back, recovered)
    assert not problems, f"{summary}\n" + "\n".join(problems)
    return DrillResult(name, load, rec_health, rec_login, summary)


def _settle(load: Load, kind: str, t: float, ok: Callable[[Sample], bool]) -> float | None:
    """Seconds after `t` from which every `kind` answer is good (the end of the last bad
    one), or None when no good answer has come since the last bad one."""
    after = load.of(kind, after=t)
    bad = [s.started + s.elapsed - t for s in after if not ok(s)]
    since = max(bad, default=0.0)
    good_after = any(ok(s) and s.started - t >= since for s in after)
    return since if good_after else None


def _settled(load: Load, t_back: float, creds: Credentials | None) -> float | None:
    health = _settle(load, "health", t_back, lambda s: s.database == "connected")
    if creds is None or health is None:
        return health
    login = _settle(load, "login_db", t_back, lambda s: s.status == HTTPStatus.OK)
    return None if login is None else max(health, login)


def _summary(name: str, load: Load, t_end: float, rec_health: float | None = None,
             rec_login: float | None = None, recovery: bool = True) -> str:
    def fmt(x: float | None) -> str:
        return "never" if x is None else f"{x:.1f}s"

    parts = [f"drill {name}: {len(load.samples)} requests in {t_end - load.t0:.1f}s"]
    for kind in load.kinds():
        counts = ", ".join(f"{k} x{v}" for k, v in sorted(load.counts(kind).items()))
        parts.append(f"{kind} [{counts}] worst {load.worst(kind):.2f}s")
    if recovery:
        parts.append(f"health connected for good after {fmt(rec_health)}")
        if load.of("login_db"):
            parts.append(f"db login 200 for good after {fmt(rec_login)}")
    return "; ".join(parts)


class Judge:
    """Collects every broken promise of one drill, with the offending samples."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.problems: list[str] = []

    def check(self, ok: bool, what: str, samples: Iterable[Sample] = ()) -> None:
        if not ok:
            shown = [f"{s.kind} +{s.started - self.load.t0:.2f}s {s.elapsed:.2f}s {s.outcome} {s.body[:120]!r}"
                     for s in list(samples)[:5]]
            self.problems.append(what + "".join(f"\n    {line}" for line in shown))

    def always(self, server: LiveServer, creds: Credentials | None, pids: list[int]) -> None:
        """What holds at every moment, whatever the fault."""
        load, check = self.load, self.check
        bad_ready = [s for s in load.of("ready") if s.status != HTTPStatus.OK]
        check(not bad_ready, "/ready did not answer 200 every time", bad_ready)
        errors = [s for s in load.samples if s.status is None or (s.status >= HTTPStatus.INTERNAL_SERVER_ERROR
                  and not (s.kind == "login_db" and s.status == HTTPStatus.SERVICE_UNAVAILABLE))]
        check(not errors, "5xx (other than a database-user login's 503) or no answer", errors)

        health = load.of("health")
        check(bool(health) and bool(load.of("ready")), "the load made no /ready or /health request")
        malformed = [s for s in health if s.status != HTTPStatus.OK or not isinstance(s.json(), dict)
                     or set(s.json()) != HEALTH_KEYS]
        check(not malformed, "/health answered something other than its 200 JSON body", malformed)
        slow = [s for s in health if s.elapsed > HEALTH_BOUND + MARGIN]
        check(not slow, f"/health took longer than {HEALTH_BOUND}s (+{MARGIN}s margin)", slow)

        if creds is not None:
            logins = load.of("login_db")
            check(bool(logins), "the load made no database-user login")
            odd = [s for s in logins if s.status not in (HTTPStatus.OK, HTTPStatus.SERVICE_UNAVAILABLE)]
            check(not odd, "database-user login answered neither 200 nor 503", odd)
            unavailable = [s for s in logins if s.status == HTTPStatus.SERVICE_UNAVAILABLE]
            shapeless = [s for s in unavailable if not (isinstance(s.json(), dict) and "detail" in s.json()
                                                       and s.headers.get("retry-after"))]
            check(not shapeless, "a 503 login without a JSON detail and Retry-After", shapeless)
            for kind in ("login_fallback", "me_fallback"):
                samples = load.of(kind)
                failed = [s for s in samples if s.status != HTTPStatus.OK]
                check(kind == "me_fallback" or bool(samples), f"the load made no {kind} request")
                check(not failed, f"{kind}: the fallback admin stopped working", failed)
            tokenless = [s for s in load.of("login_fallback") if s.status == HTTPStatus.OK
                         and not (isinstance(s.json(), dict) and s.json().get("access_token"))]
            check(not tokenless, "a fallback login 200 without an access token", tokenless)

        check(server.proc is not None and server.proc.poll() is None and server.all_pids() == pids,
              f"the service's processes changed (before {pids})")
        secrets = [*(creds.secrets if creds else []), server.env.get("SECRET_KEY", ""),
                   server.env.get("DB_PASSWORD", "")]
        secrets = [s for s in secrets if s]
        issued = [*(creds.tokens if creds else [])]
        for sample in load.of("login_db") + load.of("login_fallback"):
            body = sample.json()
            if isinstance(body, dict):
                issued += [body[k] for k in ("access_token", "refresh_token") if isinstance(body.get(k), str)]
        log = server.log()
        in_log = [s for s in secrets + issued if s in log]
        check(not in_log, f"{len(in_log)} secret value(s) or token(s) found in the service's log")
        bodies = [s for s in load.samples if any(secret.encode() in s.body for secret in secrets)]
        check(not bodies, "a secret value in a response body", bodies)

    def window(self, what: str, samples: list[Sample], health: set[str] | None, login_db: set[int] | None,
               minimum: int = 1) -> None:
        """Samples of a time window: /health's verdicts and database-user logins' statuses."""
        if health is not None:
            answers = [s for s in samples if s.kind == "health"]
            self.check(len(answers) >= minimum, f"too few /health answers {what}", answers)
            lies = [s for s in answers if s.database not in health]
            self.check(not lies, f"/health {what} was not one of {sorted(health)}", lies)
        if login_db is not None:
            logins = [s for s in samples if s.kind == "login_db"]
            self.check(len(logins) >= min(minimum, 1), f"no database-user login answered {what}")
            wrong = [s for s in logins if s.status not in login_db]
            self.check(not wrong, f"database-user login {what} was not {sorted(login_db)}", wrong)


def _judge(load: Load, server: LiveServer, creds: Credentials | None, expect: Expect, pids: list[int],
           t_in: float, settle: float, t_restore: float, t_back: float, recovered: float | None) -> list[str]:
    judge = Judge(load)
    judge.always(server, creds, pids)
    logins = {HTTPStatus.OK} if creds is not None else None
    before = [s for s in load.samples if _ended_before(s, load.marks["fault"])]
    judge.window("before the fault", before, {"connected"}, logins)
    if expect.health_during is not None:
        # /health from `settle` after the fault went in (a check in flight may still
        # finish with the truth of a moment earlier).
        during = [s for s in load.samples if s.kind == "health" and s.started >= t_in + settle
                  and _ended_before(s, t_restore)]
        judge.window("while the fault held", during, expect.health_during, None, minimum=2)
        if creds is not None and expect.login_db_during is not None:
            # A login that started after the fault went in says what the fault does to
            # it; one that started just before may have finished its query in time.
            ended = [s for s in load.of("login_db") if t_in <= s.started + s.elapsed < t_restore]
            judge.window("while the fault held", [s for s in ended if s.started >= t_in], None,
                         expect.login_db_during, minimum=0)
            early = [s for s in ended if s.started < t_in]
            judge.window("while the fault held (started before it)", early, None,
                         {HTTPStatus.OK, *expect.login_db_during}, minimum=0)
            judge.check(any(s.status in expect.login_db_during for s in ended),
                        f"no database-user login answered {sorted(expect.login_db_during)} while the fault held",
                        ended)
    judge.check(recovered is not None and recovered <= expect.recover_within,
                f"not recovered within {expect.recover_within}s of the fault's removal")
    if recovered is not None:
        after = [s for s in load.samples if s.started >= t_back + recovered]
        judge.window("after recovery", after, {"connected"}, logins)
    return judge.problems


def run_steady(name: str, server: LiveServer, creds: Credentials | None, *, health: set[str],
               login_db: set[int] | None, admin_token: str | None = None, seconds: float = 2.5) -> Load:
    """A load with no fault injected: for a service that starts misconfigured (a
    wrong CA, TLS off against a server that requires it) and must stay bounded."""
    pids = server.all_pids()
    if creds is not None and admin_token is None:
        admin_token = fallback_token(server, creds)
    with Load(mixes(server, creds, admin_token)) as load:
        time.sleep(seconds)
    t_end = time.monotonic()
    print(_summary(name, load, t_end, recovery=False))
    judge = Judge(load)
    judge.always(server, creds, pids)
    judge.window("throughout", load.samples, health, login_db if creds is not None else None, minimum=2)
    assert not judge.problems, "\n".join(judge.problems)
    return load
