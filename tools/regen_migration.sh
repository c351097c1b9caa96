#!/usr/bin/env bash
# Until the first release, the schema is one initial migration: regenerate it after a model
# change. After the first release, add migrations with `flask --app app db migrate` instead.
# The old file is replaced only once the new one has been written.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r migrations "$tmp/migrations"
rm -f "$tmp"/migrations/versions/*.py
export SIGNAAL_DATABASE_URL="sqlite:///$tmp/regen.db"
.venv/bin/flask --app app db migrate -d "$tmp/migrations" -m "initial schema" >/dev/null
rm -f migrations/versions/*.py
cp "$tmp"/migrations/versions/*.py migrations/versions/
ls migrations/versions/
