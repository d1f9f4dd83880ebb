"""Every URL of the portal, plus the floor at /bench/floor."""

from django.urls import include, path

from bench.floor import floor_view

urlpatterns = [
    path("bench/floor", floor_view, name="bench_floor"),
    path("", include("helpline.urls")),
]
