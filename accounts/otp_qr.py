"""The QR code of an authenticator's set-up link, drawn on the server as inline SVG.

Nothing leaves the page: no image service, no script, no data: URI. The SVG uses only presentation
attributes (no inline style), so the Content-Security-Policy (style-src 'self', helpline/headers.py) allows
it, and it is part of the page, so it is sent with the page's own Cache-Control: no-store.
"""

from __future__ import annotations

import segno
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Pixels per module: a version 5–7 code (what an otpauth link needs) is 37–45 modules, under 200 px square
# with its quiet zone, which fits a 375 px wide screen and scans from a laptop screen.
SCALE = 4


def otpauth_qr_svg(uri: str, *, label: str) -> SafeString:
    """An <svg> of ``uri`` as a QR code, with ``label`` as its accessible name (``role="img"``)."""
    code = segno.make(uri, error="m", micro=False)
    svg = code.svg_inline(scale=SCALE, dark="#0b0c0c", light="#ffffff", svgclass="app-otp-qr", lineclass=None)
    # segno escapes nothing it is not given; the label is ours, but escaped all the same.
    opened = f'<svg role="img" aria-label="{escape(label)}" focusable="false" '
    return mark_safe(svg.replace("<svg ", opened, 1))  # noqa: S308 - segno's SVG of our own link
