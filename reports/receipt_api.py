"""POST /api/v1/receipts/verify: anyone checks a reporter's receipt, and optionally an answer against its
fingerprint (docs/receipts.md). Throttled per client like the other public forms; bad input gets field errors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import receipts
from core.http import client_of
from core.text import CleanTextApiField
from reports.forms import RECEIPT_TEXT_MAX
from reports.receipts import FIELD_CHOICES, UnknownField, fingerprinted_fields, receipt_check, receipt_verify_take

RECEIPT_EXAMPLE = (
    '{"answers":{"details":{"salt":"5b0c5ff1c2a4d3e1f2a9b8c7d6e5f4a3","sha256":"0f4c…"},'
    '"summary":{"salt":"…","sha256":"…"}},"disclosed":"2026-12-02","files":[],"issued":"2026-12-02",'
    '"key":"prod1","reference":"HX7K-29QM","service":"cse-whistleblowing-helpline","sig":"…",'
    '"submission":{"salt":"…","sha256":"…"},"v":1}'
)
VERIFY_EXAMPLES = [
    OpenApiExample("Is this receipt genuine?", request_only=True, value={"receipt": RECEIPT_EXAMPLE}),
    OpenApiExample(
        "Does this text match the details sent?",
        request_only=True,
        value={
            "receipt": RECEIPT_EXAMPLE,
            "field": "details",
            "text": "Three referrals since March about the same child were closed without anyone visiting.",
        },
    ),
    OpenApiExample(
        "Genuine, and the text matches",
        response_only=True,
        status_codes=["200"],
        value={
            "genuine": True,
            "problem": "",
            "reference": "HX7K-29QM",
            "disclosed": "2026-12-02",
            "issued": "2026-12-02",
            "key_id": "prod1",
            "fingerprints": ["details", "summary", "submission"],
            "field": "details",
            "matches": True,
        },
    ),
    OpenApiExample(
        "Changed since it was signed",
        response_only=True,
        status_codes=["200"],
        value={
            "genuine": False,
            "problem": "Its signature does not match: the receipt has been changed, or was not made by us.",
            "reference": "HX7K-29QM",
            "disclosed": "2026-12-02",
            "issued": "2026-12-02",
            "key_id": "prod1",
            "fingerprints": ["details", "summary", "submission"],
            "field": None,
            "matches": None,
        },
    ),
    OpenApiExample(
        "Not a receipt",
        response_only=True,
        status_codes=["400"],
        value={"receipt": ["This is not a receipt. A receipt's text block starts with { and ends with }."]},
    ),
]


class ReceiptVerifyApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class ReceiptVerifyInputSerializer(serializers.Serializer[dict[str, Any]]):
        receipt = serializers.CharField(
            max_length=RECEIPT_TEXT_MAX,
            help_text="The receipt's text block, as printed, saved or typed out: whitespace and line breaks are "
            "ignored, and text around the block is left out.",
        )
        field = serializers.ChoiceField(
            choices=list(FIELD_CHOICES),
            required=False,
            help_text="Which fingerprint to check text against: an answer, or the whole submission (its JSON).",
        )
        text = CleanTextApiField(
            required=False,
            max_length=40_000,
            help_text="The text said to have been sent in that answer (required with field).",
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs.get("field") and not attrs.get("text"):
                raise serializers.ValidationError({"text": ["Give the text to check against this field."]})
            if attrs.get("text") and not attrs.get("field"):
                raise serializers.ValidationError({"field": ["Say which field this text should match."]})
            return attrs

    class ReceiptVerdictSerializer(serializers.Serializer[dict[str, Any]]):
        genuine = serializers.BooleanField(help_text="Signed by the helpline with a published key, and unchanged.")
        problem = serializers.CharField(help_text='Why it is not genuine, in plain words ("" when it is).')
        reference = serializers.CharField(allow_null=True, help_text="The reference the receipt names.")
        disclosed = serializers.CharField(allow_null=True, help_text="The day of the disclosure it names.")
        issued = serializers.CharField(allow_null=True, help_text="The day it says it was issued.")
        key_id = serializers.CharField(allow_null=True, help_text="The signing key it names (/receipts/keys).")
        fingerprints = serializers.ListField(
            child=serializers.CharField(), help_text="The fingerprints it holds, any of them a possible field."
        )
        field = serializers.CharField(allow_null=True, help_text="The field checked, if one was given.")
        matches = serializers.BooleanField(
            allow_null=True, help_text="Whether the text matches that fingerprint; null if not asked or not genuine."
        )

    @extend_schema(
        operation_id="receipt_verify",
        description="Check a reporter's receipt of disclosure: whether the helpline signed it and it is unchanged, "
        "and optionally whether a text matches one of its fingerprints. Nothing sent is kept.",
        request=ReceiptVerifyInputSerializer,
        examples=VERIFY_EXAMPLES,
        responses={
            200: ReceiptVerdictSerializer,
            400: OpenApiResponse(description="Field errors: not a receipt, or a field it has no fingerprint of"),
            429: OpenApiResponse(description="Too many checks from this client for now"),
        },
        auth=[],
    )
    @sensitive_variables("serializer", "data")
    def post(self, request: Request) -> Response:
        if not receipt_verify_take(client=client_of(request)):
            return Response(
                {"detail": "Too many receipt checks from here. Try again later."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(settings.RECEIPT_VERIFY_WINDOW_SECONDS)},
            )
        serializer = self.ReceiptVerifyInputSerializer(data=request.data)
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        data = serializer.validated_data
        try:
            checked = receipt_check(block=data["receipt"], field=data.get("field", ""), text=data.get("text", ""))
        except receipts.NotAReceipt as problem:
            return Response({"receipt": [str(problem)]}, status=status.HTTP_400_BAD_REQUEST)
        except UnknownField:
            return Response(
                {"field": ["This receipt has no fingerprint of this field."]}, status=status.HTTP_400_BAD_REQUEST
            )
        except ValueError:
            return Response({"text": ["Give the whole submission as JSON."]}, status=status.HTTP_400_BAD_REQUEST)
        receipt = checked.receipt
        body = {
            "genuine": checked.verdict.genuine,
            "problem": checked.verdict.problem,
            "reference": _text(receipt.get("reference")),
            "disclosed": _text(receipt.get("disclosed")),
            "issued": _text(receipt.get("issued")),
            "key_id": _text(receipt.get("key")),
            "fingerprints": _fields(receipt),
            "field": checked.field or None,
            "matches": checked.matches,
        }
        return Response(self.ReceiptVerdictSerializer(body).data)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _fields(receipt: dict[str, Any]) -> list[str]:
    return fingerprinted_fields(receipt)
