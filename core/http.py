"""What a view may know about the client: a keyed hash of its address, set by the privacy middleware
before any view runs. The address itself never reaches a view."""

from django.http import HttpRequest

CLIENT_HASH_ATTRIBUTE = "client_hash"


def client_set(request: HttpRequest, client_hash: str) -> None:
    setattr(request, CLIENT_HASH_ATTRIBUTE, client_hash)


def client_of(request: HttpRequest) -> str:
    """The keyed hash of the client's address, for throttling ("" if the middleware did not run)."""
    return str(getattr(request, CLIENT_HASH_ATTRIBUTE, ""))
