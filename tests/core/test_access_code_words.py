"""The access-code word list (issue 13): new codes come from a curated list, old codes still open.

New codes are drawn from the EFF large list minus the reviewed block list in core/wordlists/blocklist.txt;
on entry every word of the full list is still accepted, so a reporter whose code holds a word that is now
blocked is not locked out of their report.
"""

import math
from collections import defaultdict
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from core import crypto
from reports import services
from tests.factories import submit_report

BLOCKLIST = Path(crypto.__file__).resolve().parent / "wordlists" / "blocklist.txt"

REQUIRED_CATEGORIES = (
    "violence and weapons",
    "death and mourning",
    "crime",
    "police and prison",
    "sex and the body",
    "illness and injury",
    "fear",
    "grief and cruelty",
    "insults",
)

# A code issued before the curation: three of its words are blocked now (the issue's examples), four are not.
OLD_CODE = "handgun stricken slapping abacus marigold puzzle lantern"


def blocklist_sections() -> dict[str, list[str]]:
    """The block list's words under the '# category' comment above them (the file's preamble holds none)."""
    sections: dict[str, list[str]] = defaultdict(list)
    current = ""
    for raw in BLOCKLIST.read_text("utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            current = line.lstrip("#").strip()
        elif line:
            sections[current].append(line)
    return dict(sections)


def test_the_curated_list_keeps_at_least_7000_words_so_a_code_has_at_least_85_bits() -> None:
    words = crypto.access_code_words()
    assert len(words) >= 7000
    assert len(set(words)) == len(words)
    assert settings.ACCESS_CODE_WORDS >= 7
    assert settings.ACCESS_CODE_WORDS * math.log2(len(words)) >= 85
    assert 7 * math.log2(len(words)) >= 85


def test_the_readme_states_the_curated_word_count_and_the_bits() -> None:
    count = len(crypto.access_code_words())
    bits = 7 * math.log2(count)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    assert f"{count:,} words" in readme
    assert f"{bits:.1f} bits" in readme


def test_every_blocked_word_is_a_word_of_the_original_list_written_once() -> None:
    original = set(crypto.accepted_access_code_words())
    listed = [word for words in blocklist_sections().values() for word in words]
    assert listed, "the block list is empty"
    assert not [word for word in listed if word not in original], "typo or a word that is not in the EFF list"
    assert len(listed) == len(set(listed)), "a word is listed twice"
    assert all(word == word.lower() and word.isalpha() for word in listed)
    assert set(listed) == crypto.blocked_access_code_words()


def test_the_block_list_covers_every_required_category() -> None:
    sections = blocklist_sections()
    for category in REQUIRED_CATEGORIES:
        assert sections.get(category), f"no words under '# {category}'"


def test_the_curated_list_is_the_original_list_minus_the_block_list() -> None:
    curated = set(crypto.access_code_words())
    blocked = crypto.blocked_access_code_words()
    assert not curated & blocked
    assert curated | blocked == set(crypto.accepted_access_code_words())


@pytest.mark.parametrize("word", ["handgun", "stricken", "slapping"])
def test_the_words_named_in_the_issue_are_blocked(word: str) -> None:
    assert word in crypto.blocked_access_code_words()
    assert word not in crypto.access_code_words()
    assert word in crypto.accepted_access_code_words()


def test_new_codes_use_only_curated_words(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn_from: list[tuple[str, ...]] = []
    choice = crypto.secrets.choice

    def recording_choice(vocabulary: tuple[str, ...]) -> str:
        drawn_from.append(vocabulary)
        return choice(vocabulary)

    monkeypatch.setattr(crypto.secrets, "choice", recording_choice)
    blocked = crypto.blocked_access_code_words()
    for _ in range(200):
        assert not set(crypto.generate_access_code().split(" ")) & blocked
    assert drawn_from and all(vocabulary == crypto.access_code_words() for vocabulary in drawn_from)


def test_an_old_code_with_blocked_words_still_normalises() -> None:
    assert crypto.normalise_access_code(OLD_CODE) == OLD_CODE
    typed = " " + OLD_CODE.upper().replace(" ", "-", 3) + "  "
    assert crypto.normalise_access_code(typed) == OLD_CODE


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_an_old_code_with_blocked_words_still_opens_its_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "generate_access_code", lambda words=None: OLD_CODE)
    submitted = submit_report()
    assert submitted.access_code == OLD_CODE
    monkeypatch.undo()

    report, data_key = services.report_unlock(
        reference=submitted.report.reference, access_code=OLD_CODE.upper().replace(" ", "-"), client="c"
    )
    assert report.pk == submitted.report.pk
    assert crypto.open_content(data_key, report.content)

    page = Client().post("/check", {"reference": submitted.report.reference, "access_code": OLD_CODE})
    assert page.status_code == 302
