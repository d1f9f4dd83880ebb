from typing import Any

import pytest
from django.test import Client

from reports.models import Report
from tests.factories import valid_api_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


def test_submitting_returns_the_reference_and_a_seven_word_access_code(client: Client) -> None:
    response = post(client, "/api/v1/reports", valid_api_report())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["access_code"].split(" ")) == 7
    assert body["local_authority"] == "E08000018"
    report = Report.objects.get(reference=body["reference"])
    assert report.channel == "api"
    assert report.has_contact_email


def test_a_gss_code_can_be_given_instead_of_a_postcode(client: Client) -> None:
    response = post(client, "/api/v1/reports", valid_api_report(postcode="", local_authority="E10000025"))
    assert response.status_code == 201
    assert response.json()["local_authority"] == "E10000025"


def test_the_council_a_concern_is_about_is_recorded(client: Client) -> None:
    response = post(client, "/api/v1/reports", valid_api_report(about_authority="E08000018"))
    assert Report.objects.get(reference=response.json()["reference"]).about_authority.gss_code == "E08000018"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"anonymity": "anonymous"}, "contact"),
        ({"contact": None}, "contact"),
        ({"contact": {"name": "Sam"}}, "contact"),
        ({"concern_types": []}, "concern_types"),
        ({"concern_types": ["made_up"]}, "concern_types"),
        ({"local_authority": "S12000033", "postcode": ""}, "local_authority"),
        ({"postcode": "EH1 1YZ"}, "postcode"),
        ({"postcode": "not a postcode"}, "postcode"),
        ({"details": "x" * 20_001}, "details"),
        ({"summary": "x" * 301}, "summary"),
        ({"child_at_immediate_risk": "perhaps"}, "child_at_immediate_risk"),
        ({"contact": {"name": "Sam", "email": "not-an-email"}}, "contact"),
    ],
)
def test_invalid_fields_get_a_400_naming_the_field(client: Client, overrides: dict[str, Any], field: str) -> None:
    response = post(client, "/api/v1/reports", valid_api_report(**overrides))
    assert response.status_code == 400
    assert field in response.json()
    assert not Report.objects.exists()


def test_a_scottish_postcode_is_told_the_service_covers_england(client: Client) -> None:
    response = post(client, "/api/v1/reports", valid_api_report(postcode="EH1 1YZ"))
    assert "England" in " ".join(response.json()["postcode"])


def test_details_of_exactly_20000_characters_are_accepted(client: Client) -> None:
    assert post(client, "/api/v1/reports", valid_api_report(details="x" * 20_000)).status_code == 201


def test_the_reporter_reads_status_and_messages_and_can_reply(client: Client) -> None:
    created = post(client, "/api/v1/reports", valid_api_report()).json()
    pair = {"reference": created["reference"], "access_code": created["access_code"].replace(" ", "-")}
    sent = post(client, "/api/v1/reports/messages", {**pair, "body": "More detail", "kind": "more_information"})
    assert sent.status_code == 201
    opened = post(client, "/api/v1/reports/access", pair)
    assert opened.status_code == 200
    body = opened.json()
    assert body["status"] == "received"
    assert body["status_label"]
    assert body["messages"][0]["from"] == "from_reporter"
    assert body["messages"][0]["body"] == "More detail"


def test_every_pair_that_does_not_open_a_report_gets_an_identical_404(client: Client) -> None:
    created = post(client, "/api/v1/reports", valid_api_report()).json()
    answers = [
        post(client, "/api/v1/reports/access", pair)
        for pair in (
            {"reference": created["reference"], "access_code": "abacus " * 7},
            {"reference": "AAAA-AAAA", "access_code": created["access_code"]},
            {"reference": "nonsense", "access_code": "not a code"},
        )
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1


def test_local_authorities_by_postcode(client: Client) -> None:
    assert client.get("/api/v1/local-authorities?postcode=S60 2TH").json() == [
        {"gss_code": "E08000018", "name": "Rotherham"}
    ]
    partial = {a["name"] for a in client.get("/api/v1/local-authorities?postcode=EC1A").json()}
    assert {"City of London", "Islington"} <= partial
    assert client.get("/api/v1/local-authorities?postcode=BT1 1AA").status_code == 400
    assert len(client.get("/api/v1/local-authorities").json()) == 153


def test_the_openapi_schema_and_docs_are_served_with_no_third_party_assets(client: Client) -> None:
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/reports/access" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content and b"https://" not in docs.content
