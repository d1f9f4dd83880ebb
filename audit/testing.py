"""Names the test suite needs to run without the TRUNCATE guard on its own database (tests/audit/fixtures.py).

Never lift the guard anywhere else: the trail's promise is that nothing empties it.
"""

# As migration 0002_refuse_truncate creates it.
TRUNCATE_TRIGGER = "audit_event_refuse_truncate"
