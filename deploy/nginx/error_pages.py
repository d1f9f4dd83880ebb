#!/usr/bin/env python3
"""The pages nginx answers with itself, rendered from the project's own GOV.UK error templates.

    python deploy/nginx/error_pages.py var/nginx/pages

nginx answers some requests without gunicorn: a body over the limit (413), a request it cannot read (400, 414) and
gunicorn not answering at all (502, 504); at the upload addresses, a body over one file's limit and a client
already sending as many files as it may (UPLOAD_PAGES). Those answers are
the same pages Django shows (helpline/errors.py renders them the same way: no request, only which side of the
service and the helpline's number from the settings), written here as files for deploy/nginx/site.conf.in:

  public/<status>.html, staff/<status>.html   the pages, for each side of the service
  api/<status>.json                           {"detail": …} under /api/, as helpline/errors.py answers there
  <side>/413-upload.*, <side>/429-upload.*    the upload addresses' own (deploy/nginx/site.conf.in)
  page-headers.conf                           the security headers of every page, as nginx add_header lines
  static-headers.conf                         those of static files, for the copies nginx serves itself

The Django settings come from the environment, as for manage.py (HELPLINE_PHONE, HELPLINE_HOURS, HSTS).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

# The status nginx sends, and the template whose words fit it. A 502 or 504 from nginx means gunicorn did not
# answer: for the person it is the service being unavailable.
TEMPLATES = {400: "400.html", 413: "413.html", 502: "503.html"}
# The upload addresses' pages (deploy/nginx/proxy.py UPLOAD_PATHS): what they say, and the API's words.
UPLOAD_PAGES = {
    "413-upload": "reports/errors/upload_too_large.html",
    "429-upload": "reports/errors/uploads_busy.html",
}
# Characters nginx would read as part of its own syntax (a variable, the end of the quoted value).
UNSAFE_IN_HEADER = re.compile(r'["\\$\r\n]')


def add_header_lines(headers: Mapping[str, str]) -> str:
    lines = []
    for name, value in headers.items():
        if not re.fullmatch(r"[A-Za-z0-9-]+", name) or UNSAFE_IN_HEADER.search(value):
            raise ValueError(f"cannot write the header {name} for nginx")
        lines.append(f'add_header {name} "{value}" always;\n')
    return "".join(lines)


def write_pages(out: Path) -> None:
    """Render every page and header file into `out`, replacing what was there only once all are written."""
    from django.template.loader import render_to_string

    from helpline.errors import API_DETAIL, error_context
    from helpline.headers import STATIC_HEADERS, headers_outside_django

    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".pages-", dir=out.parent))
    try:
        for side in ("public", "staff", "api"):
            (staging / side).mkdir()
        for status, template in TEMPLATES.items():
            for side in ("public", "staff"):
                page = render_to_string(template, error_context(staff=side == "staff"))
                (staging / side / f"{status}.html").write_text(page, encoding="utf-8")
            detail = API_DETAIL[503 if status == 502 else status]
            (staging / "api" / f"{status}.json").write_text(json.dumps({"detail": detail}), encoding="utf-8")
        write_upload_pages(staging)
        (staging / "page-headers.conf").write_text(add_header_lines(headers_outside_django()))
        (staging / "static-headers.conf").write_text(add_header_lines(STATIC_HEADERS))
        for path in [staging, *staging.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # public pages: nginx's workers read them
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_upload_pages(staging: Path) -> None:
    """The upload addresses' pages, with the file size limit in words from ATTACHMENT_MAX_BYTES."""
    from django.template.loader import render_to_string

    from helpline.errors import error_context
    from reports.forms import max_file_words

    largest = max_file_words()
    details = {
        "413-upload": f"The request body is too large: the file must be smaller than {largest}. "
        "Send one file at a time.",
        "429-upload": "Too many files are being sent from here at once. Wait for the others to finish, then try again.",
    }
    for name, template in UPLOAD_PAGES.items():
        for side in ("public", "staff"):
            page = render_to_string(template, {**error_context(staff=side == "staff"), "max_file": largest})
            (staging / side / f"{name}.html").write_text(page, encoding="utf-8")
        (staging / "api" / f"{name}.json").write_text(json.dumps({"detail": details[name]}), encoding="utf-8")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.settings")
    import django

    django.setup()
    write_pages(Path(sys.argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
