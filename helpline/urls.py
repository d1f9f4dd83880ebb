from django.conf import settings
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from helpline.health import healthz, staff_health
from helpline.metrics import metrics
from helpline.pages import accessibility_statement
from reports import api as reports_api
from reports import receipt_api

api_v1 = [
    path("reports", reports_api.ReportSubmitApi.as_view(), name="report_submit"),
    path("reports/access", reports_api.ReportAccessApi.as_view(), name="report_access"),
    path("reports/messages", reports_api.ReportMessageApi.as_view(), name="report_message"),
    path("reports/attachments", reports_api.ReportAttachmentApi.as_view(), name="report_attachment"),
    path("local-authorities", reports_api.LocalAuthoritiesApi.as_view(), name="local_authorities"),
    path("receipts/verify", receipt_api.ReceiptVerifyApi.as_view(), name="receipt_verify"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accessibility", accessibility_statement, name="accessibility"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
]

if settings.HELPLINE_ROLE in {"staff", "combined"}:
    from accounts import api as accounts_api
    from oversight import api as oversight_api
    from referrals import api as referrals_api
    from triage import api as triage_api

    urlpatterns += [
        path("api/v1/auth/sign-in", accounts_api.SignInApi.as_view(), name="auth_sign_in"),
        path("api/v1/auth/sign-out", accounts_api.SignOutApi.as_view(), name="auth_sign_out"),
        path("api/v1/cases", triage_api.CaseListApi.as_view(), name="case_list_api"),
        path("api/v1/cases/<slug:case_number>", triage_api.CaseDetailApi.as_view(), name="case_detail_api"),
        # Before a case's own: "bulk" is no case number.
        path("api/v1/cases/bulk/<slug:action>", triage_api.CaseBulkActionApi.as_view(), name="case_bulk_action_api"),
        # Before the actions: "attachments" is no action.
        path(
            "api/v1/cases/<slug:case_number>/attachments",
            triage_api.CaseAttachmentListApi.as_view(),
            name="case_attachment_list_api",
        ),
        path(
            "api/v1/cases/<slug:case_number>/attachments/<uuid:attachment_id>",
            triage_api.CaseAttachmentApi.as_view(),
            name="case_attachment_api",
        ),
        path(
            "api/v1/cases/<slug:case_number>/<slug:action>", triage_api.CaseActionApi.as_view(), name="case_action_api"
        ),
        path("api/v1/referrals", referrals_api.ReferralListApi.as_view(), name="referral_list_api"),
        path(
            "api/v1/referrals/<int:referral_id>", referrals_api.ReferralDetailApi.as_view(), name="referral_detail_api"
        ),
        path(
            "api/v1/referrals/<int:referral_id>/attachments",
            referrals_api.ReferralAttachmentListApi.as_view(),
            name="referral_attachment_list_api",
        ),
        path(
            "api/v1/referrals/<int:referral_id>/attachments/<uuid:attachment_id>",
            referrals_api.ReferralAttachmentApi.as_view(),
            name="referral_attachment_api",
        ),
        path(
            "api/v1/referrals/<int:referral_id>/<slug:action>",
            referrals_api.ReferralActionApi.as_view(),
            name="referral_action_api",
        ),
        path("api/v1/patterns/alerts", oversight_api.PatternAlertListApi.as_view(), name="pattern_alert_list_api"),
        path(
            "api/v1/patterns/alerts/<int:alert_id>/acknowledge",
            oversight_api.PatternAlertAcknowledgeApi.as_view(),
            name="pattern_alert_acknowledge_api",
        ),
        path(
            "api/v1/patterns/alerts/<int:alert_id>/dismiss",
            oversight_api.PatternAlertDismissApi.as_view(),
            name="pattern_alert_dismiss_api",
        ),
        path(
            "api/v1/patterns/alerts/<int:alert_id>/review",
            oversight_api.PatternAlertReviewApi.as_view(),
            name="pattern_alert_review_api",
        ),
        path("staff/health", staff_health, name="staff_health"),
        # Prometheus, with a bearer token; never on the public role, and refused by the front door.
        path("internal/metrics", metrics, name="internal_metrics"),
        path("staff/", include("triage.urls")),
        path("staff/", include("referrals.urls")),
        path("staff/", include("oversight.urls")),
        path("staff/", include("lifecycle.urls")),
        path("staff/", include("rota.urls")),
        path("staff/", include("accounts.urls")),
    ]
if settings.HELPLINE_ROLE in {"public", "combined"}:
    urlpatterns.append(path("", include("reports.urls")))
else:
    # The staff service's address on its own: the workspace (error pages link to "/").
    urlpatterns.append(path("", RedirectView.as_view(url="/staff/", permanent=False)))

handler400 = "helpline.errors.bad_request"
handler403 = "helpline.errors.permission_denied"
handler404 = "helpline.errors.page_not_found"
handler500 = "helpline.errors.server_error"
