"""Summary tables for boards and national oversight: PostgreSQL materialized views over cases,
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
    authority_outcome = models.CharField(max_length=32)
    ack = models.CharField(max_length=16, null=True)  # noqa: DJ001 - NULL when not referred
    outcome_timeliness = models.CharField(max_length=16, null=True)  # noqa: DJ001 - NULL when not referred

    class Meta:
        managed = False
        db_table = "oversight_case_facts"


class ConcernFact(Fact):
    concern_type = models.CharField(max_length=40)

    class Meta:
        managed = False
        db_table = "oversight_concern_facts"
