"""Crash durability: a review the service acknowledged survives SIGKILL of the server, published and findable.

Several clients submit reviews through the JSON API at once; the server is killed with SIGKILL while they are still
writing, then started again on the same database. Every review that was answered 201 must be there with the state
it was acknowledged in, and the published ones must be found by search. The second test does the same with the
search outbox pointed at a Meilisearch that does not answer: writes still succeed, and once a Meilisearch answers,
`supplier-intel drain-search` hands it every acknowledged document.
"""

import os
import random
import shutil
import signal
import sqlite3
import string
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.browser import COMMAND, SECRET, STARTUP_SECONDS, LiveServer, _free_port
from tests.search.test_meili import FakeMeili, _handler

CLIENTS = 4
NEW_OFFICERS = ["first.writer@harrow.gov.uk", "second.writer@leeds.gov.uk"]  # their reviews wait for a moderator
DIMENSIONS = ("implementation", "customisation_cost", "fit", "support", "value", "partnership", "data_exit")
KILL_AFTER_ACKNOWLEDGED = 24  # the kill comes once this many reviews were acknowledged, with clients still writing


@dataclass
class Acknowledged:
    review_id: int
    status: str
    word: str  # a made-up word in the headline, found by search only in this review
    token: str  # the author's, who may read it while it waits for a moderator


@dataclass
class Run:
    acknowledged: list[Acknowledged] = field(default_factory=list)
    failures_after_kill: int = 0
    unexpected: list[str] = field(default_factory=list)  # answers other than 201 while the server was up
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


def _environment(workdir: Path, port: int, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("MEILI_URL", "MEILI_MASTER_KEY", "SMTP_HOST"):
        env.pop(name, None)
    env.update(
        APP_ENV="development",
        SECRET_KEY=SECRET,
        DATABASE_URL=f"sqlite:///{workdir / 'durable.db'}",
        SEARCH_INDEX_PATH=str(workdir / "search-index.db"),
        BASE_URL=f"http://127.0.0.1:{port}",
        PORT=str(port),
        **extra,
    )
    return env


@contextmanager
def _serve(live: LiveServer, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The server as its own process; yields it once it answers. Left running if the test killed it already."""
    log = (live.workdir / f"server-{time.monotonic_ns()}.log").open("w+b")
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port)], env=live.env, cwd=live.workdir, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{live.url}/api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"The server did not start:\n{log.read().decode(errors='replace')}")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        log.close()


def _officers(live: LiveServer, database: Path) -> list[str]:
    """Bearer tokens for demo officers: some trusted (their reviews publish at once), some still pre-moderated."""
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "SELECT u.email, (SELECT count(*) FROM review r WHERE r.author_id = u.id AND r.status = 'published') "
            "FROM app_user u WHERE u.role = 'officer' ORDER BY u.id"
        ).fetchall()
    trusted = [email for email, published in rows if published >= 3][:2]
    assert len(trusted) == 2, f"the demo data should have trusted officers: {rows}"
    return [live.cli("api-token", email).strip() for email in trusted + NEW_OFFICERS]


def _supplier_slug(database: Path) -> str:
    with closing(sqlite3.connect(database)) as db:
        (slug,) = db.execute("SELECT slug FROM supplier WHERE status = 'published' ORDER BY id LIMIT 1").fetchone()
    return str(slug)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(12))


def _submit(url: str, token: str, slug: str, run: Run, seed: int, killed: threading.Event) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        while not run.stop.is_set():
            word = _word(rng)
            body = {
                "supplier": slug,
                "relationship": "live_contract",
                "service_area": "Housing",
                "overall": rng.randint(1, 10),
                "recommend": True,
                **{dimension: rng.randint(1, 5) for dimension in DIMENSIONS},
                "headline": f"Steady rollout {word}",
                "worked_well": "The data migration went to plan and the trainers knew the housing service.",
            }
            try:
                response = client.post("/api/v1/reviews", json=body)
            except httpx.HTTPError:
                with run.lock:
                    if killed.is_set():
                        run.failures_after_kill += 1
                    else:
                        run.unexpected.append(f"connection failed before the kill: {word}")
                time.sleep(0.05)
                continue
            with run.lock:
                if response.status_code == 201:
                    answer = response.json()
                    run.acknowledged.append(Acknowledged(answer["id"], answer["status"], word, token))
                elif not killed.is_set():
                    run.unexpected.append(f"{response.status_code}: {response.text[:300]}")


def _write_and_kill(live: LiveServer, port: int, tokens: list[str], slug: str) -> Run:
    run, killed = Run(), threading.Event()
    with _serve(live, port) as process:
        threads = [
            threading.Thread(target=_submit, args=(live.url, token, slug, run, seed, killed), daemon=True)
            for seed, token in enumerate(tokens)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(run.acknowledged) < KILL_AFTER_ACKNOWLEDGED:
            assert time.monotonic() < deadline, "the clients could not write"
            assert not run.unexpected, run.unexpected
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        killed.set()
        process.wait(timeout=10)
        time.sleep(0.3)  # the clients meet the dead server
        run.stop.set()
        for thread in threads:
            thread.join(timeout=15)
    assert not run.unexpected, run.unexpected
    return run


def _check_everything_is_there(live: LiveServer, run: Run) -> None:
    with httpx.Client(base_url=live.url, timeout=10) as client:
        for review in run.acknowledged:
            client.headers["Authorization"] = f"Bearer {review.token}"
            found = client.get(f"/api/v1/reviews/{review.review_id}")
            assert found.status_code == 200, f"acknowledged review {review.review_id} is lost"
            assert found.json()["headline"].endswith(review.word)
            expected = "published" if review.status == "published" else "pending"
            assert found.json()["status"] == expected
            if review.status == "published":
                hits = client.get("/api/v1/search", params={"q": review.word, "index": "reviews"}).json()["hits"]
                assert [hit["id"] for hit in hits] == [str(review.review_id)], f"search lost {review.word}"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the reference and demo data and two new officers, built once and copied by each test."""
    workdir = tmp_path_factory.mktemp("durable-template")
    live = LiveServer(url="http://127.0.0.1:1", env=_environment(workdir, 1), workdir=workdir)
    live.cli("init")
    live.cli("seed-demo")
    for email in NEW_OFFICERS:
        live.cli("create-user", email)
    return workdir


def _prepare(template: Path, workdir: Path, **extra: str) -> tuple[LiveServer, int, list[str], str]:
    for path in template.glob("*.db*"):  # the database, and its write-ahead log if one was left
        shutil.copyfile(path, workdir / path.name)
    port = _free_port()
    live = LiveServer(url=f"http://127.0.0.1:{port}", env=_environment(workdir, port, **extra), workdir=workdir)
    database = workdir / "durable.db"
    return live, port, _officers(live, database), _supplier_slug(database)


def test_acknowledged_reviews_survive_sigkill_published_and_findable(prepared: Path, tmp_path: Path) -> None:
    live, port, tokens, slug = _prepare(prepared, tmp_path)
    run = _write_and_kill(live, port, tokens, slug)
    assert len(run.acknowledged) >= KILL_AFTER_ACKNOWLEDGED
    assert {review.status for review in run.acknowledged} == {"published", "pending_moderation"}
    with _serve(live, port):
        _check_everything_is_there(live, run)
    print(
        f"{len(run.acknowledged)} reviews acknowledged by {CLIENTS} clients before SIGKILL, "
        f"{run.failures_after_kill} refused after it; all {len(run.acknowledged)} present after restart"
    )


def test_with_meilisearch_down_writes_succeed_and_the_outbox_catches_up_after_a_crash(
    prepared: Path, tmp_path: Path
) -> None:
    unreachable = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    live, port, tokens, slug = _prepare(
        prepared, tmp_path, MEILI_URL=unreachable, MEILI_MASTER_KEY="durability-test-key"
    )
    run = _write_and_kill(live, port, tokens, slug)
    published = {review.review_id for review in run.acknowledged if review.status == "published"}
    assert published, "some acknowledged reviews should be published"

    fake = FakeMeili()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        recovered = LiveServer(
            url=live.url,
            env={**live.env, "MEILI_URL": f"http://127.0.0.1:{server.server_address[1]}"},
            workdir=live.workdir,
        )
        recovered.cli("drain-search")
        indexed = {int(key) for key in fake.documents.get("reviews", {})}
        assert published <= indexed, f"not handed to Meilisearch: {sorted(published - indexed)}"
        with closing(sqlite3.connect(tmp_path / "durable.db")) as db:
            (waiting,) = db.execute("SELECT count(*) FROM search_outbox WHERE processed_at IS NULL").fetchone()
            (kept,) = db.execute(
                f"SELECT count(*) FROM review WHERE id IN ({','.join(str(r.review_id) for r in run.acknowledged)})"
            ).fetchone()
        assert waiting == 0
        assert kept == len(run.acknowledged)
    finally:
        server.shutdown()
        server.server_close()
