"""Every URL of the portal, plus the floors at /bench/floor and /api/bench/upload-floor (bench/floor.py)."""

from django.urls import include, path

from bench.floor import floor_view, upload_floor_view

urlpatterns = [
    path("bench/floor", floor_view, name="bench_floor"),
    path("api/bench/upload-floor", upload_floor_view, name="bench_upload_floor"),
    path("", include("helpline.urls")),
]
