import pytest

from accounts.checks import demo_users_refused_in_production
from core import crypto
from reports.checks import reports_sealed_to_loaded_keys
from tests.factories import staff_user, submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def test_a_process_that_cannot_load_a_key_in_use_refuses_to_start(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    submit_report()
    settings.HELPLINE_ROLE = "staff"
    assert reports_sealed_to_loaded_keys(None, databases=["default"]) == []
    monkeypatch.setattr(crypto, "loaded_private_key_ids", lambda: {"some-other-key"})
    errors = reports_sealed_to_loaded_keys(None, databases=["default"])
    assert [e.id for e in errors] == ["reports.E001"]


def test_the_public_service_does_not_need_the_private_key(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    submit_report()
    settings.HELPLINE_ROLE = "public"
    monkeypatch.setattr(crypto, "loaded_private_key_ids", lambda: set())
    assert reports_sealed_to_loaded_keys(None, databases=["default"]) == []


def test_production_refuses_active_demo_users(settings) -> None:  # type: ignore[no-untyped-def]
    staff_user("demo", is_demo=True)
    assert demo_users_refused_in_production(None, databases=["default"]) == []
    settings.PRODUCTION = True
    assert [e.id for e in demo_users_refused_in_production(None, databases=["default"])] == ["accounts.E001"]


def test_a_worker_or_staff_service_refuses_to_start_when_a_key_in_use_is_missing(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import django.core.exceptions

    from reports.checks import refuse_to_start_without_keys

    submit_report()
    settings.HELPLINE_ROLE = "worker"
    refuse_to_start_without_keys()
    monkeypatch.setattr(crypto, "loaded_private_key_ids", lambda: set())
    with pytest.raises(django.core.exceptions.ImproperlyConfigured, match="cannot load"):
        refuse_to_start_without_keys()
    settings.HELPLINE_ROLE = "public"
    refuse_to_start_without_keys()
