"""Staff API tokens: issued only to a user who passes both factors, revoked on sign-out.

Tokens are django-rest-knox's: stored as hashes, ended after SESSION_IDLE_SECONDS without use and never
living past the session's absolute limit (settings.REST_KNOX). A user with no confirmed authenticator
gets no token: enrolment happens on the staff pages, through an invitation.
"""

from __future__ import annotations

from typing import Any

from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from knox.views import LoginView, LogoutView
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import events, services
from accounts.decorators import staff_user
from core import throttle
from core.http import client_of

REFUSED = {"detail": "Enter a correct username, password and security code."}
THROTTLED = {"detail": "Too many failed sign-ins for this username from here. Try again later."}
NO_SECOND_FACTOR = {"detail": "Set up your authenticator app on the staff pages before using the API."}


def _throttled(*, username: str, client: str) -> Response:
    """Too many failed sign-ins for this username from this client: 429, with the seconds until the
    throttle's window ends (when its counter expires) as Retry-After, as docs/reference.md promises."""
    # The (username, client) counter's key is accounts.services'; its expiry is the window's end.
    seconds = throttle.throttle_wait(key=services._login_key(username, client))
    return Response(THROTTLED, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(max(seconds, 1))})


def _wait(seconds: int) -> Response:
    """The account must wait before another second-factor code is checked."""
    detail = {"detail": services.wait_message(seconds) + "."}
    return Response(detail, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(seconds)})


class SignInSerializer(serializers.Serializer[dict[str, str]]):
    username = serializers.CharField(max_length=150, help_text="The staff member's username, e.g. a.khan.")
    password = serializers.CharField(
        max_length=256, trim_whitespace=False, help_text="The staff member's password, exactly as set."
    )
    code = serializers.CharField(
        max_length=32,
        help_text="The current 6-digit code from the authenticator app, e.g. 492039, or one of the recovery "
        "codes given when the authenticator was set up.",
    )


BEARER_HELP = (
    "The bearer token for the staff API: send it as the header Authorization: Token <token>. Shown once. "
    "It ends after SESSION_IDLE_SECONDS (30 minutes by default) without use, on sign-out, and at the latest "
    "a session's absolute limit after sign-in."
)
EXPIRY_HELP = (
    "When the token ends unless used again, as an ISO 8601 date and time, e.g. 2026-03-02T17:30:00.000000Z: "
    "each use moves it on, up to the absolute limit."
)
DETAIL_HELP = "Why the request was refused, in plain English."

SIGN_IN_EXAMPLES = [
    OpenApiExample(
        "Sign in",
        request_only=True,
        value={"username": "a.khan", "password": "correct horse battery staple", "code": "492039"},
    ),
    OpenApiExample(
        "Signed in",
        response_only=True,
        status_codes=["200"],
        value={
            "token": "3f9a1c2e7b8d4f60a5c1e2d3b4a59687f0e1d2c3b4a5968778695a4b3c2d1e0f",
            "expiry": "2026-03-02T17:30:00.000000Z",
        },
    ),
    OpenApiExample(
        "Too many failed sign-ins",
        response_only=True,
        status_codes=["429"],
        value=THROTTLED,
    ),
]
SIGN_OUT_EXAMPLES = [
    OpenApiExample(
        "No token or an ended token",
        response_only=True,
        status_codes=["401"],
        value={"detail": "Invalid token."},
    ),
]


class SignInApi(LoginView):
    """POST username, password and a second-factor code; get a bearer token for the staff API."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_sign_in",
        request=SignInSerializer,
        examples=SIGN_IN_EXAMPLES,
        parameters=[
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                description="Seconds to wait before the next try is counted",
            )
        ],
        responses={
            200: inline_serializer(
                "TokenIssued",
                {
                    "token": serializers.CharField(help_text=BEARER_HELP),
                    "expiry": serializers.DateTimeField(help_text=EXPIRY_HELP),
                },
            ),
            400: OpenApiResponse(description="Field errors"),
            401: OpenApiResponse(description="Wrong username, password or code"),
            403: OpenApiResponse(description="No authenticator set up, or too many tokens"),
            429: OpenApiResponse(
                description="Too many failed sign-ins for this username from this client, or a wait before "
                "another security code; Retry-After says how many seconds",
                response=inline_serializer("SignInThrottled", {"detail": serializers.CharField(help_text=DETAIL_HELP)}),
            ),
        },
        auth=[],
    )
    @sensitive_variables("serializer", "data")
    def post(self, request: Request, format: Any = None) -> Response:  # noqa: A002 - knox's signature
        serializer = SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        client = client_of(request._request)
        try:
            user = services.login_check_password(
                request=request._request, username=data["username"], password=data["password"], client=client
            )
        except services.LoginThrottled:
            return _throttled(username=data["username"], client=client)
        if user is None:
            return Response(REFUSED, status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Token"})
        if services.confirmed_totp(user) is None:
            return Response(NO_SECOND_FACTOR, status=status.HTTP_403_FORBIDDEN)
        wait = services.second_factor_wait(user=user)
        if wait:
            return _wait(wait)
        if services.otp_verify(user=user, token=data["code"]) is None:
            delay = services.login_record_otp_failure(user=user, client=client)
            if delay:
                return _wait(delay)
            return Response(REFUSED, status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Token"})
        request.user = user
        response: Response = super().post(request, format)
        if response.status_code == status.HTTP_200_OK:
            services.login_succeeded(user=user, client=client, via="api")
            events.auth_event(kind=events.TOKEN_ISSUED, user=user, actor=user)
        return response


class SignOutApi(LogoutView):
    """POST with the token to revoke it."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_sign_out",
        request=None,
        responses={
            204: OpenApiResponse(description="Signed out: the token no longer works"),
            401: OpenApiResponse(
                description="No token was sent, or it had already ended",
                response=inline_serializer("SignOutRefused", {"detail": serializers.CharField(help_text=DETAIL_HELP)}),
            ),
        },
        examples=SIGN_OUT_EXAMPLES,
    )
    def post(self, request: Request, format: Any = None) -> Response:  # noqa: A002 - knox's signature
        user = staff_user(request)
        response: Response = super().post(request, format)
        events.auth_event(kind=events.TOKEN_REVOKED, user=user, actor=user)
        return response
