"""Soak: the benchmark's mixed load for several minutes from several clients at once; zero errors, stable memory.

Run it with `make soak` (5 minutes, 4 clients, 20,000 reviews) or `python -m bench.soak --minutes 10 --clients 8`.
It rewrites `docs/benchmarks-soak.md` and exits non-zero when a request failed or memory kept growing.

1. A corpus (`bench/corpus.py`, screened, as `make bench` builds it) in a fresh SQLite file under `var/bench/`, indexed.
2. Our server: uvicorn, one worker, on a free loopback port (`bench.http.our_server`).
3. Load: `--clients` processes of `bench/load.py` at once, each sending the four measures of `make bench` mixed
   together (vendor search, review search with highlights, the vendor page, submitting a review; one submission in
   five carries a finding) one request after another for `--minutes`.
4. The server's resident memory (VmRSS) is sampled every few seconds. Memory is called stable when the mean of the
   last quarter of the samples is within 10% (or 25 MB) of the mean of the second quarter: the first quarter is
   warm-up (caches filling), after which a leak would keep climbing.
"""

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean
from typing import Any

from sqlmodel import Session

from app.config import PROJECT_ROOT, Settings, get_settings
from bench.corpus import build_corpus
from bench.http import (
    WORKDIR,
    bench_users,
    memory_mb,
    our_server,
    percentile,
    spec,
    suppliers_to_visit,
    top_name,
)
from bench.search import machine

DOC = PROJECT_ROOT / "docs" / "benchmarks-soak.md"
SAMPLE_SECONDS = 5.0
GROWTH_ALLOWED = 0.10
GROWTH_ALLOWED_MB = 25.0


def mixed(load_spec: dict[str, Any], seconds: float) -> dict[str, Any]:
    """One measure holding every request of the benchmark's measures, interleaved, for `seconds`."""
    lists = [
        [{**request, "label": f"{measure['name']} | {request['label']}"} for request in measure["requests"]]
        for measure in load_spec["measures"]
    ]
    longest = max(len(requests) for requests in lists)
    interleaved = [requests[i % len(requests)] for i in range(longest) for requests in lists]
    return {"measures": [{"name": "mixed", "requests": interleaved, "seconds": seconds, "max_runs": 10**9}]}


def memory_is_stable(samples: Sequence[float]) -> tuple[bool, float, float]:
    """(stable, mean of the second quarter, mean of the last quarter) of the memory samples, in MB."""
    quarter = max(1, len(samples) // 4)
    settled, last = mean(samples[quarter : 2 * quarter] or samples), mean(samples[-quarter:])
    return last - settled <= max(settled * GROWTH_ALLOWED, GROWTH_ALLOWED_MB), settled, last


def build(reviews: int, seed: int, database: Path) -> str:
    from app.cli import progress_bar
    from app.db import make_engine
    from app.search import documents, indexer
    from app.search.service import backend_for

    for stale in database.parent.glob(database.name + "*"):
        stale.unlink()
    url = f"sqlite:///{database}"
    os.environ.update({"DATABASE_URL": url, "MEILI_URL": ""})
    get_settings.cache_clear()
    engine = make_engine(url)
    try:
        with progress_bar() as progress:
            build_corpus(
                engine,
                database=database,
                data_dir=get_settings().REFERENCE_DATA_DIR,
                reviews=reviews,
                suppliers=5_000,
                pilots=min(20_000, max(reviews // 10, 1)),
                seed=seed,
                progress=progress,
                screened=True,
            )
            backend, _ = backend_for(engine)
            with Session(engine) as session:
                for index in (documents.VENDORS, documents.PILOTS, documents.REVIEWS):
                    indexer.reindex(session, backend, index=index, progress=progress)
    finally:
        engine.dispose()
    return url


def run(args: argparse.Namespace) -> dict[str, Any]:
    from app.db import make_engine

    WORKDIR.mkdir(parents=True, exist_ok=True)
    database = WORKDIR / "soak.db"
    print(f"corpus: {args.reviews:,} reviews in {database.relative_to(PROJECT_ROOT)}", flush=True)
    url = build(args.reviews, args.seed, database)
    secret = secrets.token_urlsafe(48)
    settings = Settings(APP_ENV="production", SECRET_KEY=secret, DATABASE_URL=url, MEILI_URL=None)
    engine = make_engine(url)
    try:
        users, slugs, name = bench_users(engine, settings), suppliers_to_visit(engine), top_name(engine)
    finally:
        engine.dispose()
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secret, "DATABASE_URL": url, "MEILI_URL": ""}
    server = our_server(env, WORKDIR / "server-soak.log")
    seconds = args.minutes * 60
    samples: list[tuple[float, float]] = []
    try:
        server.wait_ready()
        load = mixed(spec(server.base, users, slugs, name, None, seconds=seconds, runs=10**9), seconds)
        clients = []
        for number in range(args.clients):
            spec_path, result_path = WORKDIR / f"soak-{number}.json", WORKDIR / f"soak-{number}-result.json"
            spec_path.write_text(json.dumps(load))
            command = [sys.executable, "-m", "bench.load", str(spec_path), str(result_path)]
            clients.append((subprocess.Popen(command, cwd=PROJECT_ROOT), result_path))
        started = time.monotonic()
        print(f"load: {args.clients} clients for {args.minutes:g} minutes against {server.base}", flush=True)
        while any(process.poll() is None for process, _ in clients):
            samples.append((time.monotonic() - started, memory_mb(server.process.pid, "VmRSS")))
            time.sleep(SAMPLE_SECONDS)
        for process, _ in clients:
            if process.returncode != 0:
                raise RuntimeError(f"a load client failed with exit code {process.returncode}")
        peak = memory_mb(server.process.pid, "VmHWM")
        alive = server.process.poll() is None
    finally:
        server.stop()
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    statuses: dict[str, list[int]] = {}
    for _, result_path in clients:
        result = json.loads(result_path.read_text())["mixed"]
        for label, values in result["latencies"].items():
            measure = label.split(" | ")[0]
            latencies.setdefault(measure, []).extend(values)
            errors[measure] = errors.get(measure, 0) + result["errors"][label]
            statuses.setdefault(measure, []).extend(result["error_statuses"].get(label, []))
    return {
        "latencies": latencies,
        "errors": errors,
        "statuses": statuses,
        "samples": samples,
        "peak": peak,
        "server_alive": alive,
    }


def render(results: dict[str, Any], args: argparse.Namespace, argv: Sequence[str], started: datetime) -> str:
    rss = [mb for _, mb in results["samples"]]
    stable, settled, last = memory_is_stable(rss)
    total = sum(len(values) for values in results["latencies"].values())
    failed = sum(results["errors"].values())
    seconds = args.minutes * 60
    lines = [
        "# Soak test",
        "",
        "Written by `make soak` (`bench/soak.py`); rerun it to refresh this page. Do not edit by hand.",
        "",
        f"Run on {started:%Y-%m-%d %H:%M} UTC: {args.clients} clients at once, each sending the mixed load of "
        f"`make bench` one request after another for {args.minutes:g} minutes, against one uvicorn worker on loopback, "
        f"on a SQLite corpus of {args.reviews:,} reviews (seed {args.seed}).",
        "",
        *([args.note, ""] if args.note else []),
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in machine().items()],
        "",
        "## Command",
        "",
        "```sh",
        "make soak" if not argv else f"python -m bench.soak {' '.join(argv)}",
        "```",
        "",
        "## Result",
        "",
        f"- **{total:,} requests, {failed} failed** ({total / seconds:.1f} requests/s over the run); "
        f"the server {'was still running' if results['server_alive'] else 'had stopped'} at the end.",
        f"- **Memory {'stable' if stable else 'still growing'}**: resident memory averaged {settled:.0f} MB in the "
        f"second quarter of the run and {last:.0f} MB in the last quarter (allowed growth: 10% or 25 MB); "
        f"peak {results['peak']:.0f} MB (VmHWM); {len(rss)} samples, every {SAMPLE_SECONDS:g} s.",
        "",
        "| measure | requests | failed | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|",
    ]
    for measure, values in sorted(results["latencies"].items()):
        lines.append(
            f"| {measure} | {len(values):,} | {results['errors'][measure]} | {percentile(values, 50):.0f} ms | "
            f"{percentile(values, 95):.0f} ms | {percentile(values, 99):.0f} ms |"
        )
    failures = {m: s for m, s in results["statuses"].items() if s}
    if failures:
        lines += ["", "First failing statuses (0: no answer): " + "; ".join(f"{m}: {s}" for m, s in failures.items())]
    lines += [
        "",
        "## Memory over the run",
        "",
        "| minute | resident memory |",
        "|---|---|",
    ]
    shown = -1
    for elapsed, mb in results["samples"]:
        if int(elapsed // 30) > shown:  # one line every 30 s
            shown = int(elapsed // 30)
            lines.append(f"| {elapsed / 60:.1f} | {mb:.0f} MB |")
    lines += [
        "",
        "The latencies are those of several clients sharing one worker on a 2-core machine, so they are higher than "
        "the single-client figures of [the HTTP benchmark](benchmarks-http.md); this run checks errors and memory, "
        "not speed.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--reviews", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=DOC)
    parser.add_argument("--note", default="", help="a sentence about the conditions of the run, shown on the page")
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    results = run(args)
    args.output.write_text(render(results, args, list(argv or sys.argv[1:]), started))
    stable, settled, last = memory_is_stable([mb for _, mb in results["samples"]])
    failed = sum(results["errors"].values())
    print(f"{failed} failed requests; memory {settled:.0f} MB -> {last:.0f} MB ({'stable' if stable else 'growing'})")
    print(f"written to {args.output}")
    return 0 if failed == 0 and stable and results["server_alive"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
