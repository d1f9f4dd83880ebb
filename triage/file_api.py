"""A case's files in the staff APIs: how a file is listed, and streaming one (the helpline's API in triage/api.py,
the authorities' in referrals/api.py, which imports this module from the layer above)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from core.files import download_name, file_response
from reports.models import Attachment
from triage.case_content import CaseFile


class CaseFileSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.UUIDField(help_text="The file's id, for .../attachments/{id}")
    name = serializers.CharField(help_text="The name it was sent with")
    type = serializers.CharField(help_text="Its type (a MIME type), as the service detected it from its content")
    size = serializers.IntegerField(help_text="In bytes: of the cleaned file once it has been cleaned")
    status = serializers.ChoiceField(
        choices=Attachment.Status.choices,
        help_text="pending: being checked; clean: checked and cleaned; blocked: blocked by the malware scan "
        "(never served); not_cleaned: could not be cleaned, so it may contain identifying metadata; removed",
    )
    cleaned = serializers.BooleanField(help_text="Checked and stripped of identifying metadata")
    warning = serializers.CharField(allow_blank=True, help_text="What to know before opening it (or why it cannot be)")
    signature = serializers.CharField(allow_blank=True, help_text="For a blocked file: the malware scan's signature")
    added_by = serializers.ChoiceField(choices=Attachment.Source.choices, help_text="Who added it")
    added_on = serializers.DateField(help_text="The day it was added")


class CaseFileListSerializer(serializers.Serializer[dict[str, Any]]):
    attachments = CaseFileSerializer(many=True)


def file_row(file: CaseFile) -> dict[str, Any]:
    return {
        "id": file.public_id,
        "name": file.name,
        "type": file.content_type,
        "size": file.size,
        "status": file.status,
        "cleaned": file.cleaned,
        "warning": file.warning,
        "signature": file.attachment.scan_signature if file.status == Attachment.Status.BLOCKED else "",
        "added_by": file.attachment.source,
        "added_on": file.added_on,
    }


ATTACHMENT_ID = OpenApiParameter("attachment_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The file's id")
# The streamed file, of its own type (any of the accepted ones), sent as a download with a sandboxing
# Content-Security-Policy.
FILE_RESPONSES: dict[Any, Any] = {
    (200, "*/*"): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="The file, decrypted as it is streamed (Content-Type: its own type; Content-Disposition: "
        "attachment; Content-Security-Policy: sandbox). Every download is recorded.",
    ),
    404: OpenApiResponse(description="No such file, or it is still being checked"),
    410: OpenApiResponse(description="The file was blocked by the malware scan, or removed: it is never served"),
}


def file_streamed(file: CaseFile, chunks: Iterator[bytes]) -> Any:
    return file_response(
        chunks,
        name=download_name(file.name, extension=file.extension, extensions=file.extensions),
        content_type=file.content_type,
        size=file.size,
    )


class FileApiView(APIView):
    """An API view that streams a file: its errors are JSON whatever the client accepts."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)
