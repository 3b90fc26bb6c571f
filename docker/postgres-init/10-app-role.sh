#!/bin/sh
# Run once by the postgres image on an empty data directory: creates the role the web
# app and the workers connect as (DML only; the tables belong to POSTGRES_USER, who
# runs the migrations). See app-role.psql.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner="$POSTGRES_USER" \
  -v app_role="${IOP_DB_APP_USER:-iop_app}" \
  -v app_password="${IOP_DB_APP_PASSWORD:-iop_app}" \
  -f /docker-entrypoint-initdb.d/app-role.psql
