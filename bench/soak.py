"""Mixed soak: `make soak` (SOAK_MINUTES, default 10), or `.venv/bin/python bench/soak.py [--minutes N]`.

Every kind of user at once against gunicorn, a Celery worker and beat on the soak's own database: see
bench/soaking/ (its __init__ says what runs and what counts as an error). Exits 1 when there was any error.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    # As in bench/run.py: run as a script, sys.path[0] is bench/; put the project root there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.soaking.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
