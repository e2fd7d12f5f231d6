#!/bin/bash
# render.sh SCDOC VERSION SOURCE.scd OUTPUT: one manual page from its scdoc source.
# @PROJECT_VERSION@ becomes VERSION; .nh after .TH keeps groff from hyphenating
# words (scdoc's own .nh comes before .TH, whose macro turns hyphenation on again),
# so option and member names stay whole. The .TH date is today's, or
# $SOURCE_DATE_EPOCH's when set (reproducible builds).
set -euo pipefail
scdoc="$1" version="$2" source="$3" output="$4"
sed "s/@PROJECT_VERSION@/${version}/g" "$source" | "$scdoc" | sed '/^\.TH /a .nh' > "$output.tmp"
mv "$output.tmp" "$output"
