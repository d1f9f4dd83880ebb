"""The lifecycle tests' files: custody keys, the shred log and the audit checkpoints, each test's own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from tests.factories import closed_back_to, routed_case, staff_user
from triage.case_actions import case_close
from triage.models import Case, Outcome


@pytest.fixture(autouse=True)
def _lifecycle_files(settings: Any, tmp_path: Path) -> None:
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    settings.AUDIT_CHECKPOINT_PATH = str(tmp_path / "audit-checkpoints.jsonl")


@pytest.fixture
def key_folder(settings: Any, tmp_path: Path) -> Path:
    """Custody keys and the shred log in the test's own folder (core.keystore reads the setting per call)."""
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    return tmp_path


ClosedCase = Callable[..., Case]


@pytest.fixture
def closed_case(key_folder: Path) -> ClosedCase:
    """Make a case, routed and closed by a supervisor; ``due_in_days`` sets the day the schedule destroys it
    (negative: already passed), else it is the outcome's period after today."""

    def make(*, due_in_days: int | None = None, outcome: str = Outcome.NOT_SUBSTANTIATED, **report: Any) -> Case:
        closer = staff_user("closing-supervisor", role=User.Role.SUPERVISOR)
        case = routed_case(**report)
        case_close(case=case, outcome=outcome, feedback="Thank you for telling us.", acting_user=closer)
        if due_in_days is not None:
            closed_back_to(case, due_on=timezone.localdate() + timedelta(days=due_in_days))
        return Case.objects.select_related("report").get(pk=case.pk)

    return make
