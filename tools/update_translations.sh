#!/bin/sh
# Bring every catalogue under translations/ up to date with the strings in the code, then list
# what still needs a translator. Run it after adding or changing user-facing text:
#
#   tools/update_translations.sh           # extract, update, report (exit 0)
#   tools/update_translations.sh --check   # the same, but exit 1 while anything is untranslated
#
# Then translate the listed entries in translations/<lang>/LC_MESSAGES/messages.po (remove the
# "fuzzy" flag once a guessed translation is checked); `make translations` compiles them.
set -eu

cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
LANGUAGES=${LANGUAGES:-nl}
CHECK=0
[ "${1:-}" = "--check" ] && CHECK=1

template=$(mktemp)
trap 'rm -f "$template"' EXIT

# _l and lazy_gettext mark strings built at import time (labels, form fields).
"$BIN/pybabel" -q extract -F babel.cfg -k _l -k lazy_gettext \
    --project=Signaal --copyright-holder="Signaal contributors" \
    --sort-by-file --width=100 -o "$template" .

for lang in $LANGUAGES; do
    catalogue="translations/$lang/LC_MESSAGES/messages.po"
    if [ -f "$catalogue" ]; then
        # Obsolete entries are dropped: git history keeps old translations if they come back.
        "$BIN/pybabel" -q update -i "$template" -d translations -l "$lang" \
            --ignore-obsolete --width=100
    else
        "$BIN/pybabel" -q init -i "$template" -d translations -l "$lang" --width=100
    fi
done

"$BIN/python" - "$CHECK" $LANGUAGES <<'PY'
import sys

from babel.messages.pofile import read_po

check, languages = sys.argv[1] == "1", sys.argv[2:]
missing = 0
for lang in languages:
    path = f"translations/{lang}/LC_MESSAGES/messages.po"
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    todo = [m for m in catalog if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))]
    missing += len(todo)
    print(f"{path}: {len(todo)} to translate or check")
    for message in todo:
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        where = ", ".join(f"{file}:{line}" for file, line in message.locations[:2])
        print(f"  {'fuzzy' if message.fuzzy else 'new  '}  {msgid!r}  ({where})")
sys.exit(1 if check and missing else 0)
PY
