#!/usr/bin/env bash
# Renders a statement and the close report in headless Chromium (Debian's `chromium`) to PNG
# at desktop and phone widths and to A4 PDF, and fails unless every rendering succeeded and
# is a real page: a PNG of the expected size that is not blank, and a PDF with pages.
# usage: .ci/browser-check.sh [OUTPUT_DIR]   (a close's output folder; default
# .build/ci-output, which `.ci/run` writes; closed from samples/ when it is missing)
# The screenshots stay in .build/browser-check/ for people to look at.
set -euo pipefail
cd "$(dirname "$0")/.."

output="${1:-.build/ci-output}"
shots=.build/browser-check
through=2026-11-30
if [ ! -f "$output/closes/$through/report.html" ]; then
    echo "== no close in $output: closing samples/ through $through"
    swift run -c debug cycle-runner close --through "$through" --input samples --output "$output" --quiet
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "browser-check: chromium is not installed (apt-get install -y chromium)" >&2
    exit 1
fi

# The statement with the most on it: the queue forecast, an overdraft and packs.
statement="$output/statements/redline-games/2026-11-03.html"
report="$output/closes/$through/report.html"
rm -rf "$shots"
mkdir -p "$shots"

# Chromium wants a writable home and prints D-Bus noise without a session bus; neither
# matters for rendering. The wrapper's memory probe may also print a shell warning.
export HOME="${HOME:-/tmp}"
render() {
    # render NAME FILE MODE ARGS...: MODE is png or pdf.
    local name=$1 file=$2 mode=$3
    shift 3
    local url="file://$(realpath "$file")"
    local target="$shots/$name.$mode"
    local flag="--screenshot=$target"
    [ "$mode" = pdf ] && flag="--print-to-pdf=$target"
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-pdf-header-footer \
        --user-data-dir="$shots/profile" "$@" "$flag" "$url" >"$shots/$name.$mode.log" 2>&1 || {
        echo "browser-check: chromium failed on $file ($mode):" >&2
        tail -20 "$shots/$name.$mode.log" >&2
        exit 1
    }
    [ -s "$target" ] || { echo "browser-check: no $target written" >&2; exit 1; }
}

check_pdf() {
    local file=$1
    local size pages
    size=$(stat -c %s "$file")
    # The page tree's /Count is the number of pages (Chromium writes it uncompressed).
    pages=$({ grep -a -o '/Count [0-9]*' "$file" || true; } | awk '$2 > max { max = $2 } END { print max + 0 }')
    head -c 5 "$file" | grep -q '%PDF-' || { echo "browser-check: $file is not a PDF" >&2; exit 1; }
    if [ "$size" -lt 20000 ] || [ "$pages" -lt 1 ]; then
        echo "browser-check: $file looks empty ($size bytes, $pages pages)" >&2
        exit 1
    fi
    echo "$file: $size bytes, $pages A4 pages"
}

echo "== rendering with $("$browser" --version 2>/dev/null | head -1)"
render statement-desktop "$statement" png --window-size=1100,3600
render statement-phone "$statement" png --window-size=390,6000
render report-desktop "$report" png --window-size=1100,6000
render statement "$statement" pdf
render report "$report" pdf

python3 .ci/png_check.py "$shots/statement-desktop.png" --min-width 1100 --min-height 3600
python3 .ci/png_check.py "$shots/statement-phone.png" --min-width 390 --min-height 6000
python3 .ci/png_check.py "$shots/report-desktop.png" --min-width 1100 --min-height 6000
check_pdf "$shots/statement.pdf"
check_pdf "$shots/report.pdf"
rm -rf "$shots/profile"
echo "== browser check passed; screenshots in $shots/"
