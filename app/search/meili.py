"""The Meilisearch backend: the official `meilisearch` client behind `SearchBackend`.

Every write waits for its Meilisearch task and checks how it ended, so a write is visible to the next search when the
call returns. Errors are sorted by who can act on them:
- a bad request (Meilisearch's error type `invalid_request`): `SearchQueryError` from `search` and `count`, with
  Meilisearch's own message and code; `MeiliWriteError` from writes, with the same;
- the server (down, slow, out of disk, or refusing the key): `SearchUnavailable`.
Both write errors are `SearchUnavailable`, so the outbox keeps the write, records the message and retries it.
"""

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import meilisearch
import requests
from meilisearch.errors import MeilisearchApiError, MeilisearchError
from meilisearch.index import Index
from meilisearch.models.task import TaskInfo

from app.search.base import Document, IndexSettings, SearchParams, SearchQueryError, SearchUnavailable
from app.search.normalise import normalise_query

BATCH_SIZE = 1000
CALLERS_FAULT = "invalid_request"  # Meilisearch's error type for requests that would fail again as they are


class MeiliWriteError(SearchUnavailable):
    """Meilisearch refused a write (a bad setting, document or primary key), with its message and error code.

    A kind of SearchUnavailable, so the outbox keeps the write and records why; it succeeds once the cause is fixed.
    """

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def settings_body(settings: IndexSettings) -> dict[str, Any]:
    """Meilisearch's settings object for `settings`, every key present so the server's copy matches ours."""
    typos = settings.typo_tolerance
    return {
        "searchableAttributes": list(settings.searchable),
        "filterableAttributes": list(settings.filterable),
        "sortableAttributes": list(settings.sortable),
        "synonyms": {word: list(alternatives) for word, alternatives in settings.synonyms.items()},
        "typoTolerance": {
            "enabled": typos.enabled,
            "minWordSizeForTypos": {"oneTypo": typos.one_typo, "twoTypos": typos.two_typos},
            "disableOnAttributes": list(typos.disable_on_attributes),
            "disableOnWords": list(typos.disable_on_words),
            "disableOnNumbers": typos.disable_on_numbers,
        },
        "pagination": {"maxTotalHits": settings.max_total_hits},
        "faceting": {"maxValuesPerFacet": settings.max_values_per_facet},
    }


def search_body(params: SearchParams) -> dict[str, Any]:
    """Meilisearch's search parameters for `params`, all but `q`."""
    # Crop and highlight settings always go explicitly: clients and server versions disagree on their defaults.
    body: dict[str, Any] = {
        "highlightPreTag": params.highlight_pre_tag,
        "highlightPostTag": params.highlight_post_tag,
        "cropLength": params.crop_length,
        "cropMarker": params.crop_marker,
    }
    if params.page is not None or params.hits_per_page is not None:
        body["page"] = params.page if params.page is not None else 1
        body["hitsPerPage"] = params.hits_per_page if params.hits_per_page is not None else params.limit
    else:
        body["offset"], body["limit"] = params.offset, params.limit
    optional = {
        "filter": params.filter,
        "facets": params.facets,
        "sort": params.sort,
        "attributesToHighlight": params.attributes_to_highlight,
        "attributesToCrop": params.attributes_to_crop,
    }
    body.update({name: value for name, value in optional.items() if value is not None})
    return body


def _message(exc: MeilisearchApiError) -> str:
    """Meilisearch's own message for `exc`."""
    # Some client methods append a version hint to `.message`; the exception's first argument is left as sent.
    return str(exc.args[0]) if exc.args else exc.message


@contextmanager
def _writing() -> Iterator[None]:
    """Turn the client's errors during a write into MeiliWriteError or SearchUnavailable."""
    try:
        yield
    except MeilisearchApiError as exc:
        if exc.type == CALLERS_FAULT:
            raise MeiliWriteError(_message(exc), code=exc.code) from exc
        raise SearchUnavailable(f"Meilisearch answered {exc.status_code}: {_message(exc)}") from exc
    except (MeilisearchError, requests.RequestException) as exc:
        raise SearchUnavailable(f"Meilisearch did not answer: {exc}") from exc


@contextmanager
def _reading() -> Iterator[None]:
    """Turn the client's errors during a read into SearchQueryError or SearchUnavailable."""
    try:
        yield
    except MeilisearchApiError as exc:
        if exc.type == CALLERS_FAULT:
            raise SearchQueryError(_message(exc), code=exc.code or "bad_request") from exc
        raise SearchUnavailable(f"Meilisearch answered {exc.status_code}: {_message(exc)}") from exc
    except (MeilisearchError, requests.RequestException) as exc:
        raise SearchUnavailable(f"Meilisearch did not answer: {exc}") from exc


class MeiliBackend:
    """SearchBackend on a Meilisearch server; `index_prefix` lets tests and deployments share one server."""

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        timeout: float = 5,
        index_prefix: str = "",
        task_timeout: float = 60,
    ) -> None:
        # requests takes its timeout in seconds as a float, whatever the client's annotation says.
        self.client = meilisearch.Client(url, api_key, timeout=cast(int, timeout))
        self.index_prefix = index_prefix
        self.task_timeout_ms = int(task_timeout * 1000)
        self._primary_keys: dict[str, str] = {}

    def uid(self, index: str) -> str:
        """The Meilisearch index uid for one of our index names."""
        return self.index_prefix + index

    def _index(self, index: str) -> Index:
        """A new handle on `index` (no HTTP call)."""
        # One handle per call: a handle rewrites its own Content-Type header on each request, so two threads sharing
        # one could send a POST without it.
        return self.client.index(self.uid(index))

    def _await(self, handle: Index, task: TaskInfo, *, acceptable: frozenset[str] = frozenset()) -> None:
        """Wait for `task` to end; raise unless it succeeded or failed with an `acceptable` error code."""
        done = handle.wait_for_task(task.task_uid, timeout_in_ms=self.task_timeout_ms)
        if done.status == "succeeded":
            return
        error: Mapping[str, Any] = done.error or {}
        code, message = error.get("code"), str(error.get("message") or f"task {done.uid} ended {done.status}")
        if code in acceptable:
            return
        if error.get("type") == CALLERS_FAULT:
            raise MeiliWriteError(message, code=code)
        raise SearchUnavailable(f"Meilisearch task {done.uid} ({done.type}) ended {done.status}: {message}")

    def configure(self, index: str, settings: IndexSettings) -> None:
        """Create the index with its primary key if needed and apply its settings."""
        with _writing():
            handle = self._index(index)
            try:
                existing = self.client.get_index(handle.uid)
            except MeilisearchApiError as exc:
                if exc.code != "index_not_found":
                    raise
                created = self.client.create_index(handle.uid, {"primaryKey": settings.primary_key})
                # Another process starting at the same time may have created it first.
                self._await(handle, created, acceptable=frozenset({"index_already_exists"}))
            else:
                if existing.primary_key != settings.primary_key:
                    self._await(handle, existing.update(primary_key=settings.primary_key))
            self._await(handle, handle.update_settings(settings_body(settings)))
        self._primary_keys[index] = settings.primary_key

    def upsert(self, index: str, documents: Sequence[Document]) -> None:
        """Add documents, replacing any with the same primary key."""
        if not documents:
            return
        with _writing():
            handle = self._index(index)
            tasks = handle.add_documents_in_batches(documents, BATCH_SIZE, self._primary_keys.get(index))
            for task in tasks:
                self._await(handle, task)

    def delete(self, index: str, ids: Sequence[str]) -> None:
        """Remove documents by primary key (missing ones are ignored)."""
        if not ids:
            return
        with _writing():
            handle = self._index(index)
            # The client warns that deleting by ids may go one day; Meilisearch still documents the batch route, and
            # deleting by filter would need the primary key to be filterable.
            primary_keys: list[str | int] = list(ids)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="The use of ids is depreciated", category=DeprecationWarning)
                task = handle.delete_documents(primary_keys)
            self._await(handle, task)

    def clear(self, index: str) -> None:
        """Remove every document of the index, keeping its settings."""
        with _writing():
            handle = self._index(index)
            self._await(handle, handle.delete_all_documents())

    def search(self, index: str, params: SearchParams) -> dict[str, Any]:
        """Run a query; raise SearchQueryError for a bad filter, sort or facet, or an unknown index."""
        # The safe text of a placeholder search is "" or only negations, which Meilisearch applies to every document.
        query = normalise_query(params.q).text
        with _reading():
            return self._index(index).search(query, search_body(params))

    def count(self, index: str) -> int:
        """How many documents the index holds."""
        with _reading():
            return self._index(index).get_stats().number_of_documents

    def health(self) -> bool:
        """Whether the server answers and says it is available."""
        try:
            return self.client.health().get("status") == "available"
        except (MeilisearchError, requests.RequestException):
            return False
