#!/bin/sh
# Runs once, when the postgres container initialises an empty volume: the role the services run as.
# POSTGRES_USER (the schema's owner) runs migrations; core/roles.py grants this role its privileges,
# INSERT and SELECT only on the audit trail. For a volume initialised before, run the same SQL by hand.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v runtime_password="$POSTGRES_RUNTIME_PASSWORD" <<'SQL'
CREATE ROLE helpline_app LOGIN PASSWORD :'runtime_password';
SQL
