"""Summary tables for safeguarding partnerships and national oversight: PostgreSQL materialized views over cases,
refreshed by the workers (oversight.tasks), so statistics pages never scan a million cases.

They hold codes, months and counts only: no identity, no free text, no reporter sector.
"""

from django.db import models


class Fact(models.Model):
    """What both summary views have: a key, the month, where, and how many cases."""

    key = models.TextField(primary_key=True)
    month = models.DateField()
    authority = models.ForeignKey("directory.LocalAuthority", null=True, on_delete=models.DO_NOTHING, related_name="+")
    region = models.CharField(max_length=64, null=True)  # noqa: DJ001 - a view column: NULL when unknown
    conflict_authority = models.ForeignKey(
        "directory.LocalAuthority", null=True, on_delete=models.DO_NOTHING, related_name="+"
    )
    cases = models.IntegerField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.key


class CaseFact(Fact):
    status = models.CharField(max_length=24)
    outcome = models.CharField(max_length=32)
    # What a local authority recorded, and its referral's clocks: blank (NULL) for a referral to a national
    # body, whose row stays under the case's own authority (oversight migration 0010).
    authority_outcome = models.CharField(max_length=32)
    # referrals.models.RECIPIENT_KINDS: "local_authority" or the national body's kind; NULL when not referred.
    recipient = models.CharField(max_length=16, null=True)  # noqa: DJ001 - NULL when not referred
    ack = models.CharField(max_length=16, null=True)  # noqa: DJ001 - NULL unless referred to an authority
    outcome_timeliness = models.CharField(max_length=16, null=True)  # noqa: DJ001 - as ack
    # The files received with these cases' reports, each case's once (oversight migration 0011): from the
    # reporter, and from a caller (added by the helpline to their phone report). Counts only.
    files_from_reporter = models.IntegerField()
    files_from_caller = models.IntegerField()

    class Meta:
        managed = False
        db_table = "oversight_case_facts"


class ConcernFact(Fact):
    concern_type = models.CharField(max_length=40)

    class Meta:
        managed = False
        db_table = "oversight_concern_facts"


class PictureFact(Fact):
    """The national picture (oversight migration 0008): per month and authority, how many cases have each
    category of each dimension (``cases``) and, for suspects' ethnicity and nationality, how many suspects
    (``suspects``). Dimension "known" counts the cases where each field is known; "cases" every case."""

    dimension = models.CharField(max_length=24)
    category = models.CharField(max_length=40)
    suspects = models.IntegerField()

    class Meta:
        managed = False
        db_table = "oversight_picture_facts"


class ReportedFact(Fact):
    """Cases by whether the concern was already reported to the police or the council (the duty to report):
    reports.models.AlreadyReported's codes."""

    already_reported = models.CharField(max_length=16)

    class Meta:
        managed = False
        db_table = "oversight_reported_facts"


class StoredSuppression(models.Model):
    """What the suppression hid in a year's tables, under a digest of their figures and of the rule
    (``oversight.suppression.digest``): positions in the tables only, no figure. The workers store it for
    every year and scope after each refresh, so that no page works it out from nothing (seconds for a
    sparse national year)."""

    digest = models.CharField(max_length=64, primary_key=True)
    hidden = models.JSONField()  # per table: [primary positions, secondary positions], each [row, column]
    stored_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "oversight_stored_suppression"

    def __str__(self) -> str:
        return self.digest


class PatternAlert(models.Model):
    """A pattern found by detection (oversight.detection): one series, the weeks compared, the figures, and
    what staff did about it. Unique per kind, series and weeks, so running detection again changes nothing
    and an alert dismissed for those weeks never fires again for them (a later week is a new alert).

    Derived from reports, so it keeps days only (``created_on``, ``period_*``, ``acted_on``): no time a
    reporter's action could be dated by. ``series`` names codes only (region, concern type, authority GSS
    code, outcome class, an organisation's keyed-hash prefix); ``source`` says where the metadata behind
    it can be read again (never shown). The dismissal note is staff's few words about the figures, checked
    for anything that looks like a reference, case number, email address or phone number (oversight.forms)."""

    class Kind(models.TextChoices):
        SURGE = "surge", "Surge"
        AUTHORITY_LATENESS = "authority_lateness", "Authority lateness"
        ORGANISATION = "organisation", "Organisation in several reports"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        DISMISSED = "dismissed", "Dismissed"
        REVIEW = "review", "Turned into a national review"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    series_key = models.CharField(max_length=200)  # the series as text: "region=...|concern_type=..."
    series = models.JSONField()
    period_start = models.DateField()  # the first day of the weeks compared
    period_end = models.DateField()  # the last day of the weeks compared
    observed = models.IntegerField()
    expected = models.FloatField()
    threshold = models.FloatField(null=True)  # None: no upper bound (a fallback with nothing to compare)
    method = models.CharField(max_length=24)  # farrington | short_history | too_short | standard | count
    baseline_weeks = models.IntegerField(default=0)
    # The weekly counts of the series up to the week judged (oldest first), for the chart; [] for organisations.
    history = models.JSONField(default=list, blank=True)
    source = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    note = models.CharField(max_length=500, blank=True)
    acted_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    acted_on = models.DateField(null=True, blank=True)
    created_on = models.DateField()
    # The national review case opened from it (status REVIEW): one at most, however often it is asked for.
    review_case = models.OneToOneField(
        "triage.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="pattern_alert"
    )

    class Meta:
        db_table = "oversight_pattern_alert"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "series_key", "period_start", "period_end"], name="pattern_alert_once_per_weeks"
            ),
        ]
        indexes = [models.Index(fields=["status", "-period_end"], name="pattern_alert_status")]

    def __str__(self) -> str:
        return f"{self.kind} {self.series_key} {self.period_start}..{self.period_end}"


class FactsVersion(models.Model):
    """Which refresh of the summary views the figures come from: one row, counted up by each refresh
    (``oversight.selectors.stats_refresh``), so that statistics stored for earlier figures are never read."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "oversight_facts_version"

    def __str__(self) -> str:
        return f"figures of refresh {self.version}"


class StoredStatistics(models.Model):
    """A year's statistics tables for one scope (national oversight, or a safeguarding partnership), as published:
    labels, counts and what is hidden, for the year and each of its quarters. Worked out by the workers
    after each refresh (``oversight.selectors.statistics_prepare``) for the figures of that refresh."""

    version = models.BigIntegerField()
    scope = models.CharField(max_length=80)
    year = models.IntegerField()
    tables = models.JSONField()

    class Meta:
        db_table = "oversight_stored_statistics"
        constraints = [
            models.UniqueConstraint(fields=["version", "scope", "year"], name="stored_statistics_once"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.year} (figures of refresh {self.version})"
