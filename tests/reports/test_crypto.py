import math

import nacl.exceptions
import pytest

from core import crypto


def test_the_access_code_vocabulary_has_at_least_7000_words_without_hyphens() -> None:
    words = crypto.access_code_words()
    assert len(words) >= 7000
    assert all("-" not in word and " " not in word for word in words)


def test_an_access_code_has_seven_words_and_at_least_85_bits() -> None:
    code = crypto.generate_access_code()
    words = code.split(" ")
    assert len(words) == 7
    assert "  " not in code
    assert len(words) * math.log2(len(crypto.access_code_words())) >= 85


def test_access_codes_are_accepted_with_hyphens_capitals_and_extra_spaces() -> None:
    code = crypto.generate_access_code()
    typed = "  " + code.upper().replace(" ", " - ", 3).replace(" ", "-") + " "
    assert crypto.normalise_access_code(typed) == code


@pytest.mark.parametrize("typed", ["", "one two", "notaword " * 7, "x" * 500, "abacus " * 13])
def test_malformed_access_codes_are_refused(typed: str) -> None:
    assert crypto.normalise_access_code(typed) is None


def test_content_opens_only_with_its_own_data_key() -> None:
    key = crypto.new_data_key()
    sealed = crypto.seal_content(key, {"details": "what happened"})
    assert b"what happened" not in sealed
    assert crypto.open_content(key, sealed) == {"details": "what happened"}
    with pytest.raises(nacl.exceptions.CryptoError):
        crypto.open_content(crypto.new_data_key(), sealed)


def test_the_helpline_opens_a_data_key_sealed_to_its_public_key() -> None:
    key = crypto.new_data_key()
    key_id, sealed = crypto.seal_key_for_helpline(key)
    assert crypto.open_key_as_helpline(key_id, sealed) == key


def test_the_reporter_unwraps_the_data_key_with_the_access_code_only(fast_kdf: None) -> None:
    key = crypto.new_data_key()
    code = crypto.generate_access_code()
    wrap = crypto.wrap_key_for_reporter(key, code)
    assert crypto.unwrap_key_for_reporter(wrap, code) == key
    assert crypto.unwrap_key_for_reporter(wrap, crypto.generate_access_code()) is None


def test_the_derivation_parameters_are_interactive_class_by_default() -> None:
    params = crypto.KdfParams.current()
    assert params.memlimit == 64 * 1024 * 1024
    assert params.opslimit >= 2


def test_the_public_role_never_loads_a_private_key(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HELPLINE_ROLE = "public"
    crypto.keyring.cache_clear()
    try:
        assert not crypto.can_decrypt()
        key_id, sealed = crypto.seal_key_for_helpline(crypto.new_data_key())
        with pytest.raises(crypto.KeyUnavailable):
            crypto.open_key_as_helpline(key_id, sealed)
    finally:
        crypto.keyring.cache_clear()


def test_the_same_organisation_written_differently_gets_the_same_keyed_hash() -> None:
    assert crypto.organisation_hash("The Northside Academy Ltd") == crypto.organisation_hash("northside  academy")
    assert crypto.organisation_hash("Northside Academy") != crypto.organisation_hash("Southside Academy")
    assert "northside" not in crypto.organisation_hash("Northside Academy")


def test_client_hashes_hide_the_address_and_differ_by_address() -> None:
    first = crypto.client_hash("127.0.0.77")
    assert "127" not in first
    assert first != crypto.client_hash("127.0.0.78")
    assert first == crypto.client_hash("127.0.0.77")
