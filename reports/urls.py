from django.urls import path

from reports import receipt_views, views

app_name = "reports"

urlpatterns = [
    path("", views.start, name="start"),
    path("privacy", views.privacy, name="privacy"),
    path("exit", views.exit_page, name="exit"),
    path("report/begin", views.begin, name="begin"),
    path("report/in-progress", views.in_progress, name="in_progress"),
    path("report/session-ended", views.session_ended, name="session_ended"),
    path("report/more-time", views.draft_extend, name="draft_extend"),
    path("report/confirmation", views.confirmation, name="confirmation"),
    path("report/confirmation/receipt", receipt_views.confirmation_receipt, name="confirmation_receipt"),
    path("report/confirmation/receipt.txt", receipt_views.confirmation_receipt_file, name="confirmation_receipt_file"),
    path("report/check-your-answers", views.check, name="check"),
    path("report/documents", views.documents, name="documents"),
    path("report/documents/remove", views.documents_remove, name="documents_remove"),
    path("report/<slug:step>", views.question, name="question"),
    path("check", views.check_start, name="check_start"),
    path("check/concern", views.follow_up, name="follow_up"),
    path("check/concern/message", views.follow_up_message, name="follow_up_message"),
    path("check/concern/close", views.follow_up_close, name="follow_up_close"),
    path("check/concern/more-time", views.follow_up_extend, name="follow_up_extend"),
    path("check/concern/signed-out", views.follow_up_ended, name="follow_up_ended"),
    path("check/concern/check-ins", views.follow_up_checkins, name="follow_up_checkins"),
    path("check/concern/check-ins/stop", views.follow_up_checkins_stop, name="follow_up_checkins_stop"),
    path("check/concern/check-in", views.follow_up_checkin_answer, name="follow_up_checkin_answer"),
    path("check/concern/files", views.follow_up_files, name="follow_up_files"),
    path("check/concern/receipt", receipt_views.follow_up_receipt, name="follow_up_receipt"),
    path("check/concern/receipt.txt", receipt_views.follow_up_receipt_file, name="follow_up_receipt_file"),
    path("receipts/keys", receipt_views.keys_page, name="receipt_keys"),
    path("receipts/keys.json", receipt_views.keys_json, name="receipt_keys_json"),
    path("receipts/verify", receipt_views.verify_page, name="receipt_verify"),
    path("check/concern/identity/answer", views.follow_up_identity_answer, name="follow_up_identity_answer"),
    path("check/concern/identity/withdraw", views.follow_up_identity_withdraw, name="follow_up_identity_withdraw"),
    path("check/concern/contact", views.follow_up_contact, name="follow_up_contact"),
    path("check/concern/files/<uuid:file_id>", views.follow_up_file_download, name="follow_up_file_download"),
]
