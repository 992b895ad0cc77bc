"""The template `url_for`: the same links as Starlette's, without trying every route on each call."""

from typing import Any

import pytest
from starlette.convertors import FloatConvertor, IntegerConvertor, PathConvertor, UUIDConvertor
from starlette.routing import NoMatchFound

from app.main import create_app
from app.templating import _routes_in_order, url_path_for

SAMPLES: dict[type, Any] = {
    IntegerConvertor: 7,
    FloatConvertor: 1.5,
    PathConvertor: "vendor/govuk-frontend/govuk-frontend.min.css",
    UUIDConvertor: "6f1c2b9e-4a57-4bb2-9f0e-1d2c3b4a5f60",
}


def test_every_named_route_gets_the_path_starlette_gives() -> None:
    router = create_app().router
    checked = 0
    for route in _routes_in_order(router.routes):
        name = getattr(route, "name", None)
        convertors = getattr(route, "param_convertors", None)
        if not name or convertors is None:
            continue
        params = {key: SAMPLES.get(type(convertor), "some-slug") for key, convertor in convertors.items()}
        try:
            expected = router.url_path_for(name, **params)
        except NoMatchFound:
            continue  # a name another route answers for first, with other parameters
        assert url_path_for(router, name, **params) == expected, name
        assert url_path_for(router, name, **params) == expected, name  # from the cache
        checked += 1
    assert checked > 50


def test_a_cached_name_is_built_by_its_route_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    router = create_app().router
    assert url_path_for(router, "vendors:profile", slug="first") == "/vendors/first"

    def full_lookup(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("every route was tried again")

    monkeypatch.setattr(router, "url_path_for", full_lookup)
    assert url_path_for(router, "vendors:profile", slug="second") == "/vendors/second"


def test_unknown_names_and_parameters_fail_as_they_do_in_starlette() -> None:
    router = create_app().router
    with pytest.raises(NoMatchFound):
        url_path_for(router, "vendors:nothing")
    with pytest.raises(NoMatchFound):
        url_path_for(router, "vendors:profile", slug="x", page=2)  # not a path parameter
    assert url_path_for(router, "vendors:profile", slug="x") == "/vendors/x"
    with pytest.raises(NoMatchFound):
        url_path_for(router, "vendors:profile", id=3)
