"""What the helpline records about a case for the national picture (issue 24, point 2): the code lists.

IICSA's final report (2022) asked for a core data set on child sexual abuse (settings and contexts, the
child's circumstances); the national audit on group-based exploitation (2025) found suspects' ethnicity
unrecorded for about two-thirds of them and asked for ethnicity and nationality to be recorded. Ofsted
sorts the whistleblowing it receives into four kinds. Everything here is a code: no free text, and
"not known" is always an answer (the default), so nothing is ever demanded of a reporter.

Suspects are counted per case, by category, never recorded one by one: a row per person would need a data
protection impact assessment first (README)."""

from __future__ import annotations

from django.db import models


class OfstedClass(models.TextChoices):
    """Ofsted's classification of the whistleblowing it receives ("" on the case: not known)."""

    SPECIFIC_CHILD = "specific_child", "A specific child at risk"
    SYSTEMIC_FAILURE = "systemic_failure", "A wider or systemic safeguarding failure"
    QUALITY_OF_CARE = "quality_of_care", "The quality of care or practice"
    REGULATORY = "regulatory", "A regulatory matter"


class Known(models.TextChoices):
    """A yes or no the helpline may not know."""

    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"


class Setting(models.TextChoices):
    """Where the exploitation happened or began (a case may have several; none recorded: not known)."""

    TAXIS = "taxis", "Taxis and private hire"
    HOTELS = "hotels", "Hotels and short-term lets"
    TAKEAWAYS = "takeaways", "Takeaways and the night-time economy"
    CHILDRENS_HOMES = "childrens_homes", "Children's homes and supported accommodation"
    SCHOOLS = "schools", "Schools and colleges"
    ONLINE = "online", "Online"
    OTHER = "other", "Other"


# The two answers about a suspect that are not a category: the gap itself is the finding, so the helpline
# not knowing and the organisation never having recorded it are told apart.
NOT_KNOWN = "not_known"
NOT_RECORDED = "not_recorded"
GAPS: tuple[tuple[str, str], ...] = (
    (NOT_KNOWN, "Not known"),
    (NOT_RECORDED, "Not recorded by the organisation"),
)

# The ONS 2021 census ethnic groups (England and Wales), 19 categories, by high-level group.
ETHNICITY: tuple[tuple[str, str], ...] = (
    ("asian_bangladeshi", "Asian, Asian British or Asian Welsh: Bangladeshi"),
    ("asian_chinese", "Asian, Asian British or Asian Welsh: Chinese"),
    ("asian_indian", "Asian, Asian British or Asian Welsh: Indian"),
    ("asian_pakistani", "Asian, Asian British or Asian Welsh: Pakistani"),
    ("asian_other", "Asian, Asian British or Asian Welsh: other Asian"),
    ("black_african", "Black, Black British, Black Welsh, Caribbean or African: African"),
    ("black_caribbean", "Black, Black British, Black Welsh, Caribbean or African: Caribbean"),
    ("black_other", "Black, Black British, Black Welsh, Caribbean or African: other Black"),
    ("mixed_white_asian", "Mixed or Multiple ethnic groups: White and Asian"),
    ("mixed_white_black_african", "Mixed or Multiple ethnic groups: White and Black African"),
    ("mixed_white_black_caribbean", "Mixed or Multiple ethnic groups: White and Black Caribbean"),
    ("mixed_other", "Mixed or Multiple ethnic groups: other Mixed or Multiple"),
    ("white_british", "White: English, Welsh, Scottish, Northern Irish or British"),
    ("white_irish", "White: Irish"),
    ("white_gypsy_traveller", "White: Gypsy or Irish Traveller"),
    ("white_roma", "White: Roma"),
    ("white_other", "White: other White"),
    ("other_arab", "Other ethnic group: Arab"),
    ("other_any", "Other ethnic group: any other"),
)

# Nationality as the ONS groups it (British, Irish, then by region of the world), "other" for the rest:
# a short, fixed list, since counts by country would be too small to publish.
NATIONALITY: tuple[tuple[str, str], ...] = (
    ("british", "British"),
    ("irish", "Irish"),
    ("eu", "European Union"),
    ("other_europe", "Other European"),
    ("south_asia", "South Asian"),
    ("middle_east_central_asia", "Middle Eastern or Central Asian"),
    ("east_asia", "East or South East Asian"),
    ("africa", "African"),
    ("americas", "North, Central or South American"),
    ("oceania", "Oceanian"),
    ("other", "Other, or stateless"),
)

ETHNICITY_ANSWERS = (*ETHNICITY, *GAPS)
NATIONALITY_ANSWERS = (*NATIONALITY, *GAPS)
# The most suspects a case records: beyond it a count is surely a typing slip.
SUSPECTS_MAX = 999

# Each field the completeness figures measure (the share of cases where it is known), in this order.
COMPLETENESS_FIELDS: tuple[tuple[str, str], ...] = (
    ("ofsted_class", "Ofsted's classification"),
    ("group_based", "Group-based"),
    ("settings", "Settings"),
    ("looked_after", "Looked after"),
    ("placed_out_of_area", "Placed out of area"),
    ("missing_episodes", "Missing episodes"),
    ("suspects", "Number of suspects"),
    ("suspect_ethnicity", "Suspects' ethnicity"),
    ("suspect_nationality", "Suspects' nationality"),
)
