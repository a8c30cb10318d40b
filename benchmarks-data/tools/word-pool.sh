#!/usr/bin/env bash
# Rebuilds the RULER common-words pool (cwe) from SCOWL's word lists as Debian's `scowl` package
# installs them. Run from benchmarks-data/ after `apt-get install scowl` (or with the directory of an
# unpacked `apt-get download scowl`):  tools/word-pool.sh [/usr/share/dict/scowl]
# Writes two resources: common-words.txt (SCOWL sizes 10-40, the common words) and
# extended-words.txt (sizes 50-60 less the common ones, used only when a sample needs more words).
set -euo pipefail
dict=${1:-/usr/share/dict/scowl}
out=src/main/resources/dev/kimilinear/data/ruler
blocklist=src/test/resources/dev/kimilinear/data/ruler/offensive-words.txt
export LC_ALL=C
[ -r "$dict/english-words.10" ] || { echo "no SCOWL lists in $dict (english-words.10 missing)" >&2; exit 1; }

# Lowercase ASCII letters only (drops possessives, accented words, hyphens), 3-12 letters,
# nothing the blocklist names; sorted, each word once.
words() {
    local files=()
    for size in "$@"; do
        files+=("$dict/english-words.$size" "$dict/american-words.$size")
    done
    cat "${files[@]}" | grep -E '^[a-z]{3,12}$' | awk -v blocklist="$blocklist" '
        BEGIN {
            while ((getline entry < blocklist) > 0) {
                if (entry ~ /^#/ || entry == "") continue
                if (entry ~ /^\*.*\*$/) contains[substr(entry, 2, length(entry) - 2)] = 1
                else if (entry ~ /\*$/) prefix[substr(entry, 1, length(entry) - 1)] = 1
                else exact[entry] = 1
            }
        }
        {
            if ($0 in exact) next
            for (p in prefix) if (index($0, p) == 1) next
            for (c in contains) if (index($0, c) > 0) next
            print
        }' | sort -u
}

header() {
    cat <<HEAD
# RULER common-words pool ($1). Derived from SCOWL (Spell Checker Oriented Word Lists, Kevin
# Atkinson) as packaged by Debian (package scowl 2020.12.07), files english-words.N and
# american-words.N for N in $2; kept: lowercase a-z words of 3-12 letters, none named in
# offensive-words.txt; sorted, each once. Licence: SCOWL's copyright notice, see
# NOTICE-SCOWL.txt beside this file. Rebuilt by benchmarks-data/tools/word-pool.sh.
HEAD
}

common=$(mktemp)
trap 'rm -f "$common"' EXIT
words 10 20 35 40 > "$common"
{ header "common words" "10 20 35 40"; cat "$common"; } > "$out/common-words.txt"
{ header "extended words, none of them in common-words.txt" "50 55 60"; words 50 55 60 | comm -23 - "$common"; } \
    > "$out/extended-words.txt"
wc -l "$out/common-words.txt" "$out/extended-words.txt"
