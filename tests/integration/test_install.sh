#!/bin/bash
# 'meson install' into a staging root (DESTDIR): every file lands where
# packagers expect it, the installed binary runs, the completions load in
# bash and zsh, and the manual page is mandoc-lint clean.  The manual page
# and both completions are also compared with 'rotarr --help' and each
# 'rotarr VERB --help', so that a new verb or option without documentation
# fails here.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# The build directory is two levels above the binary (build/cmd/rotarr).
BUILD=$(cd "$(dirname "$ROTARR_BINARY")/.." && pwd)
[ -d "$BUILD/meson-private" ] || die "'$BUILD' is not a meson build directory"
: "${ROTARR_SOURCE_ROOT:?ROTARR_SOURCE_ROOT must name the source tree}"

STAGE=$TEST_TMP/stage

# build_option NAME: prints the value of a meson option of the build.
build_option() {
    meson introspect --buildoptions "$BUILD" |
        /usr/bin/python3 -c '
import json, sys
for option in json.load(sys.stdin):
    if option["name"] == sys.argv[1]:
        print(option["value"])' "$1"
}

PREFIX=$(build_option prefix)
BINDIR=$(build_option bindir)
DATADIR=$(build_option datadir)
MANDIR=$(build_option mandir)
# bindir, datadir and mandir are relative to the prefix unless absolute.
under_prefix() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PREFIX" "$1" ;;
    esac
}
INSTALLED_BIN=$STAGE$(under_prefix "$BINDIR")/rotarr
SHARE=$STAGE$(under_prefix "$DATADIR")
MAN_PAGE=$STAGE$(under_prefix "$MANDIR")/man1/rotarr.1
BASH_COMPLETION=$SHARE/bash-completion/completions/rotarr
ZSH_COMPLETION=$SHARE/zsh/site-functions/_rotarr
UNIT_DIR=$STAGE$PREFIX/lib/systemd/system

# The verbs that 'rotarr --help' lists, one per line.
verbs() {
    "$ROTARR" --help | sed -n '/^verbs:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

# long_options [VERB]: the long options that the help of VERB (or of
# rotarr without one) names in its usage lines, and at the start of its
# option lines, where two spaces end the option and begin its meaning.
long_options() {
    "$ROTARR" "$@" --help |
        awk '/^usage:/ { usage = 1 } /^$/ { usage = 0 }
             usage { print; next }
             /^  +-/ { sub(/^ +/, ""); sub(/  .*/, ""); print }' |
        grep -oE -- '--[a-z][a-z-]+' | sort -u
}

install_succeeds() {
    expect_exit 0 meson install -C "$BUILD" --no-rebuild --quiet \
        --destdir "$STAGE"
}

install_lays_out_files() {
    local file absent=0

    for file in "$INSTALLED_BIN" "$MAN_PAGE" "$BASH_COMPLETION" \
        "$ZSH_COMPLETION" "$SHARE/rotarr/hooks/pre-commit" \
        "$UNIT_DIR/rotarr-rotate.service" "$UNIT_DIR/rotarr-rotate.timer" \
        "$SHARE/doc/rotarr/examples/cron/rotarr"; do
        if [ ! -f "$file" ]; then
            printf '  not installed: %s\n' "${file#"$STAGE"}" >&2
            absent=1
        fi
    done
    for file in "$ROTARR_SOURCE_ROOT"/docs/schema/*.json; do
        if [ ! -f "$SHARE/rotarr/schema/$(basename "$file")" ]; then
            printf '  schema not installed: %s\n' "$(basename "$file")" >&2
            absent=1
        fi
    done
    [ "$absent" -eq 0 ]
}

installed_files_have_modes() {
    [ -x "$INSTALLED_BIN" ] &&
        [ -x "$SHARE/rotarr/hooks/pre-commit" ] &&
        assert_file_mode 644 "$MAN_PAGE" &&
        assert_file_mode 644 "$BASH_COMPLETION"
}

installed_binary_runs() {
    expect_exit 0 "$INSTALLED_BIN" --version &&
        assert_match "$OUT" '^rotarr [0-9]+\.[0-9]+\.[0-9]+$' &&
        expect_exit 0 "$INSTALLED_BIN" gen &&
        assert_match "$OUT" '^[A-Za-z0-9]{32}$'
}

installed_units_name_installed_binary() {
    assert_contains "$UNIT_DIR/rotarr-rotate.service" \
        "ExecStart=$(under_prefix "$BINDIR")/rotarr "
}

bash_completion_registers() {
    # shellcheck disable=SC2016 # $1 is for the inner bash
    expect_exit 0 bash -c 'source "$1" && complete -p rotarr' bash \
        "$BASH_COMPLETION" &&
        assert_contains "$OUT" "complete -F _rotarr rotarr"
}

# bash_complete WORD...: prints the completions bash offers for the last
# WORD of 'rotarr WORD...', one per line.
bash_complete() {
    PATH=$ROTARR_BIN_DIR:$PATH bash -c '
        source "$1"
        shift
        COMP_WORDS=(rotarr "$@")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        _rotarr
        printf "%s\n" "${COMPREPLY[@]}"' bash "$BASH_COMPLETION" "$@"
}

bash_completes_every_verb() {
    local verb undocumented=0

    bash_complete "" >"$OUT"
    for verb in $(verbs); do
        if ! grep -qx -- "$verb" "$OUT"; then
            printf '  bash does not complete verb %s\n' "$verb" >&2
            undocumented=1
        fi
    done
    [ "$undocumented" -eq 0 ]
}

bash_completes_every_option() {
    local verb option undocumented=0

    for verb in $(verbs); do
        bash_complete "$verb" -- >"$OUT"
        for option in $(long_options "$verb"); do
            if ! grep -qx -- "$option" "$OUT"; then
                printf '  bash does not complete %s %s\n' "$verb" \
                    "$option" >&2
                undocumented=1
            fi
        done
    done
    [ "$undocumented" -eq 0 ]
}

bash_completes_service_names() {
    local stack

    stack=$(copy_example_stack "$(mktemp -u "$TEST_TMP/stack.XXXXXX")")
    bash_complete -C "$stack" postgres --service "" >"$OUT" &&
        assert_lines "$OUT" 1 &&
        assert_contains "$OUT" db &&
        bash_complete -C "$stack" inspect --service "" >"$OUT" &&
        assert_contains "$OUT" redis &&
        assert_contains "$OUT" sonarr &&
        bash_complete -C "$stack" arr-key --service "" >"$OUT" &&
        assert_lines "$OUT" 2 &&
        assert_contains "$OUT" radarr
}

bash_completes_files() {
    mkdir -p "$TEST_TMP/files" && : >"$TEST_TMP/files/secret.env.age" &&
        bash_complete decrypt "$TEST_TMP/files/sec" >"$OUT" &&
        assert_contains "$OUT" "$TEST_TMP/files/secret.env.age"
}

zsh_completion_parses() {
    expect_exit 0 zsh -n "$ZSH_COMPLETION"
}

zsh_completion_names_every_verb_and_option() {
    local verb option undocumented=0

    for verb in $(verbs); do
        if ! grep -q "'$verb:" "$ZSH_COMPLETION"; then
            printf '  zsh does not complete verb %s\n' "$verb" >&2
            undocumented=1
        fi
        for option in $(long_options "$verb"); do
            if ! grep -qE -- "[{',)]${option}[]},'[]" "$ZSH_COMPLETION"; then
                printf '  zsh does not complete %s %s\n' "$verb" \
                    "$option" >&2
                undocumented=1
            fi
        done
    done
    [ "$undocumented" -eq 0 ]
}

# zsh_complete LINE: types LINE and a tab into an interactive zsh that
# loads the installed completion, and prints the command line that the
# completion made.  A key bound to a widget writes the line to a file,
# which is simpler to read than the terminal's redrawing.
zsh_complete() {
    local zdot=$TEST_TMP/zdot buffer=$TEST_TMP/zdot/buffer

    mkdir -p "$zdot"
    rm -f "$buffer"
    cat >"$zdot/.zshrc" <<ZSHRC
PS1='ready> '
fpath=('$(dirname "$ZSH_COMPLETION")' \$fpath)
autoload -Uz compinit && compinit -u -d '$zdot/.zcompdump'
PATH='$ROTARR_BIN_DIR':\$PATH
write-buffer() { print -r -- "\$BUFFER" >'$buffer.tmp' && mv '$buffer.tmp' '$buffer' }
zle -N write-buffer
bindkey '^Xw' write-buffer
ZSHRC
    # shellcheck disable=SC2016 # the script is for zsh, not this shell
    ZDOTDIR=$zdot timeout 60 zsh -f -c '
        zmodload zsh/zpty
        zpty z zsh -i
        # Waits for the prompt, types the line, a tab, then the key that
        # writes the line, and waits for the file.
        for (( i = 0; i < 100; i++ )); do
            zpty -r -t z chunk && out+=$chunk
            [[ $out == *"ready> "* ]] && break
            sleep 0.2
        done
        zpty -w -n z "$1"$'"'"'\t'"'"'
        sleep 0.5
        zpty -w -n z $'"'"'\x18w'"'"'
        for (( i = 0; i < 100; i++ )); do
            while zpty -r -t z chunk; do :; done
            [[ -s $2 ]] && break
            sleep 0.2
        done
        zpty -d z' zsh "$1" "$buffer" >/dev/null 2>&1
    cat "$buffer" 2>/dev/null
}

zsh_completes_service_name() {
    local stack

    stack=$(copy_example_stack "$(mktemp -u "$TEST_TMP/stack.XXXXXX")")
    zsh_complete "rotarr -C $stack postgres --service " >"$OUT" &&
        assert_contains "$OUT" "--service db" &&
        zsh_complete "rotarr -C $stack arr-key --service r" >"$OUT" &&
        assert_contains "$OUT" "--service radarr"
}

man_page_is_lint_clean() {
    expect_exit 0 mandoc -T lint -W warning "$MAN_PAGE" &&
        assert_empty "$OUT" &&
        assert_empty "$ERR"
}

man_page_renders() {
    MANWIDTH=80 expect_exit 0 man -l "$MAN_PAGE" &&
        assert_contains "$OUT" "EXIT STATUS"
}

man_page_documents_every_verb_and_option() {
    local verb option undocumented=0

    for verb in $(verbs); do
        if ! grep -qx "\\.Ss $verb" "$MAN_PAGE"; then
            printf '  the manual page has no section for %s\n' "$verb" >&2
            undocumented=1
        fi
        for option in $(long_options "$verb") $(long_options); do
            if ! grep -qF -- "Fl \\${option#-}" "$MAN_PAGE"; then
                printf '  the manual page does not name %s %s\n' "$verb" \
                    "$option" >&2
                undocumented=1
            fi
        done
    done
    [ "$undocumented" -eq 0 ]
}

check "meson install into DESTDIR succeeds" install_succeeds
check "install lays out every file" install_lays_out_files
check "installed files have their modes" installed_files_have_modes
check "installed binary runs" installed_binary_runs
check "installed units name the installed binary" \
    installed_units_name_installed_binary
check "bash completion registers rotarr" bash_completion_registers
check "bash completes every verb" bash_completes_every_verb
check "bash completes every option" bash_completes_every_option
check "bash completes service names" bash_completes_service_names
check "bash completes file names" bash_completes_files
check "manual page is mandoc-lint clean" man_page_is_lint_clean
check "manual page renders with man" man_page_renders
check "manual page documents every verb and option" \
    man_page_documents_every_verb_and_option
if command -v zsh >/dev/null; then
    check "zsh completion parses" zsh_completion_parses
    check "zsh completion names every verb and option" \
        zsh_completion_names_every_verb_and_option
    check "zsh completes service names" zsh_completes_service_name
elif [ "${CI:-}" = true ]; then
    fail "zsh is not installed; scripts/deps installs it"
else
    printf 'zsh is not installed: its completion checks did not run\n'
fi
