"""Pages every deployment serves, whatever its role: the accessibility statement."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """The statement the Public Sector Bodies Accessibility Regulations 2018 require, in GOV.UK's pattern."""
    return render(request, "accessibility.html")
