"""The annual report as files: the CSV and HTML that ``manage.py annual_report`` writes and national
oversight downloads from the statistics page are made here, by the same code, from ``oversight.annual``."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from django.template.loader import render_to_string
from django.utils import timezone

from oversight.annual import AnnualReport, annual_report

FORMATS = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}


@dataclass(frozen=True)
class AnnualReportFile:
    name: str
    content_type: str
    text: str


def annual_report_filename(year: int, extension: str) -> str:
    return f"annual-report-{year}.{extension}"


def annual_report_csv(report: AnnualReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Section", "Measure", "Count"])
    writer.writerows(report.rows())
    return out.getvalue()


def annual_report_html(report: AnnualReport, *, today: date | None = None) -> str:
    """The report as a page; for a year that is not over yet, it says up to which day it counts."""
    today = today or timezone.localdate()
    so_far = today if report.year >= today.year else None
    return render_to_string("oversight/annual_report.html", {"report": report, "so_far": so_far})


def annual_report_files(year: int, *, today: date | None = None) -> dict[str, AnnualReportFile]:
    """The year's report as CSV and HTML (by extension), worked out once for both."""
    report = annual_report(year)
    return {
        "csv": AnnualReportFile(annual_report_filename(year, "csv"), FORMATS["csv"], annual_report_csv(report)),
        "html": AnnualReportFile(
            annual_report_filename(year, "html"), FORMATS["html"], annual_report_html(report, today=today)
        ),
    }
