"""Bad input for forms and query strings, generated field by field: the variants a form or a page is sent, the
status each must get, and the assertion that every answer is a GOV.UK page (a 400 with the error summary when
refused), never a 500. Used by tests/test_bad_input_forms_and_staff_api.py and by the staff administration's
tests (tests/accounts/test_staff_admin.py)."""

from __future__ import annotations

import copy
import enum
import re
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

from django import forms
from django.db import transaction
from django.test import Client

from core.text import CleanTextField
from tests.factories import rolled_back_block
from tests.fuzzing import PROFILE

FORM = "application/x-www-form-urlencoded"

# Already percent-encoded, as they arrive on the wire.
UNDECODABLE = {
    "an encoded high surrogate": "%ED%A0%80",
    "an encoded low surrogate": "x%ED%BF%BFy",
    "the byte FF": "%FF",
    "a broken two-byte sequence": "%C3%28",
}
IN_NAMES = ["an encoded high surrogate", "the byte FF"]  # in a field's name: all four read the same way
NUL_INSIDE = "a%00b"
NUL_ALONE = "%00"
OVER_LONG = "x" * 25_000  # over every field's limit (the longest is 20,000), under the 256 KB body limit

Pairs = list[tuple[str, str]]  # names and values, both percent-encoded
FormData = Mapping[str, str | list[str]]


REFUSED = 400  # the form re-shown with the GOV.UK error summary
NOT_FOUND = 404  # text the form takes, looked up and found to match nothing
# Only for callers that do not yet say what a valid answer gets (tests/accounts/test_staff_admin.py): any
# answer a GOV.UK page may give. Every form in this module pins the exact answer instead.
UNPINNED = {200, 302, 400, 404, 409, 429}


class Kind(enum.Enum):
    """How a field reads a value, which decides what each bad input gets."""

    FREE_TEXT = "any text without a NUL, up to its limit"  # undecodable bytes arrive as U+FFFD: still text
    CHECKED = "only some values: a choice, a number or a format"  # U+FFFD or "another" is not one of them
    CHECKBOX = "any text at all means yes"
    LOOKED_UP = "any text, then looked up"  # U+FFFD or "another" matches nothing: not found


def kind_of(field: forms.Field) -> Kind:
    if isinstance(field, forms.BooleanField):
        return Kind.CHECKBOX
    if type(field) in {forms.CharField, CleanTextField}:
        return Kind.FREE_TEXT
    return Kind.CHECKED


@dataclass(frozen=True)
class Variant:
    field: str
    label: str
    body: str
    refused: bool  # must be a 400 that re-shows the form with the GOV.UK error summary
    expected: int | None = None  # the exact status; None where the caller has not pinned the valid answer

    def __str__(self) -> str:
        return f"{self.field!r} with {self.label}"


def encoded(data: FormData) -> Pairs:
    pairs: Pairs = []
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((quote_plus(name), quote_plus(item)))
    return pairs


def joined(pairs: Pairs) -> str:
    return "&".join(f"{name}={value}" for name, value in pairs)


# What each bad input does to a field, by its kind: read as text, refused as text, taken away (the field is
# then missing), kept as it was, or replaced by the text "another".
READ, REFUSED_TEXT, MISSING, KEPT, ANOTHER = "read", "refused text", "missing", "kept", "another"


def outcome(effect: str, kind: Kind, required: bool, answered: int, unmatched: int) -> int:
    """The status a page answers a field's bad input with, given what a valid answer gets."""
    if effect in {READ, ANOTHER}:
        return {Kind.CHECKED: REFUSED, Kind.LOOKED_UP: unmatched}.get(kind, answered)
    if effect == REFUSED_TEXT:
        return answered if kind is Kind.CHECKBOX else REFUSED
    if effect == MISSING:
        return REFUSED if required else answered
    return answered


def form_variants(
    valid: FormData,
    fields: Mapping[str, forms.Field],
    prefix: str = "",
    *,
    validated: bool = True,
    answered: int | None = None,
    kinds: Mapping[str, Kind] | None = None,
    required: Collection[str] = (),
    unmatched: int = NOT_FOUND,
) -> Iterator[Variant]:
    """Each field of a valid answer replaced, one at a time, by each kind of bad input. ``validated=False``
    for a page without a form: nothing it is sent is read, so nothing is refused.

    ``answered`` is the status the valid answer gets; each variant then expects exactly that or a 400, by
    the field's kind (``kinds`` names the fields whose kind is not their class's, such as a postcode) and
    whether it is required (``required`` names those the form's own checks require, not the field).
    ``unmatched`` is what a LOOKED_UP field's text that matches nothing gets."""
    kinds = kinds or {}
    for name, field in _representatives(_as_sent(fields, valid, prefix), valid, prefix, kinds, required):
        key = quote_plus(f"{prefix}-{name}" if prefix else name)
        others = [(n, v) for n, v in encoded(valid) if n != key]
        given = [(n, v) for n, v in encoded(valid) if n == key]
        current = given or [(key, "x")]  # a field the valid answer leaves out gets some text: "x"
        kind = kinds.get(name, kind_of(field)) if validated else Kind.CHECKBOX
        needed = validated and (field.required or name in required)
        replaced: list[tuple[str, Pairs, str]] = []
        for label, raw in UNDECODABLE.items():
            replaced.append((label, [(key, raw)], READ))
        for label in IN_NAMES:
            renamed = [(key + UNDECODABLE[label], value) for _, value in current]
            replaced.append((f"{label} in its name", renamed, MISSING))
        replaced += [
            ("a NUL inside the value", [(key, NUL_INSIDE)], REFUSED_TEXT),
            ("a value that is only a NUL", [(key, NUL_ALONE)], REFUSED_TEXT),
            ("an over-long value", [(key, OVER_LONG)], REFUSED_TEXT),
            ("a NUL in its name", [(key + NUL_INSIDE, value) for _, value in current], MISSING),
            ("the field repeated", current + current, KEPT if given else ANOTHER),
            ("the field repeated with another value", [*current, (key, "another")], ANOTHER),
            ("PHP-style list syntax", [(key + "%5B%5D", value) for _, value in current * 2], MISSING),
        ]
        for label, pairs, effect in replaced:
            refused = effect == REFUSED_TEXT and kind is not Kind.CHECKBOX
            expected = None if answered is None else outcome(effect, kind, needed, answered, unmatched)
            yield Variant(name, label, joined(others + pairs), refused, expected)
    nothing = answered
    if answered is not None and validated and (required or any(field.required for field in fields.values())):
        nothing = REFUSED
    extra = [*encoded(valid), (NUL_ALONE, "x")]
    yield Variant("(none)", "an extra field named NUL", joined(extra), False, answered)
    # An empty POST was a bare 400 on the sign-in pages: the form was left unbound and showed no error.
    yield Variant("(none)", "an empty body", "", False, nothing)


# How many fields of one shape ``make test`` tries every bad input on; ``make fuzz`` tries them all.
SAME_SHAPE_IN_CI = 3


def _shape(field: forms.Field, kind: Kind, needed: bool, given: bool) -> tuple[object, ...]:
    """What decides how a field answers bad input: its class, widget, kind, limits and whether it is needed.
    Two fields of one shape (the national data set's thirty-odd count fields) answer alike."""
    limits = tuple(getattr(field, attr, None) for attr in ("min_value", "max_value", "max_length"))
    choices = len(getattr(field, "choices", ()) or ())
    return (type(field), type(field.widget), kind, needed, given, limits, choices)


def _representatives(
    sent: Iterator[tuple[str, forms.Field]],
    valid: FormData,
    prefix: str,
    kinds: Mapping[str, Kind],
    required: Collection[str],
) -> Iterator[tuple[str, forms.Field]]:
    """Every field under ``make fuzz``; under the ``ci`` profile the first SAME_SHAPE_IN_CI of each shape, in
    the form's order (so the same ones every run)."""
    seen: dict[tuple[object, ...], int] = {}
    given_names = {name for name, _ in encoded(valid)}
    for name, field in sent:
        if PROFILE == "fuzz":
            yield name, field
            continue
        key = quote_plus(f"{prefix}-{name}" if prefix else name)
        shape = _shape(field, kinds.get(name, kind_of(field)), field.required or name in required, key in given_names)
        seen[shape] = seen.get(shape, 0) + 1
        if seen[shape] <= SAME_SHAPE_IN_CI:
            yield name, field


def _as_sent(fields: Mapping[str, forms.Field], valid: FormData, prefix: str) -> Iterator[tuple[str, forms.Field]]:
    """Each field by the name a browser sends it under. A field of several boxes (GOV.UK's date input: day,
    month and year) is each box: only some values (a number), and needed when the valid answer gives it
    (one box alone is refused)."""
    for name, field in fields.items():
        widget = field.widget
        if isinstance(field, forms.MultiValueField) and isinstance(widget, forms.MultiWidget):
            for suffix in widget.widgets_names:  # type: ignore[attr-defined]  # django-stubs lacks it
                box = f"{name}{suffix}"
                yield box, forms.IntegerField(required=(f"{prefix}-{box}" if prefix else box) in valid)
        else:
            yield name, field


@contextmanager
def rolled_back(client: Client) -> Iterator[None]:
    """Whatever the request changes (database rows, the client's cookies) is undone afterwards."""
    cookies = copy.deepcopy(client.cookies)
    try:
        with rolled_back_block():
            yield
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies


def post_form(client: Client, path: str, body: str) -> Any:
    """POST the form; a page that shows its errors by post/redirect/get is followed to them."""
    with rolled_back(client):
        response = client.generic("POST", path, body.encode("ascii"), content_type=FORM)
        if response.status_code == 302 and urlsplit(response["Location"]).path in prg_pages(path):
            response = client.get(response["Location"])
        return response


# Forms that show their errors by post/redirect/get on another page than the one they post to.
PRG_PAGES = {
    "/check/concern/message": {"/check/concern"},
    "/check/concern/check-in": {"/check/concern"},
}
# The staff actions show theirs on the case or referral page: /staff/cases/<number>/<action> on
# /staff/cases/<number>.
STAFF_ACTION = re.compile(r"^(/staff/cases/[^/]+|/staff/referrals/[^/]+/[0-9]+)/[^/]+$")


def prg_pages(path: str) -> set[str]:
    action = STAFF_ACTION.match(path)
    return {action.group(1)} if action else PRG_PAGES.get(path, {path})


def assert_gov_uk_answer(response: Any, what: object, *, refused: bool = False, expected: int | None = None) -> None:
    status = response.status_code
    if expected is None:
        assert status in UNPINNED, (what, status, response.content[:300])
    else:
        assert status == expected, (what, status, f"expected {expected}", response.content[:300])
    if status >= 400:
        page = response.content.decode()
        assert 'class="govuk-template"' in page, (what, status, page[:300])
    if status == 400:
        assert "govuk-error-summary" in response.content.decode(), (what, "a 400 without the error summary")
    if refused:
        assert status == 400, (what, status, "should have been refused with the form re-shown")


def page_errors(response: Any) -> list[str]:
    """The error summary's messages, to say why a page refused what it was sent."""
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', response.content.decode(errors="replace"), re.S)
    return (
        [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in found.group(1).split("</li>")[:-1]]
        if found
        else []
    )


def assert_every_variant_answered(client: Client, path: str, variants: Iterator[Variant]) -> int:
    """Every variant answered as expected; the failures are listed all at once."""
    count = 0
    failures: list[str] = []
    for variant in variants:
        response = post_form(client, path, variant.body)
        try:
            assert_gov_uk_answer(response, f"{path}: {variant}", refused=variant.refused, expected=variant.expected)
        except AssertionError:
            failures.append(f"{variant}: {response.status_code}, not {variant.expected} {page_errors(response)}")
        count += 1
    assert not failures, "\n".join(failures)
    assert count
    return count


def query_cases(names: list[str]) -> Iterator[tuple[str, str, str, str]]:
    """(parameter, what, query string, what the bad input does to the parameter: READ, REFUSED_TEXT, MISSING,
    KEPT or ANOTHER, as for form fields)."""
    for name in names:
        for label, raw in UNDECODABLE.items():
            yield name, f"{name!r} with {label}", f"{name}={raw}", READ
        for label in IN_NAMES:
            yield name, f"{label} in the name {name!r}", f"{name}{UNDECODABLE[label]}=1", MISSING
        yield name, f"{name!r} with a NUL inside", f"{name}={NUL_INSIDE}", REFUSED_TEXT
        yield name, f"{name!r} that is only a NUL", f"{name}={NUL_ALONE}", REFUSED_TEXT
        yield name, f"{name!r} over-long", f"{name}={OVER_LONG}", REFUSED_TEXT
        yield name, f"a NUL in the name {name!r}", f"{name}%00=1", MISSING
        yield name, f"{name!r} repeated", f"{name}=a&{name}=b", ANOTHER  # the last, "b", is read
        yield name, f"{name!r} in list syntax", f"{name}%5B%5D=a&{name}%5B%5D=b", MISSING
    yield "", "a parameter named NUL", "%00=1", KEPT


def query_variants(names: list[str]) -> Iterator[tuple[str, str, bool]]:
    """(what, query string, must be refused when the name is a validated text or choice parameter)."""
    for _, what, query, effect in query_cases(names):
        yield what, query, effect == REFUSED_TEXT


def query_answer(
    fields: Mapping[str, forms.Field], name: str, effect: str, kinds: Mapping[str, Kind] | None = None
) -> int:
    """What a page or endpoint reading ``fields`` answers a parameter's bad input with: 200, or a 400
    naming it. A parameter it does not read is ignored."""
    if name not in fields:
        return 200
    return outcome(effect, (kinds or {}).get(name, kind_of(fields[name])), False, 200, NOT_FOUND)
