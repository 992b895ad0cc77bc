"""Parse pages as a browser would, and check the structure every page of the service must have."""

from collections import Counter

import html5lib
from bs4 import BeautifulSoup


def parse(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def validate_page(text: str) -> BeautifulSoup:
    """Fail unless the page is well-formed HTML5 with the structure GOV.UK pages and our CSP rely on."""
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)  # raises on any parse error
    soup = parse(text)
    assert text.lstrip().lower().startswith("<!doctype html>"), "missing <!DOCTYPE html>"
    assert soup.html is not None and soup.html.get("lang") == "en", "missing <html lang=en>"
    title = soup.find("title")
    assert title is not None and title.get_text(strip=True), "missing <title>"
    assert len(soup.find_all("h1")) == 1, "a page needs exactly one <h1>"
    assert soup.find("main", id="main-content") is not None, "missing <main id=main-content> (skip link target)"
    ids = Counter(str(tag["id"]) for tag in soup.find_all(id=True))
    duplicates = [name for name, count in ids.items() if count > 1]
    assert not duplicates, f"duplicate ids: {duplicates}"
    for label in soup.find_all("label", attrs={"for": True}):
        assert label["for"] in ids, f"<label for={label['for']}> points at nothing"
    for form in soup.find_all("form"):
        if str(form.get("method", "get")).lower() == "post":
            assert form.find("input", attrs={"name": "csrf_token", "type": "hidden"}), "POST form without CSRF"
    for script in soup.find_all("script"):
        assert script.get("src"), "inline <script> (the CSP forbids it)"
    for tag in soup.find_all(True):
        handlers = [name for name in tag.attrs if name.lower().startswith("on")]
        assert not handlers, f"inline event handler {handlers} on <{tag.name}>"
    return soup


def fragment(text: str) -> BeautifulSoup:
    """An htmx fragment: parsed, and never a whole page."""
    assert "<html" not in text.lower(), "an htmx request got a whole page"
    return parse(text)


def error_summary(soup: BeautifulSoup) -> list[str]:
    """The messages of the GOV.UK error summary, in order."""
    summary = soup.select_one(".govuk-error-summary")
    return [] if summary is None else [a.get_text(strip=True) for a in summary.select(".govuk-error-summary__list a")]
