"""What notify cannot know itself, registered by the apps above it in their AppConfig.ready: for each template,
what it may name (its context, read from the notification's subject); for each placeholder audience and
subject kind, how to find the address at send time. As with outbox kinds, notify never imports those apps."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notify.models import Notification

Context = Callable[["Notification"], dict[str, object]]
# Takes the subject's id; returns the address, or "" when there is none to send to.
Resolver = Callable[[int], str]


@dataclass(frozen=True)
class Template:
    name: str
    context: Context
    # Called once the notification is settled (sent, or given up): e.g. to forget a sealed link it carried.
    settled: Callable[[Notification], None] | None = None


class AlreadyRegistered(Exception):
    pass


class NothingToSend(Exception):
    """Raised by a context when what the notification pointed to is gone (an invitation revoked or used
    before its email went): it is cancelled, not retried."""


_templates: dict[str, Template] = {}
_resolvers: dict[tuple[str, str], Resolver] = {}


def register_templates(
    names: Iterable[str], *, context: Context, settled: Callable[[Notification], None] | None = None
) -> None:
    for name in names:
        template = Template(name=name, context=context, settled=settled)
        existing = _templates.get(name)
        if existing is not None and existing != template:
            raise AlreadyRegistered(f"Template {name!r} already belongs to another app")
        _templates[name] = template


def template_for(name: str) -> Template | None:
    return _templates.get(name)


def register_resolver(*, audience: str, subject_kind: str, resolver: Resolver) -> None:
    existing = _resolvers.get((audience, subject_kind))
    if existing is not None and existing is not resolver:
        raise AlreadyRegistered(f"Audience {audience!r} about {subject_kind!r} already has a resolver")
    _resolvers[(audience, subject_kind)] = resolver


def resolver_for(*, audience: str, subject_kind: str) -> Resolver | None:
    return _resolvers.get((audience, subject_kind))


# --- digests -----------------------------------------------------------------------------------------------
# A notification queued with ``digest=<key>`` is held, not sent: every DIGEST_MINUTES the digest task sends
# each recipient one email (the key's template) counting what was held for them. The app that marks
# notifications for a digest registers the key and the template; its context reads the count with
# notify.services.digest_count.


@dataclass(frozen=True)
class Digest:
    key: str
    template: str


@dataclass(frozen=True)
class DigestSent:
    """One round of a digest: its key, how many notifications it collected (across its recipients, e.g.
    urgent cases × supervisors), how many distinct subjects they were about (the urgent cases), and the
    digest emails' ids (one per recipient)."""

    key: str
    collected: int
    subjects: int
    notification_ids: tuple[int, ...]


DigestListener = Callable[[DigestSent], None]

_digests: dict[str, Digest] = {}
_digest_listeners: list[DigestListener] = []


def register_digest(key: str, *, template: str) -> None:
    digest = Digest(key=key, template=template)
    existing = _digests.get(key)
    if existing is not None and existing != digest:
        raise AlreadyRegistered(f"Digest {key!r} already has the template {existing.template!r}")
    _digests[key] = digest


def digest_for(key: str) -> Digest | None:
    return _digests.get(key)


def digests() -> list[Digest]:
    return list(_digests.values())


def register_digest_listener(listener: DigestListener) -> None:
    """Called once per digest round that sent anything (after its transaction commits), with a DigestSent:
    e.g. paging pages once per urgent digest rather than once per case. A listener that fails is logged and
    does not stop the others or the digest."""
    if listener not in _digest_listeners:
        _digest_listeners.append(listener)


def digest_listeners() -> list[DigestListener]:
    return list(_digest_listeners)
