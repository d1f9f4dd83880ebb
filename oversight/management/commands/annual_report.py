import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.template.loader import render_to_string

from oversight.annual import annual_report


class Command(BaseCommand):
    help = "Write the yearly report on disclosures (CSV and HTML): national totals, small counts suppressed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--out", default=".", help="Folder for annual-report-YYYY.csv and .html")

    def handle(self, *args: Any, **options: Any) -> None:
        report = annual_report(options["year"])
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        csv_path = out / f"annual-report-{report.year}.csv"
        with csv_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Section", "Measure", "Count"])
            writer.writerows(report.rows())
        html_path = out / f"annual-report-{report.year}.html"
        html_path.write_text(render_to_string("oversight/annual_report.html", {"report": report}), encoding="utf-8")
        self.stdout.write(f"Wrote {csv_path} and {html_path}")
