"""The local authority directory: England's children's services authorities and the postcode tables
that find them. Loaded from open data by ``manage.py load_local_authorities``.

The tables keep the names they were created with when these models lived in triage.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models

# GOV.UK's "Find your local council" page for one council: this prefix and the council's gov_uk_slug.
GOV_UK_COUNCIL_URL = "https://www.gov.uk/find-local-council/"

# The year of LocalAuthority.population: mySociety's ``pop-2020`` column ("the estimated number of people living
# in the local authority in 2020", uk_local_authorities_current.csv, CC BY 4.0). The authorities created in April
# 2023 (Cumberland, Westmorland and Furness, North Yorkshire, Somerset) carry the 2020 total of the councils they
# replaced.
POPULATION_YEAR = 2020


class LocalAuthority(models.Model):
    """An English upper-tier authority that runs children's services (153 of them)."""

    gss_code = models.CharField(max_length=9, unique=True)
    name = models.CharField(max_length=128)
    official_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=64)
    region = models.CharField(max_length=64, db_index=True)
    mysociety_code = models.CharField(max_length=8, blank=True)
    gov_uk_slug = models.CharField(max_length=128, blank=True)
    former_gss_codes = ArrayField(models.CharField(max_length=9), default=list, blank=True)
    referral_email = models.EmailField(blank=True, help_text="The authority's referral inbox.")
    # The people living in the authority's area in POPULATION_YEAR (set by load_local_authorities); None when
    # the data gives none. Used for reports per 100,000 people (oversight.published).
    population = models.PositiveIntegerField(
        null=True, blank=True, help_text=f"People living in the area ({POPULATION_YEAR} estimate); blank if not known."
    )
    # Telephone numbers, as the council publishes them (set by administrators or import_authority_contacts).
    # Blank when nobody has given one: never invented (demo data uses Ofcom's drama range, 01632 960xxx).
    emergency_duty_phone = models.CharField(
        max_length=32, blank=True, help_text="The council's emergency duty team (out of hours)."
    )
    childrens_services_contact = models.CharField(
        max_length=32, blank=True, help_text="The council's children's services front door (office hours)."
    )

    class Meta:
        db_table = "triage_localauthority"
        ordering = ["name"]
        verbose_name_plural = "local authorities"

    def __str__(self) -> str:
        return self.name

    @property
    def gov_uk_url(self) -> str:
        """The council's page on GOV.UK (its contact details and website), or "" without a slug."""
        return f"{GOV_UK_COUNCIL_URL}{self.gov_uk_slug}" if self.gov_uk_slug else ""


class Partnership(models.Model):
    """A local safeguarding partnership (Children and Social Work Act 2017, Working Together): the local
    authority, the police and the integrated care board of an area, which replaced the Local Safeguarding
    Children Boards. It covers one authority or several; administrators say which. Its members see the
    statistics of those authorities only (accounts.policy.statistics_partnership)."""

    name = models.CharField(max_length=128, unique=True)
    authorities = models.ManyToManyField(LocalAuthority, related_name="partnerships")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PostcodeArea(models.Model):
    """A postcode district (``S60``) or sector (``S60 1``) and the authorities it touches.

    Authority codes are kept as text: border areas name Welsh and Scottish councils too.
    """

    class Level(models.TextChoices):
        DISTRICT = "district"
        SECTOR = "sector"

    level = models.CharField(max_length=8, choices=Level.choices)
    code = models.CharField(max_length=8)
    authority_code = models.CharField(max_length=9)
    # [[gss_code, name, postcode_units], ...] most units first.
    candidates = models.JSONField(default=list)

    class Meta:
        db_table = "triage_postcodearea"
        constraints = [models.UniqueConstraint(fields=["level", "code"], name="postcode_area_unique")]

    def __str__(self) -> str:
        return f"{self.level} {self.code}"


class PostcodeException(models.Model):
    """A full postcode whose authority differs from its sector's majority."""

    postcode = models.CharField(max_length=8, primary_key=True)
    authority_code = models.CharField(max_length=9)

    class Meta:
        db_table = "triage_postcodeexception"

    def __str__(self) -> str:
        return self.postcode


class NationalBody(models.Model):
    """A national body a case may be referred to besides a local authority: the independent national review
    team (whose reviewers work the referral in this service), Ofsted, the Care Quality Commission, a police
    force and the Child Safeguarding Practice Review Panel. As for authorities, an email to a body never
    holds case content. Only the review team has accounts here; a referral to any other body is passed on
    outside the service and records how it was sent and the reference given (referrals.models.Referral)."""

    class Kind(models.TextChoices):
        REVIEW_TEAM = "review_team", "Independent national review team"
        OFSTED = "ofsted", "Ofsted"
        CQC = "cqc", "Care Quality Commission"
        POLICE_FORCE = "police_force", "Police force"
        CSPR_PANEL = "cspr_panel", "Child Safeguarding Practice Review Panel"

    # The bodies whose staff work referrals in this service (a role of accounts.policy holds the accounts).
    WITH_WORKSPACE = frozenset({Kind.REVIEW_TEAM})
    # The bodies the helpline refers a case to directly ("Refer to a national body"): the police go through
    # escalate (with the crime reference) and the review team through independent national review.
    REFERRED_DIRECTLY = (Kind.OFSTED, Kind.CQC, Kind.CSPR_PANEL)

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    contact_email = models.EmailField(blank=True, help_text="Where notifications go. They never contain case details.")

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_workspace(self) -> bool:
        """Whether its staff work referrals in this service (else a referral is passed on outside it)."""
        return self.kind in self.WITH_WORKSPACE
