#!/usr/bin/env bash
# Until the first release, the schema is one initial migration: regenerate it after a model
# change. After the first release, add migrations with `flask --app app db migrate` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*.py
export SIGNAAL_DATABASE_URL="sqlite:///$tmp/regen.db"
.venv/bin/flask --app app db migrate -m "initial schema" >/dev/null
rm -rf "$tmp"
ls migrations/versions/
