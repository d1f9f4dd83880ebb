from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oversight.annual_export import annual_report_files


class Command(BaseCommand):
    help = (
        "Write the yearly report on disclosures (CSV and HTML): national totals, small counts suppressed. "
        "National oversight downloads the same files from the statistics page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--out", default=".", help="Folder for annual-report-YYYY.csv and .html")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for report_file in annual_report_files(options["year"]).values():
            path = out / report_file.name
            # As served: the CSV keeps csv's own line endings (\r\n), nothing is translated.
            path.write_text(report_file.text, encoding="utf-8", newline="")
            paths.append(path)
        self.stdout.write(f"Wrote {paths[0]} and {paths[1]}")
