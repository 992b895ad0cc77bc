"""Domain exceptions; one handler in `app.main` maps each to a status code and page."""


class DomainError(Exception):
    status_code = 400
    title = "There is a problem"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status_code = 404
    title = "Page not found"


class NotSignedIn(DomainError):
    status_code = 401
    title = "Sign in to continue"


class NotAllowed(DomainError):
    status_code = 403
    title = "You cannot do that"


class Conflict(DomainError):
    status_code = 409
    title = "Someone else changed this first"


class TooManyRequests(DomainError):
    status_code = 429
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidInput(DomainError):
    """Input that a form re-renders with messages beside the fields (GOV.UK error summary)."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class Moved(DomainError):
    """What an address named now lives elsewhere (a merged supplier): a permanent redirect."""

    status_code = 301

    def __init__(self, *, old: str, new: str) -> None:
        super().__init__(f"Moved to {new}")
        self.old, self.new = old, new
