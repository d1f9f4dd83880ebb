"""Gunicorn settings for every web process: `make run`, the benchmarks and the containers.

Never expose gunicorn's sync workers to clients: each holds one connection for as long as its client takes,
so two clients sending one byte at a time hold them all. In `make run` and docker-compose.yml nginx
(deploy/nginx/) is in front: it reads whole requests first and hands gunicorn only complete ones.

Everything is read from the environment so that one file serves them all:
  BIND                where to listen (default 127.0.0.1:$PORT; the image sets 0.0.0.0:8000; make run sets
                      127.0.0.1:$GUNICORN_PORT, behind nginx on $PORT)
  PORT                port for the default bind (8000)
  WEB_CONCURRENCY     worker processes (2); each may hold ACCESS_CODE_KDF_CONCURRENCY x 64 MiB of Argon2
  GUNICORN_TIMEOUT    seconds before a silent worker is restarted (30)
  FORWARDED_ALLOW_IPS addresses of the reverse proxy, trusted for X-Forwarded-Proto (loopback)
  GUNICORN_LOG_LEVEL  error log level (info)
"""

import os

wsgi_app = "helpline.wsgi:application"

# Gunicorn's own log lines and error answers: no client address in a log, every security header on an
# error page (see helpline/gunicorn_hooks.py).
logger_class = "helpline.gunicorn_hooks.ScrubbingLogger"
worker_class = "helpline.gunicorn_hooks.SyncWorker"

bind = [os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
proc_name = f"helpline-{os.environ.get('HELPLINE_ROLE', 'combined')}"

# Only the reverse proxy is trusted to say the request came over HTTPS (and to set SCRIPT_NAME).
# Gunicorn's own default is loopback; in the containers the proxy reaches us through a published port
# bound to the host's loopback, so docker-compose.yml widens this (see the comment there).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access log: who reported a concern must not be reconstructable from our logs. The format therefore
# leaves out the client address (%(h)s), the user agent (%(a)s), the referer (%(f)s), the request line
# and query string (%(r)s, %(q)s), the remote user (%(u)s), the time (the log collector stamps lines)
# and every header or environ atom ({...}i, {...}o, {...}e). What is left is coarse: method, path
# without its query string, status, response size and duration in milliseconds.
accesslog = "-"
access_log_format = "%(m)s %(U)s %(s)s %(b)s %(M)sms"

# The error log gets gunicorn's own messages only: no hook here logs request bodies or headers, and the
# logger class removes every IP address from every line (gunicorn's "Invalid request from ip=…" warning
# names the peer). Django's own logging is configured, and scrubbed, in helpline/settings.py.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
capture_output = False

# No runtime control socket: nothing manages workers by hand, and the container user has no home.
control_socket_disable = True

# Worker heartbeats on a memory-backed filesystem where there is one (as in containers), so a slow
# overlay filesystem never stalls a worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
