"""GOV.UK character counts on the long answers (issue 13): the limit in words without JavaScript, the
component's markup for it with JavaScript."""

from __future__ import annotations

import pytest
from django.test import Client

from reports.forms import DETAILS_MAX, SUMMARY_MAX

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]


def test_the_summary_and_details_fields_count_their_characters() -> None:
    client = Client()
    client.post("/report/begin")
    page = client.get("/report/what-happened").content.decode()
    assert page.count('data-module="govuk-character-count"') == 2
    assert f'data-maxlength="{SUMMARY_MAX}"' in page and f'data-maxlength="{DETAILS_MAX}"' in page
    assert "You can enter up to 300 characters" in page and "You can enter up to 20,000 characters" in page
    assert 'aria-describedby="id_details-hint id_details-info"' in page or 'id_details-info"' in page
    assert page.count("govuk-js-character-count") == 2
