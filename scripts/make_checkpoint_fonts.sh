#!/usr/bin/env bash
# Regenerate the checkpoint page's fonts: DejaVu Sans (regular, bold) subset to Latin and
# Vietnamese, as WOFF (served from the package, so the page needs nothing from the internet).
# Needs Debian's fonts-dejavu-core and fontTools (installed with the card extra's fpdf2).
set -euo pipefail
cd "$(dirname "$0")/.."
src=/usr/share/fonts/truetype/dejavu
out=src/vaxcert/checkpoint/static/fonts
ranges="U+0020-007E,U+00A0-024F,U+0300-036F,U+1E00-1EFF,U+2000-206F,U+20AB,U+20AC,U+2190-2193,U+2212,U+2026"
for pair in "DejaVuSans.ttf:vx-sans.woff" "DejaVuSans-Bold.ttf:vx-sans-bold.woff"; do
    .venv/bin/pyftsubset "$src/${pair%%:*}" --unicodes="$ranges" --flavor=woff --with-zopfli 2>/dev/null \
        --layout-features='*' --output-file="$out/${pair##*:}" \
        || .venv/bin/pyftsubset "$src/${pair%%:*}" --unicodes="$ranges" --flavor=woff \
            --layout-features='*' --output-file="$out/${pair##*:}"
done
cp /usr/share/doc/fonts-dejavu-core/copyright "$out/DEJAVU-LICENSE" 2>/dev/null || true
ls -l "$out"
