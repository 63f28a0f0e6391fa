"""The issue's targets, judged on one run's figures, and the JSON and Markdown written
from them. A figure measured on a server that answered errors never passes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    rule: str
    measured: float | None
    limit: float
    passed: bool
    note: str = ""

    @property
    def mark(self) -> str:
        return "pass" if self.passed else "MISS"


def _clean(run: dict[str, Any]) -> bool:
    load = run["load"]
    return (load["requests"] > 0 and load["http_errors"] == 0 and load["socket_errors"] == 0
            and not run.get("log_errors"))


def _at_most(name: str, rule: str, measured: float | None, limit: float, ok: bool = True, note: str = "") -> Target:
    return Target(name, rule, measured, limit, ok and measured is not None and measured <= limit, note)


def _at_least(name: str, rule: str, measured: float | None, limit: float, ok: bool = True, note: str = "") -> Target:
    return Target(name, rule, measured, limit, ok and measured is not None and measured >= limit, note)


def _max_rss(run: dict[str, Any]) -> float:
    return max(w["rss_mib"] for w in run["workers_after"])


def _thread_growth(run: dict[str, Any]) -> int:
    before = {w["pid"]: w["threads"] for w in run["workers_before"]}
    return max(w["threads"] - before.get(w["pid"], 0) for w in run["workers_after"])


def rps_ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
    return round(a["load"]["rps"] / b["load"]["rps"], 3) if b["load"]["rps"] else 0.0


def judge(results: dict[str, Any]) -> list[Target]:
    runs = results["servers"]
    cfg = results["config"]
    bound = cfg["HEALTH_DB_TIMEOUT"] + 0.25
    workers = cfg["WEB_CONCURRENCY"]
    django, ready, health = runs["django"], runs["ready"], runs["health_up"]
    t: list[Target] = []

    t.append(_at_least("ready_vs_django", "/ready req/s >= 0.9 x minimal Django view", rps_ratio(ready, django), 0.9,
                       _clean(ready) and _clean(django)))
    t.append(_at_least("health_vs_ready", "/health (DB up) req/s >= 0.8 x /ready", rps_ratio(health, ready), 0.8,
                       _clean(health) and _clean(ready)))
    t.append(_at_most("health_db_connections", f"/health (DB up): DB connections opened <= 1 per worker ({workers})",
                      health["db_connections_opened"], workers))
    for key, what in (("health_hung_accept", "hung after accept"), ("health_hung_handshake", "frozen after handshake")):
        run = runs[key]
        t.append(_at_most(f"{key}_p99", f"/health p99 ({what}, {run['load']['connections']} clients) <= "
                          f"HEALTH_DB_TIMEOUT + 0.25 s = {bound:.2f} s", round(run["load"]["p99_ms"] / 1000, 3),
                          bound, _clean(run)))
        side = run["side_load"]
        t.append(_at_most(f"{key}_ready_p99", f"/ready p99 alongside ({what}) < 50 ms", side["p99_ms"], 50,
                          side["http_errors"] == 0 and side["socket_errors"] == 0 and side["requests"] > 0))
        t.append(_at_most(f"{key}_threads", f"threads per worker ({what}) <= baseline + 2", _thread_growth(run), 2))
    check = results["bcrypt_check_ms"]
    for key, who in (("login_db", "database user"), ("login_fallback", "fallback admin")):
        run = runs[key]
        t.append(_at_most(f"{key}_p50", f"/login ({who}) p50 <= 1.1 x one bcrypt check ({check:.0f} ms)",
                          round(run["load"]["p50_ms"] / check, 3) if check else None, 1.1, _clean(run),
                          note="" if _clean(run) else "the login answered errors"))
    service = [k for k in runs if k not in ("bare", "django")]
    worst = max(service, key=lambda k: _max_rss(runs[k]))
    t.append(_at_most("worker_rss", "service worker RSS <= 1.3 x minimal Django worker",
                      round(_max_rss(runs[worst]) / _max_rss(django), 3), 1.3, note=f"largest: {worst}"))
    boots = results["boot_seconds"]
    t.append(_at_most("boot", "service boot (start to first 200 on /ready) <= 1.5 x minimal Django",
                      round(median(boots["service"]) / median(boots["django"]), 3), 1.5))
    return t


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"
    return str(x)


def markdown(results: dict[str, Any], targets: list[Target]) -> str:
    cfg = results["config"]
    lines = [
        f"# Benchmark {results['finished']}",
        "",
        f"Machine: {results['machine']['cpus']} CPUs, load average {results['machine']['loadavg_before']} before "
        f"and {results['machine']['loadavg_after']} after. gunicorn.conf.py for every server: "
        f"{cfg['WEB_CONCURRENCY']} workers x {cfg['GUNICORN_THREADS']} threads (gthread). "
        f"wrk -t1. The first four servers side by side, {cfg['rounds']} rounds of {cfg['round_seconds']} s each "
        f"in rotated order, each shown by its best round (bench/run.py says why); "
        f"the others {cfg['seconds']} s each. HEALTH_DB_TIMEOUT {cfg['HEALTH_DB_TIMEOUT']} s. "
        f"One bcrypt check (cost {cfg['bcrypt_rounds']}): {results['bcrypt_check_ms']:.1f} ms.",
        "",
        "| server | clients | req/s | p50 ms | p99 ms | errors | DB conns opened | threads/worker | "
        "RSS MiB/worker | boot s | worker CPU ms/request |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in results["servers"].values():
        load = run["load"]
        threads = " ".join(f"{b['threads']}->{a['threads']}" for b, a in zip(run["workers_before"],
                                                                          run["workers_after"], strict=False))
        rss = " ".join(f"{b['rss_mib']:.0f}->{a['rss_mib']:.0f}" for b, a in zip(run["workers_before"],
                                                                               run["workers_after"], strict=False))
        errors = load["http_errors"] + load["socket_errors"] + run.get("log_errors", 0)
        lines.append(f"| {run['label']} | {load['connections']} | {load['rps']:.0f} | {_fmt(load['p50_ms'])} | "
                     f"{_fmt(load['p99_ms'])} | {errors} | {_fmt(run['db_connections_opened'])} | {threads} | "
                     f"{rss} | {_fmt(run['boot_seconds'])} | {_fmt(run.get('cpu_ms_per_request'))} |")
        if run.get("side_load"):
            side = run["side_load"]
            lines.append(f"| ... alongside: /ready | {side['connections']} | {side['rps']:.0f} | "
                         f"{_fmt(side['p50_ms'])} | {_fmt(side['p99_ms'])} | "
                         f"{side['http_errors'] + side['socket_errors']} | | | | | |")
    boots = results["boot_seconds"]
    lines += [
        "",
        "Boot, median of " + ", ".join(f"{k} {median(v):.2f} s ({len(v)} starts)" for k, v in boots.items()) + ".",
        f"Minimal Django / bare WSGI: {results['ratios']['django_vs_bare']:.2f}x.",
        "",
        "| target | measured | limit | mark |",
        "|---|---|---|---|",
    ]
    for target in targets:
        note = f" ({target.note})" if target.note else ""
        lines.append(f"| {target.rule}{note} | {_fmt(target.measured)} | {_fmt(target.limit)} | {target.mark} |")
    costs = results.get("import_costs") or []
    if costs:
        lines += ["", "Where worker RSS goes beyond the minimal Django worker: each library's growth of RSS "
                  "on import, one after the other from the minimal project's start (bench/import_costs.py; "
                  f"{sum(c['rss_mib'] for c in costs):.1f} MiB in all).", "",
                  "| library | RSS MiB | import ms |", "|---|---|---|"]
        lines += [f"| {c['library']} | {c['rss_mib']:.2f} | {c['import_ms']:.0f} |" for c in costs]
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], targets: list[Target], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    results = {**results, "targets": [{**asdict(t), "mark": t.mark} for t in targets]}
    stamp = results["finished"].replace(":", "").replace("-", "")
    js, md = directory / f"bench-{stamp}.json", directory / f"bench-{stamp}.md"
    js.write_text(json.dumps(results, indent=2) + "\n")
    md.write_text(markdown(results, targets))
    (directory / "latest.json").write_text(js.read_text())
    (directory / "latest.md").write_text(md.read_text())
    return js, md
