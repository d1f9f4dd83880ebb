from django.urls import path

from oversight import views

app_name = "oversight"

urlpatterns = [
    path("statistics", views.statistics, name="statistics"),
    path("statistics/figures", views.published_figures, name="published_figures"),
    path("statistics.csv", views.statistics_csv, name="statistics_csv"),
    path(
        "statistics/annual-report-<int:year>.<str:extension>",
        views.annual_report_download,
        name="annual_report",
    ),
    path("patterns", views.pattern_alerts, name="patterns"),
    path("patterns/<int:alert_id>", views.pattern_alert_detail, name="pattern_detail"),
    path("patterns/<int:alert_id>/acknowledge", views.pattern_alert_acknowledge, name="pattern_acknowledge"),
    path("patterns/<int:alert_id>/dismiss", views.pattern_alert_dismiss, name="pattern_dismiss"),
    path("patterns/<int:alert_id>/review", views.pattern_alert_review, name="pattern_review"),
]
