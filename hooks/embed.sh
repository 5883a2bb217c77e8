#!/bin/sh
# Writes the C file OUTPUT that defines rotarr_hook_template, the bytes of
# the file INPUT followed by a NUL, and rotarr_hook_template_len, their
# number.  Needs only od and sed, so that the build has no other tool.
#
#   embed.sh INPUT OUTPUT
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: embed.sh INPUT OUTPUT" >&2
    exit 2
fi
input=$1
output=$2
size=$(wc -c <"$input")

{
    printf '/* Generated from %s by hooks/embed.sh; do not edit. */\n' \
        "${input##*/}"
    printf '#include "rotarr/compat.h"\n\n#include <stddef.h>\n\n'
    printf 'extern const char rotarr_hook_template[];\n'
    printf 'extern const size_t rotarr_hook_template_len;\n\n'
    printf 'const char rotarr_hook_template[] = {\n'
    od -An -v -tx1 "$input" |
        sed -e 's/^ *//' -e 's/ *$//' -e '/^$/d' \
            -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g' -e 's/^/    /'
    printf '    0x00,\n};\n\n'
    printf 'const size_t rotarr_hook_template_len = %d;\n' "$size"
} >"$output.tmp"
mv -- "$output.tmp" "$output"
