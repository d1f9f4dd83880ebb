"""Mixed soak: `make soak` (SOAK_MINUTES, default 10), or `.venv/bin/python bench/soak.py [--minutes N]`.

Every kind of user at once, for a fixed time, against real processes started the way `make run` starts
them (the project's gunicorn.conf.py with 2 sync workers, a Celery worker on the celery and audit queues,
Celery beat), connected as the runtime role (helpline_app), on its own database (helpline_soak, or
SOAK_DATABASE; dropped and created each run) and its own broker (Redis database 12, or SOAK_REDIS_URL;
flushed). Nothing touches the development data.

Set-up: migrate as the owner, load the local authorities, `seed_demo`, `seed_cases --count N` (default
5,000), then one staff account per virtual user with a fresh authenticator, and a statistics refresh.
Before the load the deadline ladder catches up with the seeded cases (about a thousand emails at 5,000) and
the worker sends them all, so that the soak measures steady work rather than the seeding's backlog.

Virtual users, one thread each, with think time between pages:
  reporter-web   the question pages (CSRF token from each form), check your answers, send: the answer is a
                 redirect to the confirmation page (post/redirect/get), which must show the reference, the
                 access code and the warning that it is shown once; confirm the code was saved (the page
                 then shows the reference without the code); then /check with the reference and access
                 code, read the follow-up page, send a message; now and then comes back to an earlier
                 report instead
  reporter-api   POST /api/v1/reports, /reports/access, /reports/messages (and the authority lookup)
  handler        sign-in (password, then TOTP); queue overview, the case list with a filter, a case page,
                 one action (note, claim, priority, refer, message the reporter); signs in again every
                 few minutes
  officer        referral list, a referral, now and then acknowledges it or asks the helpline
  board          statistics of its region (and the CSV); oversight: national statistics, pattern alerts

An error is a connection failure, any status >= 500, or any status the page should not answer (a 403 from
a lost CSRF token, a 400 from a refused form, a redirect to the sign-in page). A 409 from a case or
referral action is not: two people acting on one case at once is normal, and the app says so; they are
counted apart. Errors and tracebacks in the servers' logs count too.

Every minute the RSS of gunicorn (master + workers), the Celery worker (main + pool) and beat is read from
/proc/<pid>/status. At the end: requests, p50/p95/max and errors per page type, the RSS table and its
growth from minute 2 to the end, written as Markdown to var/soak/summary.md (figures in
var/soak/results.json, logs in var/soak/logs/). Exits 1 when there was any error.

The package, read in this order: ``config`` (database, broker, limits), ``servers`` (set-up and the
processes, their logs), ``browser`` (one virtual user's HTTP client and what counts as an error), ``users``
(the virtual users), ``world`` (set-up in this process: accounts, the seeded deadlines caught up),
``stats``, ``memory`` and ``summary`` (what is counted, sampled and written), ``run`` (the soak itself).
"""
