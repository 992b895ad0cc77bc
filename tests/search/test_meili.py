"""MeiliBackend against a fake Meilisearch on 127.0.0.1, and against a real server when MEILI_URL is set.

The fake answers the routes the backend uses the way Meilisearch documents them: a summarised task for each write,
`GET /tasks/{uid}` reporting it enqueued once and then succeeded (or failed with an error object), search results,
and errors as `{message, code, type, link}` with their HTTP status.
"""

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import meilisearch
import pytest

from app.search.base import IndexSettings, SearchParams, SearchQueryError, SearchUnavailable, TypoTolerance
from app.search.meili import MeiliBackend, MeiliWriteError
from app.search.normalise import normalise_query

# Read at import: the autouse fixture in conftest.py removes MEILI_URL from each test's environment.
REAL_MEILI_URL = os.environ.get("MEILI_URL")
REAL_MEILI_KEY = os.environ.get("MEILI_MASTER_KEY")
ERROR_LINK = "https://docs.meilisearch.com/errors#"
ENQUEUED_AT = "2024-01-01T00:00:00.000000Z"


def meili_error(code: str, message: str, kind: str = "invalid_request") -> dict[str, str]:
    """An error object as Meilisearch writes it, in a response body or a failed task."""
    return {"message": message, "code": code, "type": kind, "link": ERROR_LINK + code}


@dataclass
class Recorded:
    method: str
    path: str
    body: Any


@dataclass
class FakeMeili:
    """What the fake server holds, and what the test wants it to answer."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    indexes: dict[str, str | None] = field(default_factory=dict)  # uid: primary key
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid: {id: document}
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    polls: dict[int, int] = field(default_factory=dict)  # task uid: times GET /tasks/{uid} was asked
    fail_next_task: dict[str, str] | None = None
    errors: dict[tuple[str, str], tuple[int, dict[str, str]]] = field(default_factory=dict)  # (method, path): reply
    delay: float = 0.0
    tasks_finish: bool = True  # False: every task stays enqueued, as on a server stuck behind a long task

    def sent(self, method: str, path: str) -> list[Any]:
        """The bodies of the requests made to `method path`."""
        return [r.body for r in self.requests if r.method == method and r.path == path]

    def task(self, index_uid: str | None, kind: str, apply: Any = None) -> dict[str, Any]:
        """Record a task (applied now unless it is to fail) and return its summary."""
        uid = len(self.tasks)
        error, self.fail_next_task = self.fail_next_task, None
        if error is None and apply is not None:
            apply()
        self.tasks[uid] = {
            "uid": uid,
            "indexUid": index_uid,
            "status": "failed" if error else "succeeded",
            "type": kind,
            "details": {},
            "error": error,
            "duration": "PT0.001S",
            "enqueuedAt": ENQUEUED_AT,
            "startedAt": ENQUEUED_AT,
            "finishedAt": ENQUEUED_AT,
        }
        return {"taskUid": uid, "indexUid": index_uid, "status": "enqueued", "type": kind, "enqueuedAt": ENQUEUED_AT}

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """Meilisearch's status and body for one request."""
        self.requests.append(Recorded(method, path, body))
        if (method, path) in self.errors:
            return self.errors[(method, path)]
        parts = path.partition("?")[0].strip("/").split("/")
        if parts == ["health"]:
            return 200, {"status": "available"}
        if parts[0] == "tasks" and len(parts) == 2:
            task_uid = int(parts[1])
            self.polls[task_uid] = self.polls.get(task_uid, 0) + 1
            task = dict(self.tasks[task_uid])
            if (
                self.polls[task_uid] == 1 or not self.tasks_finish
            ):  # the first look finds it still waiting, as a busy server would
                task.update(status="enqueued", error=None, startedAt=None, finishedAt=None)
            return 200, task
        if parts == ["indexes"] and method == "POST":
            uid, primary_key = body["uid"], body.get("primaryKey")
            if uid in self.indexes:
                self.fail_next_task = meili_error("index_already_exists", f"Index `{uid}` already exists.")
            return 202, self.task(uid, "indexCreation", lambda: self.indexes.__setitem__(uid, primary_key))
        if parts[0] != "indexes":
            return 404, meili_error("not_found", "Not found.")
        uid, rest = parts[1], parts[2:]
        if uid not in self.indexes and not (rest == ["documents"] and method == "POST"):
            return 404, meili_error("index_not_found", f"Index `{uid}` not found.")
        docs = self.documents.setdefault(uid, {})
        if rest == [] and method == "GET":
            return 200, {
                "uid": uid,
                "primaryKey": self.indexes[uid],
                "createdAt": ENQUEUED_AT,
                "updatedAt": ENQUEUED_AT,
            }
        if rest == [] and method == "PATCH":
            return 202, self.task(uid, "indexUpdate", lambda: self.indexes.__setitem__(uid, body["primaryKey"]))
        if rest == ["settings"] and method == "PATCH":
            return 202, self.task(uid, "settingsUpdate")
        if rest == ["documents"] and method == "POST":
            self.indexes.setdefault(uid, None)
            return 202, self.task(uid, "documentAdditionOrUpdate", lambda: docs.update({d["id"]: d for d in body}))
        if rest == ["documents", "delete-batch"] and method == "POST":
            return 202, self.task(uid, "documentDeletion", lambda: [docs.pop(i, None) for i in body])
        if rest == ["documents"] and method == "DELETE":
            return 202, self.task(uid, "documentDeletion", docs.clear)
        if rest == ["stats"]:
            return 200, {"numberOfDocuments": len(docs), "isIndexing": False, "fieldDistribution": {}}
        if rest == ["search"] and method == "POST":
            hits = list(docs.values())
            return 200, {
                "hits": hits,
                "query": body["q"],
                "processingTimeMs": 0,
                "limit": body.get("limit", 20),
                "offset": body.get("offset", 0),
                "estimatedTotalHits": len(hits),
            }
        return 404, meili_error("not_found", "Not found.")


def _handler(fake: FakeMeili) -> type[BaseHTTPRequestHandler]:
    """A request handler class that answers from `fake`."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            time.sleep(fake.delay)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw and raw != b"null" else None
            status, answer = fake.answer(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped waiting (the timeout test)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _reply

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake() -> Iterator[FakeMeili]:
    state = FakeMeili()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def backend(fake: FakeMeili) -> MeiliBackend:
    return MeiliBackend(fake.url, "master-key", timeout=2, index_prefix="t_")


SETTINGS = IndexSettings(
    searchable=["name", "aliases", "description"],
    filterable=["categories", "rating"],
    sortable=["rating", "review_count"],
    synonyms={"crm": ["customer relationship management"]},
    typo_tolerance=TypoTolerance(
        one_typo=4, two_typos=8, disable_on_attributes=["postcode"], disable_on_words=["nec"], disable_on_numbers=True
    ),
    max_values_per_facet=50,
    max_total_hits=500,
)


def test_configure_creates_the_index_and_sends_every_setting(fake: FakeMeili, backend: MeiliBackend) -> None:
    backend.configure("vendors", SETTINGS)

    assert fake.sent("POST", "/indexes") == [{"uid": "t_vendors", "primaryKey": "id"}]
    assert fake.sent("PATCH", "/indexes/t_vendors/settings") == [
        {
            "searchableAttributes": ["name", "aliases", "description"],
            "filterableAttributes": ["categories", "rating"],
            "sortableAttributes": ["rating", "review_count"],
            "synonyms": {"crm": ["customer relationship management"]},
            "typoTolerance": {
                "enabled": True,
                "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8},
                "disableOnAttributes": ["postcode"],
                "disableOnWords": ["nec"],
                "disableOnNumbers": True,
            },
            "pagination": {"maxTotalHits": 500},
            "faceting": {"maxValuesPerFacet": 50},
        }
    ]
    # Both tasks were polled until they ended.
    assert fake.polls == {0: 2, 1: 2}
    assert [r.path for r in fake.requests][-2:] == ["/tasks/1", "/tasks/1"]


def test_configure_again_keeps_the_index_and_reapplies_settings(fake: FakeMeili, backend: MeiliBackend) -> None:
    backend.configure("vendors", SETTINGS)
    backend.configure("vendors", SETTINGS)

    assert len(fake.sent("POST", "/indexes")) == 1
    assert len(fake.sent("PATCH", "/indexes/t_vendors/settings")) == 2


def test_configure_sets_a_missing_primary_key(fake: FakeMeili, backend: MeiliBackend) -> None:
    fake.indexes["t_vendors"] = None

    backend.configure("vendors", SETTINGS)

    assert fake.sent("PATCH", "/indexes/t_vendors") == [{"primaryKey": "id"}]
    assert fake.indexes["t_vendors"] == "id"


def test_a_failed_settings_task_raises_with_meilisearchs_message(fake: FakeMeili, backend: MeiliBackend) -> None:
    fake.indexes["t_vendors"] = "id"
    message = "Attribute `rating` is not sortable."  # any message: the point is that it comes through unchanged
    fake.fail_next_task = meili_error("invalid_settings_sortable_attributes", message)

    with pytest.raises(MeiliWriteError) as raised:
        backend.configure("vendors", SETTINGS)

    assert raised.value.message == message
    assert raised.value.code == "invalid_settings_sortable_attributes"
    assert isinstance(raised.value, SearchUnavailable)  # so the outbox keeps the write


def test_a_failed_task_on_the_servers_side_is_unavailable(fake: FakeMeili, backend: MeiliBackend) -> None:
    fake.indexes["t_vendors"] = "id"
    fake.fail_next_task = meili_error("no_space_left_on_device", "No space left on device.", kind="system")

    with pytest.raises(SearchUnavailable, match="No space left on device") as raised:
        backend.upsert("vendors", [{"id": "1"}])

    assert not isinstance(raised.value, MeiliWriteError)


def test_a_rejected_write_raises_with_meilisearchs_message(fake: FakeMeili, backend: MeiliBackend) -> None:
    fake.indexes["t_vendors"] = "id"
    error = meili_error("invalid_settings_filterable_attributes", "Unknown value `x` at `.filterableAttributes`.")
    fake.errors[("PATCH", "/indexes/t_vendors/settings")] = (400, error)

    with pytest.raises(MeiliWriteError, match="Unknown value `x`") as raised:
        backend.configure("vendors", SETTINGS)

    assert raised.value.code == "invalid_settings_filterable_attributes"


def test_writes_are_awaited_and_visible_when_they_return(fake: FakeMeili, backend: MeiliBackend) -> None:
    backend.configure("vendors", SETTINGS)

    backend.upsert("vendors", [{"id": "1", "name": "Northgate"}, {"id": "2", "name": "Civica"}])
    assert backend.count("vendors") == 2
    backend.delete("vendors", ["1", "404"])
    assert backend.count("vendors") == 1
    backend.clear("vendors")
    assert backend.count("vendors") == 0

    assert fake.sent("POST", "/indexes/t_vendors/documents?primaryKey=id") == [
        [{"id": "1", "name": "Northgate"}, {"id": "2", "name": "Civica"}]
    ]
    assert fake.sent("POST", "/indexes/t_vendors/documents/delete-batch") == [["1", "404"]]
    assert all(polls == 2 for polls in fake.polls.values()) and len(fake.polls) == 5


def test_a_task_that_does_not_end_in_time_is_unavailable(fake: FakeMeili) -> None:
    fake.indexes["t_vendors"] = "id"
    fake.tasks_finish = False
    backend = MeiliBackend(fake.url, None, index_prefix="t_", task_timeout=0.2)

    with pytest.raises(SearchUnavailable, match="did not answer"):
        backend.upsert("vendors", [{"id": "1"}])


def test_empty_writes_send_nothing(fake: FakeMeili, backend: MeiliBackend) -> None:
    backend.upsert("vendors", [])
    backend.delete("vendors", [])

    assert fake.requests == []


@pytest.mark.parametrize("q", ["nortgate  crm", ' PR-20451 "northgate', "\x00\t!!", "", "-northgate"])
def test_search_sends_the_normalised_query(fake: FakeMeili, backend: MeiliBackend, q: str) -> None:
    fake.indexes["t_vendors"] = "id"

    backend.search("vendors", SearchParams(q=q))

    (body,) = fake.sent("POST", "/indexes/t_vendors/search")
    assert body["q"] == normalise_query(q).text


def test_placeholder_searches_send_no_words_but_keep_negations(fake: FakeMeili, backend: MeiliBackend) -> None:
    fake.indexes["t_vendors"] = "id"

    backend.search("vendors", SearchParams(q="\x00\t!!"))
    backend.search("vendors", SearchParams(q="-northgate"))

    assert [body["q"] for body in fake.sent("POST", "/indexes/t_vendors/search")] == ["", "-northgate"]


def test_search_sends_explicit_crop_and_highlight_settings(fake: FakeMeili, backend: MeiliBackend) -> None:
    fake.indexes["t_vendors"] = "id"
    params = SearchParams(
        q="northgate",
        filter=["rating >= 4", ["categories = CRM", "categories = EDRMS"]],
        facets=["categories"],
        sort=["rating:desc"],
        offset=20,
        limit=10,
        attributes_to_highlight=["name"],
        attributes_to_crop=["description"],
    )

    result = backend.search("vendors", params)

    (body,) = fake.sent("POST", "/indexes/t_vendors/search")
    assert body == {
        "q": normalise_query("northgate").text,
        "filter": ["rating >= 4", ["categories = CRM", "categories = EDRMS"]],
        "facets": ["categories"],
        "sort": ["rating:desc"],
        "offset": 20,
        "limit": 10,
        "attributesToHighlight": ["name"],
        "highlightPreTag": "<em>",
        "highlightPostTag": "</em>",
        "attributesToCrop": ["description"],
        "cropLength": 10,
        "cropMarker": "…",
    }
    assert result["estimatedTotalHits"] == 0 and result["hits"] == []


def test_search_in_page_mode_sends_page_and_hits_per_page_only(fake: FakeMeili, backend: MeiliBackend) -> None:
    fake.indexes["t_vendors"] = "id"

    backend.search("vendors", SearchParams(q="crm", page=3, hits_per_page=5, offset=40))

    (body,) = fake.sent("POST", "/indexes/t_vendors/search")
    assert (body["page"], body["hitsPerPage"]) == (3, 5)
    assert "offset" not in body and "limit" not in body
    assert {"highlightPreTag", "highlightPostTag", "cropLength", "cropMarker"} <= body.keys()


@pytest.mark.parametrize(
    "code",
    ["invalid_search_filter", "invalid_search_sort", "invalid_search_facets", "invalid_search_q"],
)
def test_a_bad_query_becomes_search_query_error(fake: FakeMeili, backend: MeiliBackend, code: str) -> None:
    fake.indexes["t_vendors"] = "id"
    message = "Attribute `colour` is not filterable. Available filterable attributes are: `categories, rating`."
    fake.errors[("POST", "/indexes/t_vendors/search")] = (400, meili_error(code, message))

    with pytest.raises(SearchQueryError) as raised:
        backend.search("vendors", SearchParams(filter="colour = red"))

    assert (raised.value.code, raised.value.message) == (code, message)


def test_an_unknown_index_becomes_search_query_error(backend: MeiliBackend) -> None:
    with pytest.raises(SearchQueryError, match="Index `t_nothing` not found.") as raised:
        backend.search("nothing", SearchParams(q="crm"))
    assert raised.value.code == "index_not_found"

    with pytest.raises(SearchQueryError) as raised:
        backend.count("nothing")
    assert raised.value.code == "index_not_found"


def test_a_refused_key_is_unavailable_not_the_users_fault(fake: FakeMeili, backend: MeiliBackend) -> None:
    error = meili_error("invalid_api_key", "The provided API key is invalid.", kind="auth")
    fake.errors[("POST", "/indexes/t_vendors/search")] = (403, error)

    with pytest.raises(SearchUnavailable, match="The provided API key is invalid"):
        backend.search("vendors", SearchParams(q="crm"))


def test_health(fake: FakeMeili, backend: MeiliBackend) -> None:
    assert backend.health() is True
    fake.errors[("GET", "/health")] = (500, meili_error("internal", "Something went wrong.", kind="internal"))
    assert backend.health() is False


def _closed_port_url() -> str:
    """An address on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_an_unreachable_server_is_unavailable_quickly() -> None:
    backend = MeiliBackend(_closed_port_url(), None, timeout=2)
    started = time.monotonic()

    calls: list[Callable[[], object]] = [
        lambda: backend.search("vendors", SearchParams(q="crm")),
        lambda: backend.configure("vendors", SETTINGS),
        lambda: backend.upsert("vendors", [{"id": "1"}]),
        lambda: backend.delete("vendors", ["1"]),
        lambda: backend.clear("vendors"),
        lambda: backend.count("vendors"),
    ]
    for call in calls:
        with pytest.raises(SearchUnavailable, match="did not answer"):
            call()
    assert backend.health() is False
    assert time.monotonic() - started < 2


def test_a_slow_server_is_unavailable_after_the_timeout(fake: FakeMeili) -> None:
    fake.delay = 0.5
    backend = MeiliBackend(fake.url, None, timeout=0.1)
    started = time.monotonic()

    with pytest.raises(SearchUnavailable, match="did not answer"):
        backend.search("vendors", SearchParams(q="crm"))
    assert time.monotonic() - started < 0.45


@pytest.mark.skipif(not REAL_MEILI_URL, reason="no Meilisearch server: set MEILI_URL (and MEILI_MASTER_KEY) to run")
class TestRealServer:
    """The same calls against a real Meilisearch, in indexes of their own that are deleted afterwards."""

    @pytest.fixture
    def real(self) -> Iterator[MeiliBackend]:
        assert REAL_MEILI_URL
        prefix = f"test_{uuid.uuid4().hex[:8]}_"
        yield MeiliBackend(REAL_MEILI_URL, REAL_MEILI_KEY, index_prefix=prefix)
        client = meilisearch.Client(REAL_MEILI_URL, REAL_MEILI_KEY)
        for index in client.get_indexes({"limit": 1000})["results"]:
            if index.uid.startswith(prefix):
                client.wait_for_task(client.delete_index(index.uid).task_uid)

    def test_settings_are_applied(self, real: MeiliBackend) -> None:
        assert real.health() is True
        real.configure("vendors", SETTINGS)

        applied = real.client.index(real.uid("vendors")).get_settings()
        assert applied["searchableAttributes"] == SETTINGS.searchable
        assert sorted(applied["filterableAttributes"]) == sorted(SETTINGS.filterable)
        assert sorted(applied["sortableAttributes"]) == sorted(SETTINGS.sortable)
        assert applied["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 4, "twoTypos": 8}
        assert applied["pagination"] == {"maxTotalHits": 500}
        assert applied["faceting"]["maxValuesPerFacet"] == 50

    def test_writes_then_search(self, real: MeiliBackend) -> None:
        real.configure("vendors", SETTINGS)
        real.upsert(
            "vendors",
            [
                {"id": "1", "name": "Northgate", "categories": ["CRM"], "rating": 4.5, "review_count": 3},
                {"id": "2", "name": "Civica", "categories": ["EDRMS"], "rating": 3.0, "review_count": 1},
            ],
        )
        assert real.count("vendors") == 2

        result = real.search(
            "vendors",
            SearchParams(q="northgte", facets=["categories"], attributes_to_highlight=["name"], sort=["rating:desc"]),
        )
        assert [hit["id"] for hit in result["hits"]] == ["1"]
        assert result["hits"][0]["_formatted"]["name"] == "<em>Northgate</em>"
        assert result["facetDistribution"] == {"categories": {"CRM": 1}}

        real.delete("vendors", ["1"])
        assert real.count("vendors") == 1
        real.clear("vendors")
        assert real.count("vendors") == 0

    def test_bad_queries(self, real: MeiliBackend) -> None:
        real.configure("vendors", SETTINGS)
        for params, code in [
            (SearchParams(filter="colour = red"), "invalid_search_filter"),
            (SearchParams(sort=["name:asc"]), "invalid_search_sort"),
        ]:
            with pytest.raises(SearchQueryError) as raised:
                real.search("vendors", params)
            assert raised.value.code == code and raised.value.message
        with pytest.raises(SearchQueryError) as raised:
            real.search("nothing", SearchParams())
        assert raised.value.code == "index_not_found"
