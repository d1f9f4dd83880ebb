"""Seed many realistic, encrypted reports with their routed cases, fast (development and benchmarks only).

``manage.py seed_cases`` is the way in; this package does the work, in layers that can be read alone:

- ``choices``: the weighted random choices and the tables of shares behind them (channels, statuses, ...);
- ``rules``: identifiers and deadlines exactly as the services make them, by calling the services' own
  code (core.identifiers, triage.deadlines), with deadlines cached per day for speed;
- ``generator``: the key pool and the planning of each report and case row, without the database;
- ``bulk``: writing planned rows with binary PostgreSQL COPY, keeping references and case numbers unique;
- ``run``: the orchestration: a planning thread, writer connections, progress and the final checks.

Rows go in with binary COPY (psycopg 3), a batch per transaction, oldest first so that ids and the rows'
places on disk follow time as in a live system. One thread plans rows while two connections write
batches. About 5,500 cases a second on the shared 2-core machine (a million in about three minutes, four
when the machine is busy).

Every report's content is sealed with secretbox like a real one, but under one of a small pool of data
keys: each pooled key is sealed to the helpline's public key and wrapped with its own access code once,
and those envelopes are shared by every report sealed under that key (the access codes are printed at
the end). A routed report keeps no helpline-sealed copy (core.keystore): its pooled key is wrapped once
per custody key, the open-cases key for an open case and, for a closed one, the epoch key of its
destruction month (``Case.destroy_on``, triage.retention.due_day), and those wraps are shared too.
Reports not routed yet (``--unrouted``) keep the helpline-sealed copy and have the outbox row that routes
them. Nothing else is shortened: metadata, routing (routing.decide), queues and deadlines are as
report_submit + report_route and the staff actions would leave them. Seeded cases have no audit events,
escalation rows or messages: the audit hash chain is untouched.
"""
