"""The access-code word list lives in the repository (core/wordlists/), exactly as EFF publishes it."""

import hashlib
from pathlib import Path

from core import crypto

WORDLISTS = Path(crypto.__file__).resolve().parent / "wordlists"
# The hash of https://www.eff.org/files/2016/07/18/eff_large_wordlist.txt (core/wordlists/README.md).
EFF_LARGE_WORDLIST_SHA256 = "addd35536511597a02fa0a9ff1e5284677b8883b83e986e43f15a3db996b903e"


def test_the_word_list_is_the_published_eff_file_unchanged() -> None:
    data = (WORDLISTS / "eff_large_wordlist.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == EFF_LARGE_WORDLIST_SHA256


def test_codes_accept_every_eff_word_without_a_hyphen() -> None:
    lines = (WORDLISTS / "eff_large_wordlist.txt").read_text("utf-8").splitlines()
    assert len(lines) == 7776
    words = {line.split("\t")[1] for line in lines}
    assert set(crypto.accepted_access_code_words()) == {word for word in words if "-" not in word}
    assert len(crypto.accepted_access_code_words()) == 7772
