"""GET /api/v1/search: Meilisearch's shape, safe highlighting, and clear 400s and 503s instead of 500s."""

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from app.demo import seed_demo
from app.deps import get_search_backend
from app.models import ContentStatus, Pilot
from app.search.base import SearchParams, SearchUnavailable
from tests.factories import make_supplier
from tests.test_api import bearer


@pytest.fixture
def headers(session: Session) -> dict[str, str]:
    return bearer(session)


def api(client: TestClient, headers: dict[str, str], **params: Any) -> httpx.Response:
    return client.get("/api/v1/search", params=params, headers=headers)


def test_the_search_api_needs_a_bearer_token(client: TestClient, session: Session) -> None:
    assert api(client, {}, index="vendors", q="crm").status_code == 401


def test_the_answer_has_meilisearchs_shape(client: TestClient, session: Session, headers: dict[str, str]) -> None:
    seed_demo(session)
    response = api(
        client,
        headers,
        index="vendors",
        q="quillmere",
        facets="categories,has_pilots,rating_band",
        attributesToHighlight="name,description",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    for key in ("hits", "estimatedTotalHits", "facetDistribution", "facetStats", "processingTimeMs", "limit", "offset"):
        assert key in body, key
    assert body["query"] == "quillmere" and body["limit"] == 20 and body["offset"] == 0
    first = body["hits"][0]
    assert first["slug"] == "quillmere-case-systems-demo" and first["name"] == "Quillmere Case Systems (demo)"
    assert first["_formatted"]["name"] == "<em>Quillmere</em> Case Systems (demo)"
    assert set(body["facetDistribution"]) == {"categories", "has_pilots", "rating_band"}
    assert body["facetDistribution"]["has_pilots"] == {"true": 1}

    plain = api(client, headers, index="vendors", q="quillmere").json()
    assert "_formatted" not in plain["hits"][0], "no _formatted without attributesToHighlight"


def test_filters_sort_and_page_mode(client: TestClient, session: Session, headers: dict[str, str]) -> None:
    seed_demo(session)
    housing = api(client, headers, index="pilots", filter='service_area = "Housing"', facets="status").json()
    expected = session.exec(
        select(Pilot.id).where(col(Pilot.status) == ContentStatus.published, col(Pilot.service_area) == "Housing")
    ).all()
    assert sorted(int(h["id"]) for h in housing["hits"]) == sorted(expected)
    assert sum(housing["facetDistribution"]["status"].values()) == len(expected)

    ranked = api(client, headers, index="reviews", sort="overall:desc", limit=50).json()
    scores = [h["overall"] for h in ranked["hits"]]
    assert scores == sorted(scores, reverse=True) and len(scores) > 5

    paged = api(client, headers, index="reviews", page=2, hitsPerPage=5).json()
    assert paged["page"] == 2 and paged["hitsPerPage"] == 5 and len(paged["hits"]) == 5
    assert paged["totalPages"] == -(-paged["totalHits"] // 5)
    assert "estimatedTotalHits" not in paged


def test_formatted_text_is_escaped_html_with_em_around_matches(
    client: TestClient, session: Session, headers: dict[str, str]
) -> None:
    make_supplier(session, "Fenwick Ledger Systems", description='Ledgers <script>alert("x")</script> for councils.')
    body = api(client, headers, index="vendors", q="ledgers", attributesToHighlight="description").json()
    hit = next(h for h in body["hits"] if h["slug"] == "fenwick-ledger-systems")
    assert hit["description"] == 'Ledgers <script>alert("x")</script> for councils.', "plain fields stay plain text"
    assert hit["_formatted"]["description"] == (
        "<em>Ledgers</em> &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; for councils."
    )


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"index": "secrets"}, "index_not_found"),
        ({}, "index_not_found"),
        ({"index": "vendors", "filter": "overall >"}, "invalid_search_filter"),
        ({"index": "vendors", "filter": "(regions = London"}, "invalid_search_filter"),
        ({"index": "vendors", "filter": "description = x"}, "invalid_search_filter"),
        ({"index": "vendors", "sort": "description:asc"}, "invalid_search_sort"),
        ({"index": "vendors", "sort": "overall:up"}, "invalid_search_sort"),
        ({"index": "vendors", "facets": "description"}, "invalid_search_facets"),
        ({"index": "vendors", "limit": "101"}, "invalid_search_limit"),
        ({"index": "vendors", "limit": "ten"}, "invalid_search_limit"),
        ({"index": "vendors", "offset": "-1"}, "invalid_search_offset"),
        ({"index": "vendors", "page": "0"}, "invalid_search_page"),
        ({"index": "vendors", "hitsPerPage": "500"}, "invalid_search_hits_per_page"),
    ],
)
def test_bad_requests_get_a_400_with_a_message_and_a_code(
    client: TestClient, session: Session, headers: dict[str, str], params: dict[str, str], code: str
) -> None:
    response = api(client, headers, **params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]


def test_odd_queries_never_cause_a_server_error(client: TestClient, session: Session, headers: dict[str, str]) -> None:
    for q in ("AND OR NOT", '"', "-", "*", "()", "'; DROP TABLE supplier; --", "north\x00gate", "a" * 2000):
        response = api(client, headers, index="vendors", q=q)
        assert response.status_code == 200, (q, response.text)


class Down:
    def search(self, index: str, params: SearchParams) -> dict[str, Any]:
        raise SearchUnavailable("connection refused")


def test_a_search_server_that_is_down_gets_a_503(client: TestClient, session: Session, headers: dict[str, str]) -> None:
    app = client.app
    app.dependency_overrides[get_search_backend] = Down
    try:
        response = api(client, headers, index="vendors", q="crm")
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 503
    assert response.json() == {
        "detail": "Search is not available at the moment. Try again in a few minutes.",
        "code": "search_unavailable",
    }


HOSTILE = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from(list("\"'-*():,[]<>=!\\ ANDORNTEXISTS0123456789")), max_size=60),
    st.builds(lambda n: "x" * n, st.integers(min_value=0, max_value=10_000)),
    st.sampled_from(["PR-20451", '"council tax', "-", "\x00\x1f\x7f", "city = ", "rating >", "(a = 1"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=HOSTILE, filter_=HOSTILE, sort=HOSTILE)
def test_any_query_filter_or_sort_gets_results_or_a_clear_400(
    client: TestClient, headers: dict[str, str], q: str, filter_: str, sort: str
) -> None:
    for params in ({"q": q}, {"q": q, "filter": filter_}, {"q": "", "sort": sort}):
        response = api(client, headers, index="reviews", **params)
        assert response.status_code in (200, 400), (params, response.text)
        body = response.json()
        assert "hits" in body if response.status_code == 200 else body["detail"]
