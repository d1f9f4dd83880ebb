"""The summary: Markdown for var/soak/summary.md."""

from __future__ import annotations

from typing import Any

from bench.soaking.config import CELERY_CONCURRENCY, FLAT_PERCENT, WEB_WORKERS


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Soak, {report['finished_at']}",
        "",
        f"`{report['command']}`: {report['minutes']} min of mixed load ({report['users_text']}), "
        f"gunicorn {WEB_WORKERS} sync workers, Celery worker prefork x{CELERY_CONCURRENCY} + beat, "
        f"{report['seeded_cases']:,} seeded cases; {report['cpu_count']} cores, load average "
        f"{report['loadavg_start']:.2f} at the start and {report['loadavg_end']:.2f} at the end.",
        f"Before the load: {report['settle']['escalated']:,} seeded deadlines escalated and their emails sent "
        f"({report['settle']['seconds']:.0f} s); {report['seeded_referrals_completed']:,} seeded referrals given "
        "their Referral row (see bench/soak.py).",
        "",
        f"**Errors: {report['errors']}** ({', '.join(f'{k} {v}' for k, v in report['error_kinds'].items()) or 'none'}"
        f"; server-log problems {len(report['log_problems'])}). "
        f"Requests: {report['requests']:,} ({report['requests_per_s']:.1f}/s). "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(report["counters"].items()))
        + ".",
        "",
        "| page type | requests | p50 ms | p95 ms | max ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["pages"]:
        errors = str(row["errors"]) + (f" ({row['conflicts']} × 409)" if row["conflicts"] else "")
        lines.append(
            f"| {row['page']} | {row['requests']} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} | {errors} |"
        )
    lines += [
        "",
        "| minute | gunicorn MiB (master + workers) | Celery worker MiB (main + pool) | beat MiB | load avg "
        "| requests so far | errors so far |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["rss"]:
        lines.append(
            f"| {row['minute']} | {row['web_mib']:.1f} | {row['worker_mib']:.1f} | {row['beat_mib']:.1f} "
            f"| {row['loadavg']:.2f} | {row['requests']:,} | {row['errors']} |"
        )
    lines.append("")
    for name, label in (("web", "gunicorn"), ("worker", "Celery worker")):
        g = report["rss_growth"][name]
        if g["mib"] is None:
            lines.append(f"- {label}: too few samples to judge")
            continue
        verdict = "flat" if g["flat"] else f"GROWING (over {FLAT_PERCENT:.0f}%)"
        lines.append(
            f"- {label} RSS, minute {g['from_minute']} to {g['to_minute']}: {g['start_mib']} → {g['end_mib']} MiB, "
            f"{g['mib']:+.1f} MiB ({g['percent']:+.1f}%): {verdict}"
        )
    restarts = report["process_restarts"]
    lines.append(
        f"- gunicorn workers replaced during the run: {restarts['web']}; Celery pool processes replaced: "
        f"{restarts['worker']}"
    )
    after = report["after"]
    lines.append(
        f"- after the load ({report['drain_seconds']:.0f} s to drain): outbox rows pending {after['outbox_pending']}, "
        f"reports without a case {after['reports_without_case']} of {after['reports']:,}, referrals "
        f"{after['referrals']:,}, audit events {after['audit_events']:,}"
    )
    received = report["worker_tasks_received"]
    lines.append(
        "- Celery tasks the worker received (from the start of set-up): "
        + ", ".join(f"{name} {n:,}" for name, n in received.items())
        + f"; beat sent: {', '.join(f'{name} {n:,}' for name, n in report['beat_tasks_sent'].items())}; "
        f"outbox rows {after['outbox_rows']:,}, the most sweeps one row waited through {after['outbox_max_sweeps']}"
    )
    if report["error_records"]:
        lines += ["", "First errors:", ""]
        for e in report["error_records"][:20]:
            lines.append(
                f"- {e['at']:.0f}s {e['user']} {e['page']}: {e['method']} {e['path']} → {e['status']} {e['detail']}"
            )
    if report["log_problems"]:
        lines += ["", "Server-log problems (first 20):", "", "```"]
        lines += report["log_problems"][:20]
        lines.append("```")
    return "\n".join(lines) + "\n"
