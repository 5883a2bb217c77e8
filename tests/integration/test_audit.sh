# shellcheck shell=bash
# 'rotarr audit' on the clean media stack in examples/servarr, on the same
# stack with one fault per check (tests/data/audit/faulty, where each
# fault's line ends in "# fault: <check>"), and on the corpus stacks
# when the corpus is present.
. "$(dirname "$0")/lib.sh"

CLEAN=${ROTARR_EXAMPLES:?}/servarr
FAULTY=${ROTARR_TEST_DATA:?}/audit/faulty
CORPUS=${ROTARR_SHARED:?}/corpus

# Copies a stack to a fresh directory with its sample env file as a
# private .env, and prints the copy's path.
stage_stack() {
    local src=$1 sample=$2 dest

    dest=$(mktemp -d "$TEST_TMP/stack.XXXXXX")
    cp -R "$src/." "$dest/"
    cp "$dest/$sample" "$dest/.env"
    chmod 600 "$dest/.env"
    printf '%s\n' "$dest"
}

# Prints "id service file line" for each finding of the JSON in $OUT.
findings() {
    python3 -c '
import json, sys
for f in json.load(sys.stdin)["findings"]:
    print(f["id"], f["service"] or "-", f["file"] or "-", f["line"])
' <"$OUT"
}

check_clean_stack_has_no_finding() {
    local dir

    dir=$(stage_stack "$CLEAN" env.example)
    expect_exit 0 "$ROTARR" -C "$dir" audit --severity low &&
        assert_match "$OUT" "^no findings at or above 'low'$"
}

# The faulty stack, staged with a world-readable .env and a rotation
# recorded 2000 days ago.
stage_faulty() {
    local dir

    dir=$(stage_stack "$FAULTY" env.sample)
    chmod 644 "$dir/.env"
    mkdir "$dir/.rotarr"
    printf 'postgres postgres POSTGRES_PASSWORD %s\n' \
        "$(( $(date +%s) - 2000 * 86400 ))" >"$dir/.rotarr/state"
    printf '%s\n' "$dir"
}

check_each_fault_is_found_on_its_line() {
    local dir line id found failed=0 expected=0

    dir=$(stage_faulty)
    expect_exit 1 "$ROTARR" -C "$dir" --json audit --severity low || return 1
    found=$(findings) || return 1
    while IFS=: read -r line id; do
        id=${id##*# fault: }
        expected=$(( expected + 1 ))
        if ! grep -q "^$id [^ ]* compose.yaml $line\$" <<<"$found"; then
            echo "  no $id finding at compose.yaml:$line" >&2
            failed=1
        fi
    done < <(grep -n '# fault: ' "$dir/compose.yaml")
    echo "  found $expected marked faults" >&2
    [ "$failed" -eq 0 ] && [ "$expected" -ge 15 ]
}

check_faults_outside_compose_are_found() {
    local dir found

    dir=$(stage_faulty)
    expect_exit 1 "$ROTARR" -C "$dir" --json audit --severity low || return 1
    found=$(findings) || return 1
    grep -q '^secret-weak postgres .env 2$' <<<"$found" &&
        grep -q '^env-file-readable - .env 0$' <<<"$found" &&
        grep -q '^secret-overdue postgres .rotarr/state 1$' <<<"$found" &&
        grep -q '^secret-shared authelia .env 3$' <<<"$found"
}

check_every_check_fires_on_faulty_stack() {
    local dir id found absent=0

    dir=$(stage_faulty)
    expect_exit 1 "$ROTARR" -C "$dir" --json audit --severity low || return 1
    found=$(findings) || return 1
    for id in secret-literal secret-weak secret-shared env-file-readable \
        secret-overdue db-no-password mount-docker-socket \
        mount-broad-appdata mount-media-rw mount-media-api-only \
        mount-hardlink-split network-db-shared network-db-not-internal \
        port-db-public umask-open image-latest privileged \
        privileged-cap-add nvidia-caps-all healthcheck-missing \
        no-new-privileges; do
        if ! grep -q "^$id " <<<"$found"; then
            echo "  check $id found nothing" >&2
            absent=1
        fi
    done
    [ "$absent" -eq 0 ]
}

check_groups_most_severe_first() {
    local dir

    dir=$(stage_faulty)
    expect_exit 1 "$ROTARR" -C "$dir" audit --severity low || return 1
    # The first severity under each group header never rises.
    awk '
        /^(service|stack)/ { header = 1; next }
        header && /^  (high|medium|low) / {
            rank = $1 == "high" ? 3 : $1 == "medium" ? 2 : 1
            if (last && rank > last) { bad = 1 }
            last = rank; header = 0
        }
        END { exit bad }
    ' "$OUT"
}

check_severity_sets_exit_status() {
    local dir

    dir=$(mktemp -d "$TEST_TMP/low.XXXXXX")
    printf 'services:\n  web:\n    image: nginx:latest\n' >"$dir/compose.yaml"
    expect_exit 0 "$ROTARR" -C "$dir" audit &&
        expect_exit 1 "$ROTARR" -C "$dir" audit --severity low &&
        assert_match "$OUT" 'image-latest'
}

check_high_severity_hides_lower_findings() {
    local dir

    dir=$(stage_faulty)
    expect_exit 1 "$ROTARR" -C "$dir" --json audit --severity high &&
        python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["severity"] == "high"
assert d["findings"] and all(f["severity"] == "high" for f in d["findings"])
assert d["counts"]["medium"] == 0
assert d["counts"]["low"] == 0
' <"$OUT"
}

check_invalid_severity_is_usage_error() {
    expect_exit 2 "$ROTARR" -C "$CLEAN" audit --severity critical &&
        assert_match "$ERR" "invalid severity 'critical'"
}

check_explain_prints_reason() {
    expect_exit 0 "$ROTARR" audit --explain linuxserver &&
        assert_match "$OUT" 's6-overlay' &&
        expect_exit 0 "$ROTARR" audit --explain mount-docker-socket &&
        assert_match "$OUT" 'socket proxy'
}

check_unknown_explain_id_is_usage_error() {
    expect_exit 2 "$ROTARR" audit --explain no-such-check &&
        assert_match "$ERR" "unknown check 'no-such-check'"
}

check_missing_stack_exits_3() {
    local dir

    dir=$(mktemp -d "$TEST_TMP/empty.XXXXXX")
    expect_exit 3 "$ROTARR" -C "$dir" audit
}

# Fails when any finding about a LinuxServer image mentions a setting
# that breaks its s6 init.  Reads JSON documents, one per file argument.
no_linuxserver_breakage() {
    python3 -c '
import json, re, sys
ls = re.compile(r"^(docker\.io/)?(lscr\.io/|ghcr\.io/)?linuxserver/")
banned = ("no-new-privileges", "cap_drop", "read_only", "user:")
bad = 0
for path in sys.argv[1:]:
    for f in json.load(open(path))["findings"]:
        if ls.match(f["image"].lower()):
            for word in banned:
                if word in f["why"] or word in f["fix"]:
                    print("  %s: %s on %s advises %s" % (path, f["id"],
                          f["service"], word), file=sys.stderr)
                    bad = 1
sys.exit(bad)
' "$@"
}

check_examples_never_break_linuxserver_images() {
    local clean faulty

    clean=$(stage_stack "$CLEAN" env.example)
    faulty=$(stage_faulty)
    "$ROTARR" -C "$clean" --json audit --severity low >"$TEST_TMP/clean.json" &&
        { "$ROTARR" -C "$faulty" --json audit --severity low \
            >"$TEST_TMP/faulty.json" || [ $? -eq 1 ]; } &&
        grep -q 'linuxserver' "$TEST_TMP/faulty.json" &&
        no_linuxserver_breakage "$TEST_TMP/clean.json" "$TEST_TMP/faulty.json"
}

check_linuxserver_scan_catches_breakage() {
    # Twin of the scan: a finding that advises read_only on a LinuxServer
    # image is caught.
    printf '{"findings":[{"id":"x","service":"s","image":"lscr.io/linuxserver/sonarr:4","why":"","fix":"set read_only: true"}]}\n' \
        >"$TEST_TMP/bad.json"
    ! no_linuxserver_breakage "$TEST_TMP/bad.json" 2>/dev/null
}

# The sample env file a stack's install guide copies to .env.
sample_env() {
    local dir=$1 name

    for name in .env example.env .env.example env.example .env.sample \
        variables.env .env.dist .env.template docker-compose.env; do
        if [ -f "$dir/$name" ]; then
            printf '%s\n' "$name"
            return 0
        fi
    done
    return 1
}

# Audits one corpus compose file (all of COMPOSE_FILE when file is ""),
# creating what an install guide has the user create first: a missing
# env_file, a required ${VAR:?} variable.
audit_corpus_file() {
    local dir=$1 file=$2 json=$3 status missing
    local files=()

    if [ -n "$file" ]; then
        files=(-f "$dir/$file")
    fi
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        status=0
        "$ROTARR" -C "$dir" "${files[@]}" --json audit --severity low \
            >"$json" 2>"$ERR" || status=$?
        if [ "$status" -le 1 ]; then
            return 0
        fi
        missing=$(sed -n "s/.*env_file: '\([^']*\)': no such file.*/\1/p" "$ERR")
        if [ -n "$missing" ]; then
            : >"$missing"
            chmod 600 "$missing"
            continue
        fi
        missing=$(sed -n 's/.*required variable \([A-Za-z0-9_]*\) is missing.*/\1/p' "$ERR")
        [ -n "$missing" ] || break
        printf '\n%s=%s\n' "$missing" "$("$ROTARR" gen)" >>"$dir/.env"
    done
    echo "  $file: $(describe_status "$status"): $(cat "$ERR")" >&2
    return 1
}

check_corpus_audits_without_error() {
    local project name dir file sample failed=0 count=0

    if [ ! -d "$CORPUS" ]; then
        echo "  no corpus at '$CORPUS'" >&2
        return 0
    fi
    mkdir -p "$TEST_TMP/corpus" "$TEST_TMP/json"
    for project in "$CORPUS"/*/; do
        name=$(basename "$project")
        dir=$TEST_TMP/corpus/$name
        cp -R "$project." "$dir"
        if sample=$(sample_env "$dir") && [ "$sample" != .env ]; then
            cp "$dir/$sample" "$dir/.env"
        fi
        chmod -R go-rwx "$dir"
        if [ -f "$dir/.env" ] && grep -q '^COMPOSE_FILE=' "$dir/.env"; then
            count=$(( count + 1 ))
            audit_corpus_file "$dir" "" "$TEST_TMP/json/$name.json" ||
                failed=1
            continue
        fi
        while read -r file; do
            count=$(( count + 1 ))
            audit_corpus_file "$dir" "$file" \
                "$TEST_TMP/json/$name-${file//\//_}.json" || failed=1
        done < <(find "$project" -name '*compose*.y*ml' -not -path '*/tests/*' \
                     -printf '%P\n' | sort)
    done
    echo "  audited $count corpus compose files" >&2
    [ "$failed" -eq 0 ] && [ "$count" -gt 0 ] &&
        no_linuxserver_breakage "$TEST_TMP"/json/*.json
}

check "clean stack has no finding" check_clean_stack_has_no_finding
check "each fault is found on its line" check_each_fault_is_found_on_its_line
check "faults outside compose are found" check_faults_outside_compose_are_found
check "every check fires on the faulty stack" check_every_check_fires_on_faulty_stack
check "groups come most severe first" check_groups_most_severe_first
check "severity sets the exit status" check_severity_sets_exit_status
check "high severity hides lower findings" check_high_severity_hides_lower_findings
check "invalid severity is a usage error" check_invalid_severity_is_usage_error
check "explain prints the reason" check_explain_prints_reason
check "unknown explain id is a usage error" check_unknown_explain_id_is_usage_error
check "missing stack exits 3" check_missing_stack_exits_3
check "examples never break LinuxServer images" check_examples_never_break_linuxserver_images
check "LinuxServer scan catches breakage" check_linuxserver_scan_catches_breakage
check "corpus audits without error" check_corpus_audits_without_error
