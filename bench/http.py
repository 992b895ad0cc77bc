"""HTTP benchmark: the bars of quality.md's Performance section, over HTTP, beside Datasette, on SQLite and PostgreSQL.

Run it with `make bench` (200,000 reviews) or `make bench REVIEWS=20000` for a quick run; it rewrites
`docs/benchmarks-http.md`. Steps, for each database (SQLite, then PostgreSQL at --postgres unless --no-postgres):

1. Corpus (`bench/corpus.py`, screened: some contributions carry findings and wait for a moderator) into a fresh
   database: a file under `var/bench/`, or a new PostgreSQL database that is dropped afterwards.
2. Full reindex of the three indexes, timed (documents per second).
3. Our server: uvicorn, one worker, on a free loopback port (APP_ENV=production, a random SECRET_KEY). Bearer tokens
   and session cookies are issued for the officers with the most reviews (`accounts.issue_api_token`,
   `accounts.start_session`: what `supplier-intel api-token` and a completed sign-in link give).
4. Load (`bench/load.py`, another process): a warm-up pass, then each measure's fixed requests in turn, one at a time,
   until a run or time limit: vendor search with facets (alternating with the same searches on Datasette, on SQLite),
   review search with facets and highlights, the vendor page's HTML, submitting a review through the API (screening,
   save, index; one in five carries a sentence screening flags). The server's peak memory is its VmHWM.
5. Datasette (SQLite run): its own virtual environment in `bench/.venv-datasette`, the vendor documents exported to a
   table with an FTS5 index (`sqlite-utils enable-fts`), `datasette serve` on another port.
6. A cProfile of the slowest measure's slowest request, in-process (FastAPI's test client, same app, same database).
"""

import argparse
import cProfile
import json
import os
import pstats
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import Engine, text
from sqlmodel import Session

from app.config import PROJECT_ROOT, Settings, get_settings
from bench.corpus import CorpusReport, build_corpus
from bench.search import machine

DOC = PROJECT_ROOT / "docs" / "benchmarks-http.md"
WORKDIR = PROJECT_ROOT / "var" / "bench"
DATASETTE_VENV = PROJECT_ROOT / "bench" / ".venv-datasette"
DATASETTE_PACKAGES = ("datasette>=0.64,<1.0", "sqlite-utils>=3.35,<4")
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
REVIEW_FACETS = "service_area,rating_band,region,council_type,relationship"
VENDOR_FACETS = "categories,regions,council_types,rating_band,has_pilots,service_areas"
VENDOR_ARRAYS = ("categories", "regions", "council_types", "service_areas")  # the list facets, as Datasette arrays
REVIEW_TEXT = "headline,worked_well,did_not_work,advice"

VENDORS, REVIEWS, PAGE, SUBMIT = "search vendors", "search reviews", "vendor page", "submit a review"
# (measure, target at 200k reviews, at 1M reviews), quality.md
TARGETS: dict[str, tuple[str, float, float]] = {
    VENDORS: ("search vendors (typical queries, with facets)", 30, 50),
    REVIEWS: ("search reviews (with facets and highlights)", 50, 80),
    PAGE: ("vendor page (HTML)", 25, 30),
    SUBMIT: ("submit a review (screening, save, index)", 60, 60),
}
REINDEX_TARGET = 5_000.0
MEMORY_TARGET = {200_000: 400.0, 1_000_000: 800.0}
VENDOR_QUERIES = ("case management", "crm", "housing repairs", "payroll", "cloud hosting")
REVIEW_QUERIES = ("case management", "housing repairs", "data migration", "crm")
FLAGGED_ADVICE = "Ring their support line on 01632 960 123 rather than logging a ticket."


@dataclass
class Measured:
    """Latencies (seconds) per request label of one measure, with errors and wall time."""

    latencies: dict[str, list[float]]
    errors: dict[str, int]
    elapsed: float
    error_statuses: dict[str, list[int]] = field(default_factory=dict)

    def all(self, prefix: str = "") -> list[float]:
        return [x for label, xs in self.latencies.items() if label.startswith(prefix) for x in xs]

    def error_count(self, prefix: str = "") -> int:
        return sum(n for label, n in self.errors.items() if label.startswith(prefix))


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile in milliseconds (linear between the nearest ranks)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return (ordered[low] + (ordered[high] - ordered[low]) * (rank - low)) * 1000


@dataclass
class Run:
    """One database's figures."""

    name: str
    url_shown: str
    corpus: CorpusReport | None = None
    reindex: dict[str, tuple[int, float]] = field(default_factory=dict)
    measures: dict[str, Measured] = field(default_factory=dict)
    peak_mb: float = 0.0
    rss_after_warmup_mb: float = 0.0
    labels: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""


# Servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_mb(pid: int, name: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Process:
    """A server in a subprocess on a free loopback port, its output in a log file."""

    def __init__(self, command: list[str], *, port: int, env: dict[str, str], log: Path, ready_path: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        self.ready_path = ready_path
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The server stopped at start-up; see {self.log}:\n{self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + self.ready_path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"The server did not answer within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def our_server(env: dict[str, str], log: Path) -> Process:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1", "--log-level", "warning", "--no-access-log"]
    return Process(
        command, port=port, env={**env, "BASE_URL": f"http://127.0.0.1:{port}"}, log=log, ready_path="/healthz"
    )


# Datasette


def datasette_ready(console: Any) -> Path:
    """The Datasette virtual environment, created and filled from PyPI on first use."""
    python = DATASETTE_VENV / "bin" / "python"
    if not (DATASETTE_VENV / "bin" / "datasette").exists():
        console.print(f"[bold]Datasette[/bold]: creating {DATASETTE_VENV.relative_to(PROJECT_ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", str(DATASETTE_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *DATASETTE_PACKAGES], check=True)
    return DATASETTE_VENV / "bin"


def export_suppliers(engine: Engine, path: Path) -> int:
    """The vendor documents we index, as a `suppliers` table (lists as JSON arrays) with an FTS5 index."""
    from app.search import documents

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    columns = ["id", "slug", "name", "description", "aliases", "products", *VENDOR_ARRAYS]
    columns += ["councils", "overall", "rating_band", "review_count", "has_pilots"]
    rows: list[tuple[Any, ...]] = []
    with Session(engine) as session:
        for ids in documents.all_ids(session, documents.VENDORS):
            docs, _ = documents.vendor_documents(session, ids)
            for doc in docs:
                rows.append(
                    tuple(json.dumps(doc.get(c)) if isinstance(doc.get(c), list) else doc.get(c) for c in columns)
                )
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE suppliers (id INTEGER PRIMARY KEY, slug TEXT, name TEXT, description TEXT, aliases TEXT, "
            "products TEXT, categories TEXT, regions TEXT, council_types TEXT, service_areas TEXT, councils TEXT, "
            "overall REAL, rating_band TEXT, review_count INTEGER, has_pilots INTEGER)"
        )
        db.executemany(f"INSERT INTO suppliers VALUES ({', '.join('?' * len(columns))})", rows)
    return len(rows)


def datasette_server(bin_dir: Path, database: Path, log: Path) -> Process:
    subprocess.run(
        [str(bin_dir / "sqlite-utils"), "enable-fts", str(database), "suppliers", "name", "description", "aliases",
         "products", "categories", "--fts5"],
        check=True,
    )  # fmt: skip
    port = free_port()
    command = [str(bin_dir / "datasette"), "serve", str(database), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--setting", "suggest_facets", "off", "--setting", "default_page_size", "20"]
    command += ["--setting", "facet_time_limit_ms", "5000", "--setting", "sql_time_limit_ms", "5000"]
    return Process(command, port=port, env=dict(os.environ), log=log, ready_path="/-/versions.json")


# The measures


def bench_users(engine: Engine, settings: Settings, count: int = 8) -> list[tuple[str, str]]:
    """(bearer token, session cookie) for the officers with the most published reviews."""
    from app import accounts
    from app.models import User

    with Session(engine) as session:
        ids = [
            row[0]
            for row in session.connection().execute(
                text(
                    "SELECT author_id FROM review WHERE status = 'published' GROUP BY author_id "
                    "ORDER BY count(*) DESC, author_id LIMIT :n"
                ),
                {"n": count},
            )
        ]
        found = []
        for user_id in ids:
            user = session.get(User, user_id)
            assert user is not None
            token = accounts.issue_api_token(session, email=user.email, settings=settings)
            cookie = accounts.start_session(session, user=user, settings=settings)
            found.append((token, cookie))
        session.commit()
    return found


def suppliers_to_visit(engine: Engine) -> list[str]:
    """The most reviewed supplier, one at the 10th percentile, the median one and one with a single review."""
    with engine.connect() as connection:
        ranked = [
            slug
            for (slug,) in connection.execute(
                text(
                    "SELECT s.slug FROM supplier s JOIN review r ON r.supplier_id = s.id AND r.status = 'published' "
                    "WHERE s.status = 'published' GROUP BY s.id, s.slug ORDER BY count(*) DESC, s.id"
                )
            )
        ]
    picks = [ranked[0], ranked[len(ranked) // 10], ranked[len(ranked) // 2], ranked[-1]]
    return list(dict.fromkeys(picks))


def top_name(engine: Engine) -> str:
    with engine.connect() as connection:
        name = connection.execute(
            text(
                "SELECT s.name FROM supplier s JOIN review r ON r.supplier_id = s.id GROUP BY s.id, s.name "
                "ORDER BY count(*) DESC, s.id LIMIT 1"
            )
        ).scalar()
    return " ".join(str(name or "").split()[:2])


def spec(
    base: str,
    users: list[tuple[str, str]],
    slugs: list[str],
    supplier_name: str,
    datasette: str | None,
    *,
    seconds: float,
    runs: int,
) -> dict[str, Any]:
    token, cookie = users[0]
    bearer = {"Authorization": f"Bearer {token}"}
    vendor_requests: list[dict[str, Any]] = []
    for q in (*VENDOR_QUERIES, supplier_name):
        params = {"index": "vendors", "q": q, "facets": VENDOR_FACETS, "limit": "20"}
        url = f"{base}/api/v1/search?{urlencode(params)}"
        vendor_requests.append({"label": f"ours: {q}", "method": "GET", "url": url, "headers": bearer})
        if datasette:
            ds = [("_search", q), ("_size", "20"), ("_facet", "rating_band"), ("_facet", "has_pilots")]
            ds += [("_facet_array", a) for a in VENDOR_ARRAYS]
            url = f"{datasette}/bench/suppliers.json?{urlencode(ds)}"
            vendor_requests.append({"label": f"datasette: {q}", "method": "GET", "url": url})
    review_requests = []
    for q in (*REVIEW_QUERIES, supplier_name):
        params = {"index": "reviews", "q": q, "facets": REVIEW_FACETS, "attributesToHighlight": REVIEW_TEXT}
        url = f"{base}/api/v1/search?{urlencode(params)}"
        review_requests.append({"label": f"ours: {q}", "method": "GET", "url": url, "headers": bearer})
    page_requests = [
        {
            "label": f"ours: /vendors/{slug}",
            "method": "GET",
            "url": f"{base}/vendors/{slug}",
            "headers": {"Cookie": f"si_session={cookie}"},
        }
        for slug in slugs
    ]
    page_requests.append(
        {
            "label": f"ours: /vendors/{slugs[0]}?service_area=Housing&sort=lowest",
            "method": "GET",
            "url": f"{base}/vendors/{slugs[0]}?service_area=Housing&sort=lowest",
            "headers": {"Cookie": f"si_session={cookie}"},
        }
    )
    submit_requests = []
    for number, (user_token, _) in enumerate(users):
        body: dict[str, Any] = {
            "supplier": slugs[number % len(slugs)],
            "relationship": "live_contract",
            "service_area": "Housing",
            "time_used": "1 to 2 years",
            "implementation": 4,
            "customisation_cost": 3,
            "fit": 4,
            "support": 3,
            "value": 4,
            "partnership": 3,
            "data_exit": None,
            "overall": 7,
            "recommend": True,
            "headline": "Reliable housing repairs scheduling, slow to change",
            "worked_well": "Repairs appointments are booked online by residents, and the housing officers like the "
            "mobile app. The data migration from our old system was rehearsed twice and went smoothly.",
            "did_not_work": "Every change to the repairs workflow went to the supplier as a chargeable request.",
            "advice": "Agree a pot of configuration days in the contract, and write open APIs into the specification.",
        }
        if number % 5 == 4:
            body["advice"] += " " + FLAGGED_ADVICE
        headers = {"Authorization": f"Bearer {user_token}"}
        label = "ours: POST /api/v1/reviews" + (" (with a finding)" if number % 5 == 4 else "")
        submit_requests.append(
            {
                "label": label,
                "method": "POST",
                "url": f"{base}/api/v1/reviews",
                "headers": headers,
                "json": body,
                "ok": [201],
            }
        )
    measures: list[dict[str, Any]] = [
        {"name": VENDORS, "requests": vendor_requests},
        {"name": REVIEWS, "requests": review_requests},
        {"name": PAGE, "requests": page_requests},
        {"name": SUBMIT, "requests": submit_requests},
    ]
    for measure in measures:
        measure |= {"seconds": seconds, "max_runs": runs * (2 if measure["name"] == VENDORS and datasette else 1)}
    return {"measures": measures}


def run_load(load_spec: dict[str, Any], name: str) -> dict[str, Measured]:
    spec_path, out_path = WORKDIR / f"load-{name}.json", WORKDIR / f"load-{name}-result.json"
    spec_path.write_text(json.dumps(load_spec))
    subprocess.run([sys.executable, "-m", "bench.load", str(spec_path), str(out_path)], cwd=PROJECT_ROOT, check=True)
    raw = json.loads(out_path.read_text())
    return {name: Measured(**values) for name, values in raw.items()}


# Profile


def profile(
    env: dict[str, str], request: dict[str, Any], base: str
) -> tuple[int, list[tuple[str, int, float, float]], float]:
    """cProfile of one request served in-process (test client, same app and database): rows per run, wall ms a run.

    The app runs in the test client's threads (event loop, worker threads for sync routes), so every thread started
    while profiling gets its own profiler, and their statistics are added up.
    """
    import threading

    from fastapi.testclient import TestClient

    from app.db import get_engine
    from app.main import create_app

    saved = dict(os.environ)
    os.environ.update(env)
    os.environ["BASE_URL"] = "http://testserver"
    get_settings.cache_clear()
    get_engine.cache_clear()
    url = request["url"].replace(base, "")
    profilers: list[cProfile.Profile] = []

    def start_profiler(*_: Any) -> None:
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.enable()  # replaces this hook in the new thread

    def call(client: TestClient) -> None:
        client.request(request["method"], url, headers=request.get("headers"), json=request.get("json"))

    try:
        app = create_app()
        with TestClient(app, base_url="http://testserver") as client:  # warm-up, outside the profile
            for _ in range(3):
                call(client)
        threading.setprofile(start_profiler)
        runs, elapsed = 0, 0.0
        try:
            with TestClient(app, base_url="http://testserver") as client:
                while runs < 30 and (runs < 5 or elapsed < 10):
                    before = time.perf_counter()
                    call(client)
                    elapsed += time.perf_counter() - before
                    runs += 1
        finally:
            threading.setprofile(None)
        for profiler in profilers:
            profiler.disable()
        dump = WORKDIR / "http-profile.pstats"
        stats = pstats.Stats(profilers[0])
        for profiler in profilers[1:]:
            stats.add(profiler)
        stats.dump_stats(dump)
        rows = []
        for (filename, line, function), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            if function in IDLE:
                continue
            where = function if filename == "~" else f"{_short(filename)}:{line} {function}"
            rows.append((where, int(nc), tt * 1000 / runs, ct * 1000 / runs))
        return runs, rows, elapsed * 1000 / runs
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
        get_engine.cache_clear()


# Threads waiting for work, not working: left out of the profile's tables.
IDLE = {
    "<method 'acquire' of '_thread.lock' objects>",
    "<method 'select' of 'select.epoll' objects>",
    "<method 'poll' of 'select.epoll' objects>",
    "<method 'wait' of '_thread.lock' objects>",
    "<built-in method _thread.start_new_thread>",
}


def _short(filename: str) -> str:
    path = Path(filename)
    if "site-packages" in path.parts:
        return "/".join(path.parts[path.parts.index("site-packages") + 1 :])
    if path.is_relative_to(PROJECT_ROOT):
        return str(path.relative_to(PROJECT_ROOT))
    return "/".join(path.parts[-2:])


# One database


def run_database(
    run: Run,
    url: str,
    extra_env: dict[str, str],
    args: argparse.Namespace,
    console: Any,
    *,
    datasette_bin: Path | None,
) -> tuple[dict[str, str], dict[str, Any] | None]:
    from app.cli import progress_bar
    from app.db import make_engine
    from app.search import documents, indexer
    from app.search.service import backend_for

    os.environ.update({"DATABASE_URL": url, "MEILI_URL": "", **extra_env})
    get_settings.cache_clear()
    engine = make_engine(url)
    console.print(f"[bold]{run.name}[/bold]: corpus of {args.reviews:,} reviews in {run.url_shown}")
    with progress_bar() as progress:
        run.corpus = build_corpus(
            engine,
            database=Path(engine.url.database or ""),
            data_dir=get_settings().REFERENCE_DATA_DIR,
            reviews=args.reviews,
            suppliers=args.suppliers,
            pilots=args.pilots,
            seed=args.seed,
            progress=progress,
            screened=True,
        )
        backend, _ = backend_for(engine)
        with Session(engine) as session:
            for index in (documents.VENDORS, documents.PILOTS, documents.REVIEWS):
                before = time.perf_counter()
                count = indexer.reindex(session, backend, index=index, progress=progress)
                run.reindex[index] = (count, time.perf_counter() - before)
    secret = secrets.token_urlsafe(48)
    settings = Settings(APP_ENV="production", SECRET_KEY=secret, DATABASE_URL=url, MEILI_URL=None)
    users = bench_users(engine, settings)
    slugs = suppliers_to_visit(engine)
    name = top_name(engine)
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secret,
        "DATABASE_URL": url,
        "MEILI_URL": "",
        **extra_env,
    }
    datasette = None
    if datasette_bin is not None:
        database = WORKDIR / "bench.db"  # served as /bench
        exported = export_suppliers(engine, database)
        console.print(f"  Datasette: {exported:,} suppliers exported to {database.relative_to(PROJECT_ROOT)}")
        datasette = datasette_server(datasette_bin, database, WORKDIR / "datasette.log")
    server = our_server(env, WORKDIR / f"server-{run.name.lower()}.log")
    slowest: dict[str, Any] | None = None
    try:
        server.wait_ready()
        if datasette is not None:
            datasette.wait_ready()
        load_spec = spec(
            server.base, users, slugs, name, datasette.base if datasette else None, seconds=args.seconds, runs=args.runs
        )
        console.print("  load: " + ", ".join(m["name"] for m in load_spec["measures"]))
        run.measures = run_load(load_spec, run.name.lower())
        run.peak_mb = memory_mb(server.process.pid, "VmHWM")
        for measure in load_spec["measures"]:
            run.labels[measure["name"]] = [r["label"] for r in measure["requests"]]
        worst_measure = max(TARGETS, key=lambda m: percentile(run.measures[m].all("ours"), 95) / TARGETS[m][1])
        by_label = {r["label"]: r for m in load_spec["measures"] for r in m["requests"]}
        worst_label = max(
            (label for label in run.measures[worst_measure].latencies if label.startswith("ours")),
            key=lambda label: percentile(run.measures[worst_measure].latencies[label], 50),
        )
        slowest = {"measure": worst_measure, "request": by_label[worst_label], "base": server.base}
        for measure_name, measured in run.measures.items():
            ours = measured.all("ours")
            console.print(
                f"  {measure_name}: p50 {percentile(ours, 50):.1f} ms, p95 {percentile(ours, 95):.1f} ms, "
                f"{measured.error_count('ours')} errors"
            )
    finally:
        server.stop()
        if datasette is not None:
            datasette.stop()
        engine.dispose()
    return {
        k: v for k, v in env.items() if k in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "MEILI_URL", *extra_env)
    }, slowest


# Report


def _ms(value: float) -> str:
    if value != value:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def render(runs: list[Run], args: argparse.Namespace, argv: list[str], started: datetime, seconds: float,
           profiled: tuple[str, str, int, list[tuple[str, int, float, float]], float] | None) -> str:  # fmt: skip
    lines: list[str] = []
    add = lines.append
    size = 1_000_000 if args.reviews >= 1_000_000 else 200_000
    column = 2 if size == 1_000_000 else 1
    add("# Benchmarks: the service over HTTP")
    add("")
    add(
        "Written by `make bench` (`bench/http.py`); rerun it to refresh this page, which the next run replaces. "
        "Targets are the performance bars of `../shared/design/quality.md`; the search engine's own benchmark is "
        "in [benchmarks.md](benchmarks.md)."
    )
    add("")
    add(f"Run on {started:%Y-%m-%d %H:%M} UTC, in {seconds / 60:.1f} minutes.")
    add("")
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    for key, value in machine().items():
        add(f"| {key} | {value} |")
    for run in runs:
        if run.name == "PostgreSQL" and not run.error:
            add(f"| PostgreSQL | {postgres_version(args.postgres)} |")
    add("")
    add("The machine was shared with other work while this ran: figures are indicative, not a clean-room measurement.")
    add("")
    add("## Commands")
    add("")
    add("```sh")
    add(f"make bench{'' if args.reviews == 200_000 else f' REVIEWS={args.reviews}'}")
    add(f"# runs: .venv/bin/python -m bench.http {' '.join(argv)}".rstrip())
    if args.reviews != 20_000:
        add("make bench REVIEWS=20000   # a quick run")
    add(
        ".venv/bin/supplier-intel bench-corpus --reviews 200000 --database-url sqlite:///var/bench/corpus.db"
        "  # the corpus only"
    )
    add("```")
    add("")
    corpus = next((r.corpus for r in runs if r.corpus), None)
    if corpus is not None:
        add("## Corpus")
        add("")
        add(
            f"`bench/corpus.py`, seed {args.seed}: {corpus.current_councils} current councils with their domains, "
            f"{corpus.real_suppliers + corpus.generated_suppliers:,} suppliers ({corpus.real_suppliers} real G-Cloud "
            f"suppliers described from their sales, {corpus.generated_suppliers:,} generated) with "
            f"{corpus.products:,} products, {corpus.officers:,} officers across the councils, **{corpus.reviews:,} "
            f"reviews** and {corpus.pilots:,} pilots. Screened as at submission: {corpus.findings:,} findings, "
            f"{corpus.pending:,} contributions waiting for a moderator. Building took "
            + ", ".join(f"{k} {v:.0f} s" for k, v in corpus.seconds.items())
            + "."
        )
        add("")
    add("## Against the targets")
    add("")
    note = (
        ""
        if args.reviews in (200_000, 1_000_000)
        else (
            f" This run has {args.reviews:,} reviews, not the {size:,} the targets are set for: a miss here is a "
            "miss there too, a pass here does not yet show a pass there."
        )
    )
    add(f"p95 over HTTP on loopback, one uvicorn worker, warm, one request at a time.{note}")
    add("")
    header = "| measure | target |" + "".join(f" {r.name} |" for r in runs)
    add(header)
    add("|---|---|" + "---|" * len(runs))
    for key, (label, *targets) in TARGETS.items():
        target = targets[column - 1]
        cells = []
        for run in runs:
            measured = run.measures.get(key)
            if measured is None:
                cells.append(run.error or "–")
                continue
            ours = measured.all("ours")
            p95 = percentile(ours, 95)
            ok = p95 <= target and measured.error_count("ours") == 0
            cells.append(f"p95 {_ms(p95)} ms, {measured.error_count('ours')} errors: {'meets' if ok else '**misses**'}")
        add(f"| {label} | p95 ≤ {target:.0f} ms |" + "".join(f" {c} |" for c in cells))
    cells = []
    for run in runs:
        if not run.reindex:
            cells.append(run.error or "–")
            continue
        docs = sum(c for c, _ in run.reindex.values())
        secs = sum(s for _, s in run.reindex.values())
        rate = docs / secs if secs else 0
        cells.append(
            f"{rate:,.0f} documents/s ({docs:,} in {secs:.0f} s): {'meets' if rate >= REINDEX_TARGET else '**misses**'}"
        )
    add(f"| full reindex | ≥ {REINDEX_TARGET:,.0f} documents/s |" + "".join(f" {c} |" for c in cells))
    memory_target = MEMORY_TARGET[size]
    cells = [
        f"{r.peak_mb:,.0f} MB: {'meets' if r.peak_mb <= memory_target else '**misses**'}"
        if r.peak_mb
        else (r.error or "–")
        for r in runs
    ]
    add(f"| peak memory of the server (VmHWM) | ≤ {memory_target:,.0f} MB |" + "".join(f" {c} |" for c in cells))
    add("")
    for run in runs:
        if not run.measures:
            continue
        add(f"## Every request: {run.name}")
        add("")
        add("| measure | request | runs | p50 ms | p95 ms | p99 ms | req/s | errors |")
        add("|---|---|---:|---:|---:|---:|---:|---:|")
        for name, measured in run.measures.items():
            for label, values in measured.latencies.items():
                if not label.startswith("ours"):
                    continue
                rate = len(values) / sum(values) if values else 0
                errors = measured.errors[label]
                shown = f"{errors} ({', '.join(map(str, measured.error_statuses.get(label, [])))})" if errors else "0"
                add(
                    f"| {name} | `{label.removeprefix('ours: ')}` | {len(values)} | {_ms(percentile(values, 50))} | "
                    f"{_ms(percentile(values, 95))} | {_ms(percentile(values, 99))} | {rate:.1f} | {shown} |"
                )
            ours = measured.all("ours")
            add(
                f"| {name} | **all** | {len(ours)} | {_ms(percentile(ours, 50))} | {_ms(percentile(ours, 95))} | "
                f"{_ms(percentile(ours, 99))} | {len(ours) / sum(ours) if ours else 0:.1f} | "
                f"{measured.error_count('ours')} |"
            )
        add("")
        add(
            "req/s is one client's rate, one request at a time (1 / mean latency): the single worker's throughput "
            "for that request, client overhead included."
        )
        add("")
    sqlite_run = next((r for r in runs if r.name == "SQLite" and r.measures), None)
    if sqlite_run is not None and any(k.startswith("datasette") for k in sqlite_run.measures[VENDORS].latencies):
        measured = sqlite_run.measures[VENDORS]
        add("## Beside Datasette")
        add("")
        add(
            "The same supplier table (our vendor documents: name, description, aliases, products, categories, "
            "regions, council types, service areas, score, rating band, pilots) exported to SQLite with an FTS5 index "
            "(`sqlite-utils enable-fts`), served by `datasette serve` (one process, `suggest_facets` off, 20 rows), "
            "queried as `/bench/suppliers.json?_search=…&_facet=rating_band&_facet=has_pilots&_facet_array=categories"
            "&_facet_array=regions&_facet_array=council_types&_facet_array=service_areas`. Ours: `/api/v1/search?"
            f"index=vendors&q=…&facets={VENDOR_FACETS}` (typo tolerance, synonyms, ranking, the check on read). The "
            "two alternate request by request in the same run. A ratio under 1 means we are faster."
        )
        add("")
        add("| query | ours p50 ms | Datasette p50 ms | ours p95 ms | Datasette p95 ms | ratio p50 | ratio p95 |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        for label in measured.latencies:
            if not label.startswith("ours: "):
                continue
            q = label.removeprefix("ours: ")
            ours, theirs = measured.latencies[label], measured.latencies.get(f"datasette: {q}", [])
            add(
                f"| {q} | {_ms(percentile(ours, 50))} | {_ms(percentile(theirs, 50))} | {_ms(percentile(ours, 95))} | "
                f"{_ms(percentile(theirs, 95))} | {percentile(ours, 50) / percentile(theirs, 50):.2f} | "
                f"{percentile(ours, 95) / percentile(theirs, 95):.2f} |"
            )
        ours, theirs = measured.all("ours"), measured.all("datasette")
        add(
            f"| **overall** | {_ms(percentile(ours, 50))} | {_ms(percentile(theirs, 50))} | "
            f"{_ms(percentile(ours, 95))} | "
            f"{_ms(percentile(theirs, 95))} | **{percentile(ours, 50) / percentile(theirs, 50):.2f}** | "
            f"**{percentile(ours, 95) / percentile(theirs, 95):.2f}** |"
        )
        add("")
        add(f"Datasette errors: {measured.error_count('datasette')}.")
        add("")
    if profiled is not None:
        measure, label, runs_done, rows, total = profiled
        add("## Where time goes")
        add("")
        add(
            f"The measure furthest above its target was **{measure}**; its slowest request, `{label}`, profiled "
            f"in-process with cProfile over {runs_done} runs through FastAPI's test client (same app, same database, "
            f"every thread; {total:,.0f} ms a run under the profiler, which slows Python code down: the shares are "
            "what matters; threads waiting for work are left out). "
            "Raw profile: `var/bench/http-profile.pstats` (`python -m pstats`)."
        )
        add("")
        add("By own time (without what they call), per run:")
        add("")
        add("| function | calls | own ms | share |")
        add("|---|---:|---:|---:|")
        for where, calls, own, _ in sorted(rows, key=lambda r: -r[2])[:15]:
            add(f"| `{where}` | {calls / runs_done:,.0f} | {own:,.1f} | {own / total:.0%} |")
        add("")
        add("Our code by cumulative time (with what it calls), per run:")
        add("")
        add("| function | calls | cumulative ms | share |")
        add("|---|---:|---:|---:|")
        ours_rows = [r for r in rows if r[0].startswith(("app/", "templates/"))]
        for where, calls, _, cumulative in sorted(ours_rows, key=lambda r: -r[3])[:15]:
            add(f"| `{where}` | {calls / runs_done:,.0f} | {cumulative:,.1f} | {cumulative / total:.0%} |")
        add("")
    return "\n".join(lines) + "\n"


def postgres_version(url: str) -> str:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except psycopg.Error:
        return "unknown"


# The run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reviews", type=int, default=200_000, help="reviews (default 200,000; 1,000,000 possible)")
    parser.add_argument("--suppliers", type=int, default=5_000)
    parser.add_argument("--pilots", type=int, help="pilots (default 20,000, or a tenth of the reviews if fewer)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per measure")
    parser.add_argument("--runs", type=int, default=400, help="request limit per measure")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL server (a database is created and dropped)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--output", type=Path, default=DOC)
    parser.add_argument("--keep", action="store_true", help="keep the SQLite corpus afterwards")
    args = parser.parse_args(argv)
    arguments = list(sys.argv[1:] if argv is None else argv)
    if args.pilots is None:
        args.pilots = min(20_000, max(args.reviews // 10, 1))

    from rich.console import Console

    console = Console()
    began, started = time.perf_counter(), datetime.now(UTC)
    WORKDIR.mkdir(parents=True, exist_ok=True)
    datasette_bin = None if args.no_datasette else datasette_ready(console)

    runs: list[Run] = []
    profiled = None
    database = WORKDIR / f"http-{args.reviews}.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    sqlite_run = Run("SQLite", str(database.relative_to(PROJECT_ROOT)))
    runs.append(sqlite_run)
    env, slowest = run_database(sqlite_run, f"sqlite:///{database}", {}, args, console, datasette_bin=datasette_bin)
    if slowest is not None:
        console.print(f"[bold]Profile[/bold]: {slowest['measure']}, {slowest['request']['label']}")
        run_count, rows, total = profile(env, slowest["request"], slowest["base"])
        profiled = (slowest["measure"], slowest["request"]["label"].removeprefix("ours: "), run_count, rows, total)
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)

    if not args.no_postgres:
        import psycopg

        name = f"si_bench_{uuid.uuid4().hex[:8]}"
        base, _, _ = args.postgres.rpartition("/")
        pg_run = Run("PostgreSQL", f"{base.split('@')[-1]}/{name}")
        runs.append(pg_run)
        index_path = WORKDIR / "http-pg-search-index.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{index_path}{suffix}").unlink(missing_ok=True)
        try:
            with psycopg.connect(args.postgres, autocommit=True, connect_timeout=3) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
        except psycopg.Error as error:
            pg_run.error = f"not run: PostgreSQL at {args.postgres} did not answer ({str(error).splitlines()[0]})"
            console.print(f"[yellow]{pg_run.error}[/yellow]")
        else:
            try:
                run_database(
                    pg_run, f"{base}/{name}", {"SEARCH_INDEX_PATH": str(index_path)}, args, console, datasette_bin=None
                )
            finally:
                with psycopg.connect(args.postgres, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{index_path}{suffix}").unlink(missing_ok=True)

    seconds = time.perf_counter() - began
    args.output.write_text(render(runs, args, arguments, started, seconds, profiled))
    console.print(f"Wrote {args.output} in {seconds / 60:.1f} minutes.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
