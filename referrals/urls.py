from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("referrals", views.referral_list, name="referral_list"),
    # A referral by its own id (a case may be referred to one authority more than once, after a reopen).
    path("referrals/<slug:case_number>/<int:referral_id>", views.referral_detail, name="referral_detail"),
    path("referrals/<slug:case_number>/<int:referral_id>/<slug:action>", views.referral_action, name="referral_action"),
    path(
        "referrals/<slug:case_number>/<int:referral_id>/files/<uuid:file_id>",
        views.referral_file,
        name="referral_file",
    ),
    path(
        "referrals/<slug:case_number>/<int:referral_id>/files/<uuid:file_id>/preview",
        views.referral_file_preview,
        name="referral_file_preview",
    ),
    path(
        "referrals/<slug:case_number>/<int:referral_id>/files/<uuid:file_id>/view",
        views.referral_file_view,
        name="referral_file_view",
    ),
    # The case-number addresses of old emails and bookmarks: the officer's latest referral of the case.
    path("referrals/<slug:case_number>", views.referral_latest, name="referral_latest"),
    path("referrals/<slug:case_number>/<slug:action>", views.referral_latest_action, name="referral_latest_action"),
]
