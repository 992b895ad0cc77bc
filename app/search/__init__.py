"""Search over suppliers, pilots and reviews: Meilisearch when MEILI_URL is set, an embedded backend otherwise."""

from app.config import Settings


def search_status(settings: Settings) -> str:
    """ "embedded" without MEILI_URL; otherwise "ok" or "unavailable" from Meilisearch's health check."""
    if not settings.MEILI_URL:
        return "embedded"
    import meilisearch
    from meilisearch.errors import MeilisearchError

    try:
        client = meilisearch.Client(settings.MEILI_URL, settings.MEILI_MASTER_KEY, timeout=2)
        healthy = client.is_healthy()
    except (MeilisearchError, OSError):
        return "unavailable"
    return "ok" if healthy else "unavailable"
