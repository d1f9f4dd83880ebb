"""Which English children's-services authority a postcode belongs to.

The tables are loaded by ``manage.py load_local_authorities``; the lookup order (exception, then sector
majority, then district) is the one SOURCES.md documents, which reproduces Code-Point Open exactly for
every coded postcode in Great Britain.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import Q

from directory.models import LocalAuthority, NationalBody, PostcodeArea, PostcodeException

LookupKind = Literal["resolved", "candidates", "malformed", "outside_england"]

# The usual UK postcode pattern (as in the GOV.UK and Royal Mail guidance), split so partials can be read.
_OUTWARD = r"[A-Z][A-HJ-Y]?[0-9][A-Z0-9]?"
_FULL_POSTCODE = re.compile(rf"(?P<outward>{_OUTWARD})(?P<inward>[0-9][A-Z]{{2}})")
_OUTWARD_CODE = re.compile(_OUTWARD)
_SECTOR = re.compile(rf"{_OUTWARD} [0-9]")

# Postcode areas outside Great Britain: Code-Point Open has no data for them.
_AREAS_WITHOUT_DATA = {"BT": "Northern Ireland", "IM": "Isle of Man", "JE": "Jersey", "GY": "Guernsey"}
_NATIONS_BY_CODE_PREFIX = {"S": "Scotland", "W": "Wales"}

_WHERE_TO_GO = {
    "Scotland": ("contact the social work services of the local council where the child lives, or Police Scotland"),
    "Wales": (
        "contact the children's services of the local council where the child lives; they follow the "
        "Wales Safeguarding Procedures"
    ),
    "Northern Ireland": ("contact the Gateway Team of the local Health and Social Care Trust, or the NSPCC helpline"),
    "Isle of Man": "contact the Isle of Man Government's children's social care services",
    "Jersey": "contact the Government of Jersey's children's social care services",
    "Guernsey": "contact the States of Guernsey's children's services",
}
_IN_NATION = {"Isle of Man": "the Isle of Man"}
_EMERGENCY = "If a child is in immediate danger, call 999."
MALFORMED = "Enter a real postcode, like S60 1AA"


@dataclass(frozen=True)
class PostcodeLookup:
    """The answer to "which council covers this postcode?", with a message the reporter can read."""

    kind: LookupKind
    message: str
    postcode: str | None = None
    authority: LocalAuthority | None = None
    # English authorities only, most postcode units first.
    candidates: list[LocalAuthority] = field(default_factory=list)
    nation: str | None = None


def normalise_postcode(text: str) -> str | None:
    """Return ``"S60 1AA"``, an outward code ``"S60"`` or a sector ``"S60 1"``; ``None`` when malformed.

    A full postcode may be typed with any spacing; a sector needs its space, since ``"SW11"`` is
    a district in its own right, not the sector ``"SW1 1"``.
    """
    collapsed = " ".join(text.upper().split())
    full = _FULL_POSTCODE.fullmatch(collapsed.replace(" ", ""))
    if full:
        return f"{full['outward']} {full['inward']}"
    if _OUTWARD_CODE.fullmatch(collapsed) or _SECTOR.fullmatch(collapsed):
        return collapsed
    return None


def resolve_postcode(text: str) -> PostcodeLookup:
    """Find the children's-services authority for a postcode, or the ones the reporter can choose from.

    Two or three queries: the exception, the sector and district rows together, then the authorities.
    """
    postcode = normalise_postcode(text)
    if postcode is None:
        return PostcodeLookup(kind="malformed", message=MALFORMED)
    outward, _, inward = postcode.partition(" ")
    area = outward[:2] if outward[1].isalpha() else outward[:1]
    if area in _AREAS_WITHOUT_DATA:
        return _outside_england(postcode=postcode, nation=_AREAS_WITHOUT_DATA[area])

    is_full = len(inward) == 3
    sector = f"{outward} {inward[0]}" if inward else None
    if is_full:
        exception_code = (
            PostcodeException.objects.filter(postcode=postcode).values_list("authority_code", flat=True).first()
        )
        if exception_code is not None:
            return _resolved(postcode=postcode, code=exception_code)

    rows = _area_rows(district=outward, sector=sector)
    row = rows.get(PostcodeArea.Level.SECTOR) or rows.get(PostcodeArea.Level.DISTRICT)
    if row is None:
        return PostcodeLookup(
            kind="candidates",
            postcode=postcode,
            message=(
                f"We could not find {postcode} in our postcode list. "
                "Choose the council for the area where the child lives from the list."
            ),
        )
    from_sector = PostcodeArea.Level.SECTOR in rows
    # A full postcode within a known sector is exactly its sector's majority (unless it is an exception,
    # handled above). Without the sector row the postcode is newer than the data: the district's majority
    # is only a guess, so it is used when the district touches a single authority.
    if is_full and (from_sector or len(row.candidates) == 1):
        return _resolved(postcode=postcode, code=row.authority_code)
    return _candidates(postcode=postcode, row=row)


def postcode_problem(lookup: PostcodeLookup) -> str | None:
    """What to tell someone whose postcode cannot be used (malformed, or outside England); None when it
    found an authority or authorities to choose from. Pages and the API say the same."""
    if lookup.kind == "malformed":
        return MALFORMED
    if lookup.kind == "outside_england":
        return lookup.message
    return None


def authority_choices() -> list[tuple[str, str]]:
    """``(gss_code, name)`` for every authority, by name, for a "choose your council" list."""
    return list(LocalAuthority.objects.order_by("name").values_list("gss_code", "name"))


def police_force_choices() -> list[tuple[str, str]]:
    """``(code, name)`` for every police force of the national bodies directory, by name."""
    return list(
        NationalBody.objects.filter(kind=NationalBody.Kind.POLICE_FORCE).order_by("name").values_list("code", "name")
    )


def national_body_choices(kinds: Iterable[str]) -> list[tuple[str, str]]:
    """``(code, name)`` for the national bodies of ``kinds``: the review panel and regulators first, then
    the police forces by name."""
    rows = (
        NationalBody.objects.filter(kind__in=list(kinds)).order_by("kind", "name").values_list("code", "name", "kind")
    )
    ordered = sorted(rows, key=lambda row: (row[2] == NationalBody.Kind.POLICE_FORCE, row[1]))
    return [(code, name) for code, name, _ in ordered]


def national_body_by_code(code: str) -> NationalBody | None:
    code = code.strip().lower()
    return NationalBody.objects.filter(code=code).first() if code and "\x00" not in code else None


def authority_by_code(code: str) -> LocalAuthority | None:
    """The authority with this current or former GSS code (E08000016 finds Barnsley, now E08000038)."""
    code = code.strip().upper()
    if not code or len(code) > 9 or "\x00" in code:
        return None  # no GSS code is longer, and PostgreSQL refuses a NUL in a query (a 500, not "none")
    matches = list(LocalAuthority.objects.filter(Q(gss_code=code) | Q(former_gss_codes__contains=[code])))
    # Should ONS ever reuse a code, the authority that holds it now wins over one that used to.
    matches.sort(key=lambda authority: authority.gss_code != code)
    return matches[0] if matches else None


def _area_rows(*, district: str, sector: str | None) -> dict[str, PostcodeArea]:
    wanted = Q(level=PostcodeArea.Level.DISTRICT, code=district)
    if sector is not None:
        wanted |= Q(level=PostcodeArea.Level.SECTOR, code=sector)
    return {row.level: row for row in PostcodeArea.objects.filter(wanted)}


def _resolved(*, postcode: str, code: str) -> PostcodeLookup:
    if not _is_english(code=code):
        return _outside_england(postcode=postcode, nation=_nation_of(code=code))
    authority = LocalAuthority.objects.filter(gss_code=code).first()
    if authority is None:
        # The postcode data names an authority we have not loaded: let the reporter choose.
        return PostcodeLookup(
            kind="candidates",
            postcode=postcode,
            message="We could not match this postcode to a council. Choose the council from the list.",
        )
    return PostcodeLookup(
        kind="resolved",
        postcode=postcode,
        authority=authority,
        message=f"{postcode} is in the area of {authority.name}.",
    )


def _candidates(*, postcode: str, row: PostcodeArea) -> PostcodeLookup:
    units_by_code: dict[str, int] = {}
    other_nations: list[str] = []
    for code, _name, units in row.candidates:
        if _is_english(code=code):
            units_by_code[code] = units_by_code.get(code, 0) + int(units)
        elif (nation := _nation_of(code=code)) and nation not in other_nations:
            other_nations.append(nation)
    if not units_by_code:
        return _outside_england(postcode=postcode, nation=other_nations[0] if other_nations else None)

    authorities = sorted(
        LocalAuthority.objects.filter(gss_code__in=units_by_code),
        key=lambda authority: (-units_by_code[authority.gss_code], authority.name),
    )
    names = [authority.name for authority in authorities]
    if len(names) == 1:
        message = f"The council for {postcode} is {names[0]}. Check this is where the child lives."
    elif names:
        message = (
            f"{postcode} covers parts of {', '.join(names[:-1])} and {names[-1]}. "
            "Choose the council for the area where the child lives, or enter the full postcode."
        )
    else:
        message = "We could not match this postcode to a council. Choose the council from the list."
    if other_nations:
        message += (
            f" Part of {postcode} is in {' and '.join(other_nations)}, which this service does not cover: "
            "enter the full postcode if you are not sure."
        )
    return PostcodeLookup(kind="candidates", postcode=postcode, candidates=authorities, message=message)


def _outside_england(*, postcode: str, nation: str | None) -> PostcodeLookup:
    if nation is None:
        message = f"This service covers England, and {postcode} is outside England. {_EMERGENCY}"
    else:
        message = (
            f"This service covers England. For a concern in {_IN_NATION.get(nation, nation)}, "
            f"{_WHERE_TO_GO[nation]}. {_EMERGENCY}"
        )
    return PostcodeLookup(kind="outside_england", postcode=postcode, nation=nation, message=message)


def _is_english(*, code: str) -> bool:
    return code.startswith("E")


def _nation_of(*, code: str) -> str | None:
    """The nation of a Scottish (S) or Welsh (W) GSS code."""
    return _NATIONS_BY_CODE_PREFIX.get(code[:1])
