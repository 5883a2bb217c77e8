#!/bin/bash
# The age verbs against the reference implementation.  Files made by
# 'rotarr encrypt' decrypt with age 1.1.1 and the other way round, for
# sizes around the 64 KiB chunk, several recipients, ssh-ed25519, armor
# and passphrases typed on a pseudo-terminal.  Every kind of bad input
# is checked with its exit status.  Also 'keygen', 'exec' and 'edit' on
# an encrypted stack, and the testkit vectors through the command line.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for tool in age age-keygen ssh-keygen python3 sha256sum; do
    if ! command -v "$tool" >/dev/null; then
        if [ "${CI:-}" = true ]; then
            die "'$tool' is missing; install the Debian packages age," \
                "openssh-client and python3"
        fi
        printf 'skipped: %s is missing\n' "$tool"
        exit "$SKIP_STATUS"
    fi
done

readonly PASS='correct horse battery staple'
readonly VECTORS=$ROTARR_TEST_DATA/age-testkit
WORK=$TEST_TMP/work
mkdir -p "$WORK"

# pty_run PASSPHRASE COMMAND [ARG...]: runs the command on a new
# pseudo-terminal, types PASSPHRASE at each passphrase prompt, and exits
# with its status.  The terminal transcript goes to $TEST_TMP/transcript.
export TRANSCRIPT=$TEST_TMP/transcript
pty_run() {
    python3 "$ROTARR_TOOLS/pty_run.py" "$@"
}

# Keys: one from rotarr, two from age-keygen, one SSH key.
"$ROTARR" keygen -o "$WORK/key1" 2>/dev/null || die "rotarr keygen failed"
age-keygen -o "$WORK/key2" 2>/dev/null
age-keygen -o "$WORK/key3" 2>/dev/null
ssh-keygen -q -t ed25519 -N '' -C test -f "$WORK/ssh" || die "ssh-keygen failed"
R1=$(age-keygen -y "$WORK/key1")
R2=$(age-keygen -y "$WORK/key2")
R3=$(age-keygen -y "$WORK/key3")
printf '%s\n' "$R3" >"$WORK/recipients3"

# same FILE1 FILE2: the files have the same bytes.
same() {
    if ! cmp -s -- "$1" "$2"; then
        printf '  %s and %s differ\n' "$1" "$2" >&2
        return 1
    fi
}

# Lists the directory, so that a check can prove nothing was left in it.
listing() {
    ls -A -- "$1"
}

keygen_writes_private_key_file() {
    expect_exit 0 "$ROTARR" keygen -o "$WORK/new-key" &&
        assert_file_mode 600 "$WORK/new-key" &&
        assert_match "$ERR" '^Public key: age1[a-z0-9]{58}$' &&
        assert_match "$WORK/new-key" '^# created: [0-9T:+Z-]+$' &&
        assert_match "$WORK/new-key" '^# public key: age1' &&
        assert_match "$WORK/new-key" '^AGE-SECRET-KEY-1[A-Z0-9]{58}$' &&
        [ "$(age-keygen -y "$WORK/new-key")" = \
          "$(sed -n 's/^Public key: //p' "$ERR")" ]
}

keygen_refuses_to_overwrite() {
    local before

    before=$(sha256sum <"$WORK/key1")
    expect_exit 3 "$ROTARR" keygen -o "$WORK/key1" &&
        assert_contains "$ERR" "already exists" &&
        [ "$(sha256sum <"$WORK/key1")" = "$before" ]
}

keygen_prints_recipients() {
    expect_exit 0 "$ROTARR" keygen -y "$WORK/key2" &&
        [ "$(cat "$OUT")" = "$R2" ] &&
        expect_exit 0 "$ROTARR" keygen -y <"$WORK/key3" &&
        [ "$(cat "$OUT")" = "$R3" ] &&
        expect_exit 0 "$ROTARR" keygen -y "$WORK/ssh" &&
        [ "$(cat "$OUT")" = "$(cut -d' ' -f1-2 "$WORK/ssh.pub")" ]
}

# Both directions for one plaintext size.
size_round_trips() {
    local size=$1 plain=$WORK/plain-$1

    head -c "$size" /dev/urandom >"$plain"
    expect_exit 0 "$ROTARR" encrypt -r "$R1" -o "$plain.rotarr" "$plain" &&
        age -d -i "$WORK/key1" "$plain.rotarr" >"$plain.back1" &&
        same "$plain" "$plain.back1" &&
        age -r "$R1" -o "$plain.age" "$plain" &&
        expect_exit 0 "$ROTARR" decrypt -i "$WORK/key1" -o "$plain.back2" \
            "$plain.age" &&
        same "$plain" "$plain.back2" &&
        STDOUT_TO=$plain.back3 expect_exit 0 "$ROTARR" decrypt \
            -i "$WORK/key1" <"$plain.age" &&
        same "$plain" "$plain.back3"
}

three_recipients_to_age() {
    local plain=$WORK/plain-65537 key

    expect_exit 0 "$ROTARR" encrypt -r "$R1" -r "$R2" \
        -R "$WORK/recipients3" -o "$WORK/three.age" "$plain" || return 1
    for key in key1 key2 key3; do
        age -d -i "$WORK/$key" "$WORK/three.age" | cmp -s - "$plain" ||
            return 1
    done
}

three_recipients_from_age() {
    local plain=$WORK/plain-65537 key

    age -r "$R1" -r "$R2" -r "$R3" -o "$WORK/three-age.age" "$plain"
    for key in key1 key2 key3; do
        expect_exit 0 "$ROTARR" decrypt -i "$WORK/$key" \
            -o "$WORK/three-$key" "$WORK/three-age.age" &&
            same "$plain" "$WORK/three-$key" || return 1
    done
}

ssh_ed25519_both_ways() {
    local plain=$WORK/plain-65537

    expect_exit 0 "$ROTARR" encrypt -R "$WORK/ssh.pub" -o "$WORK/ssh.r.age" \
        "$plain" &&
        age -d -i "$WORK/ssh" "$WORK/ssh.r.age" | cmp -s - "$plain" &&
        age -R "$WORK/ssh.pub" -o "$WORK/ssh.a.age" "$plain" &&
        expect_exit 0 "$ROTARR" decrypt -i "$WORK/ssh" -o "$WORK/ssh.back" \
            "$WORK/ssh.a.age" &&
        same "$plain" "$WORK/ssh.back"
}

armor_both_ways() {
    local plain=$WORK/plain-65535

    expect_exit 0 "$ROTARR" encrypt -a -r "$R2" "$plain" &&
        assert_match "$OUT" '^-----BEGIN AGE ENCRYPTED FILE-----$' &&
        age -d -i "$WORK/key2" "$OUT" | cmp -s - "$plain" &&
        age -a -r "$R2" -o "$WORK/armored.age" "$plain" &&
        expect_exit 0 "$ROTARR" decrypt -i "$WORK/key2" \
            -o "$WORK/armored.back" "$WORK/armored.age" &&
        same "$plain" "$WORK/armored.back"
}

scrypt_to_age() {
    local plain=$WORK/plain-1

    pty_run "$PASS" "$ROTARR" encrypt -p -o "$WORK/pass.r.age" "$plain" &&
        ! grep -qF "$PASS" "$TRANSCRIPT" &&
        head -n 2 "$WORK/pass.r.age" | grep -q '^-> scrypt [^ ]* 18$' &&
        pty_run "$PASS" age -d -o "$WORK/pass.back1" "$WORK/pass.r.age" &&
        same "$plain" "$WORK/pass.back1"
}

scrypt_from_age() {
    local plain=$WORK/plain-65536

    pty_run "$PASS" age -p -o "$WORK/pass.a.age" "$plain" &&
        pty_run "$PASS" "$ROTARR" decrypt -o "$WORK/pass.back2" \
            "$WORK/pass.a.age" &&
        ! grep -qF "$PASS" "$TRANSCRIPT" &&
        same "$plain" "$WORK/pass.back2"
}

# An identity file that age encrypted with a passphrase.
encrypted_identity_file() {
    pty_run "$PASS" age -p -o "$WORK/key1.age" "$WORK/key1" &&
        pty_run "$PASS" "$ROTARR" decrypt -i "$WORK/key1.age" \
            -o "$WORK/encrypted-id.out" "$WORK/plain-1.age" &&
        same "$WORK/plain-1" "$WORK/encrypted-id.out"
}

# Passphrases come only from a terminal: without one, encryption stops.
passphrase_needs_terminal() {
    expect_exit 2 setsid -w "$ROTARR" encrypt -p -o "$WORK/no-tty.age" \
        "$WORK/plain-1" </dev/null &&
        assert_contains "$ERR" "passphrases are read only from a terminal" &&
        [ ! -e "$WORK/no-tty.age" ]
}

passphrases_must_match() {
    pty_run "$PASS" "$ROTARR" encrypt -p -o "$WORK/mismatch.age" \
        "$WORK/plain-1"
    [ -e "$WORK/mismatch.age" ] || return 1
    # A prompt answered differently the second time.
    python3 - "$ROTARR" "$WORK" <<'EOF'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], 'encrypt', '-p', '-o',
                           sys.argv[2] + '/differ.age',
                           sys.argv[2] + '/plain-1'])
for answer in (b'one\n', b'two\n'):
    time.sleep(0.3)
    os.write(fd, answer)
out = b''
while True:
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.exit(0 if os.waitstatus_to_exitcode(status) == 2 and
         b'do not match' in out else 1)
EOF
    [ ! -e "$WORK/differ.age" ]
}

binary_output_refused_on_terminal() {
    pty_run x "$ROTARR" encrypt -r "$R1" "$WORK/plain-1"
    [ $? -eq 2 ] && grep -q "refusing to write binary data" "$TRANSCRIPT"
}

output_file_is_private() {
    expect_exit 0 "$ROTARR" decrypt -i "$WORK/key1" -o "$WORK/private.out" \
        "$WORK/plain-1.age" &&
        assert_file_mode 600 "$WORK/private.out"
}

# bad_input STATUS MESSAGE FILE [DECRYPT ARG...]: decrypting FILE exits
# STATUS with MESSAGE, writes nothing to standard output, creates no -o
# file, leaves an existing -o file as it was and no temporary file.
bad_input() {
    local status=$1 message=$2 file=$3 dir=$WORK/out-$RANDOM before
    shift 3

    mkdir "$dir"
    printf 'keep me\n' >"$dir/existing"
    before=$(listing "$dir")
    expect_exit "$status" "$ROTARR" decrypt "$@" "$file" &&
        assert_contains "$ERR" "$message" &&
        assert_empty "$OUT" &&
        expect_exit "$status" "$ROTARR" decrypt -o "$dir/new" "$@" "$file" &&
        [ ! -e "$dir/new" ] &&
        expect_exit "$status" "$ROTARR" decrypt -o "$dir/existing" "$@" \
            "$file" &&
        [ "$(cat "$dir/existing")" = 'keep me' ] &&
        [ "$(listing "$dir")" = "$before" ]
}

bad_no_matching_identity() {
    bad_input 7 "no identity matched: the file is encrypted to 1 recipient," \
        "$WORK/plain-1.age" -i "$WORK/key2" &&
        assert_contains "$ERR" "and the identity given is not among them" &&
        assert_contains "$ERR" "give the matching key with -i"
}

# The count of identities in the message agrees with its noun.
bad_no_matching_identities() {
    expect_exit 7 "$ROTARR" decrypt -i "$WORK/key2" -i "$WORK/key3" \
        "$WORK/plain-1.age" &&
        assert_contains "$ERR" "and none of the 2 identities given is among"
}

# Twin: the same identities with the matching one among them decrypt.
matching_identity_among_several() {
    expect_exit 0 "$ROTARR" decrypt -i "$WORK/key2" -i "$WORK/key1" \
        -o "$WORK/plain-1.several" "$WORK/plain-1.age" &&
        same "$WORK/plain-1" "$WORK/plain-1.several"
}

bad_wrong_passphrase() {
    local dir=$WORK/wrong-pass

    mkdir "$dir"
    pty_run 'not the passphrase' "$ROTARR" decrypt -o "$dir/out" \
        "$WORK/pass.a.age"
    [ $? -eq 7 ] && grep -q "incorrect passphrase" "$TRANSCRIPT" &&
        [ -z "$(listing "$dir")" ]
}

bad_tampered_header() {
    # Another valid MAC: its first character changed.
    sed '0,/^--- /s/^--- \(.\)/--- X/' "$WORK/plain-1.age" \
        >"$WORK/tampered-header.age"
    cmp -s "$WORK/plain-1.age" "$WORK/tampered-header.age" && return 1
    bad_input 7 "header MAC does not verify" "$WORK/tampered-header.age" \
        -i "$WORK/key1"
}

# flip_bit FILE OFFSET: inverts the low bit of the byte at OFFSET.  Writing
# a fixed byte there would leave the file unchanged in one run of 256,
# when the ciphertext already has that byte.
flip_bit() {
    python3 - "$1" "$2" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    byte = f.read(1)[0]
    f.seek(int(sys.argv[2]))
    f.write(bytes([byte ^ 1]))
EOF
}

# The first chunk is damaged: nothing is released.
bad_tampered_payload() {
    local file=$WORK/tampered-payload.age size

    cp "$WORK/plain-65537.age" "$file"
    size=$(stat -c %s "$file")
    flip_bit "$file" $(( size - 17 - 100 )) || return 1
    bad_input 7 "chunk 0 does not verify" "$file" -i "$WORK/key1"
}

# A payload that fails after a good chunk releases that chunk on
# standard output, as age does, and never with -o.
bad_payload_releases_verified_chunks() {
    local file=$WORK/tampered-second.age size

    cp "$WORK/plain-65537.age" "$file"
    size=$(stat -c %s "$file")
    flip_bit "$file" $(( size - 5 )) || return 1
    expect_exit 7 "$ROTARR" decrypt -i "$WORK/key1" "$file" &&
        [ "$(stat -c %s "$OUT")" -eq 65536 ] &&
        cmp -s -n 65536 "$OUT" "$WORK/plain-65537"
}

bad_truncated_file() {
    local size

    size=$(stat -c %s "$WORK/plain-65535.age")
    head -c $(( size - 10 )) "$WORK/plain-65535.age" >"$WORK/truncated.age"
    bad_input 7 "truncated" "$WORK/truncated.age" -i "$WORK/key1"
}

bad_armor_garbage() {
    { cat "$WORK/armored.age"; printf 'garbage\n'; } >"$WORK/garbage.age"
    bad_input 7 "invalid armor" "$WORK/garbage.age" -i "$WORK/key2"
}

bad_oversized_header_line() {
    { printf 'age-encryption.org/v1\n-> '; head -c 20000 /dev/zero |
        tr '\0' a; printf '\n\n--- x\n'; } >"$WORK/long-line.age"
    bad_input 7 "longer than 16384 bytes" "$WORK/long-line.age" \
        -i "$WORK/key1"
}

bad_oversized_work_factor() {
    sed '2s/ 18$/ 23/' "$WORK/pass.a.age" >"$WORK/factor.age"
    grep -q '^-> scrypt [^ ]* 23$' "$WORK/factor.age" &&
        bad_input 7 "work factor 23 is above the limit of 22" \
            "$WORK/factor.age"
}

bad_not_age() {
    bad_input 7 "not an age file" "$WORK/plain-65535" -i "$WORK/key1"
}

bad_crlf_header() {
    sed '1s/$/\r/' "$WORK/plain-1.age" >"$WORK/crlf.age"
    bad_input 7 "CR LF line ends" "$WORK/crlf.age" -i "$WORK/key1"
}

bad_unreadable_input() {
    bad_input 3 "cannot open" "$WORK/missing.age" -i "$WORK/key1"
}

bad_invalid_identity_file() {
    printf 'AGE-SECRET-KEY-1NOTAKEY\n' >"$WORK/bad-key"
    bad_input 3 "line 1" "$WORK/plain-1.age" -i "$WORK/bad-key"
}

bad_invalid_recipient() {
    expect_exit 2 "$ROTARR" encrypt -r age1nope -o "$WORK/nope.age" \
        "$WORK/plain-1" &&
        assert_contains "$ERR" "invalid age recipient" &&
        [ ! -e "$WORK/nope.age" ]
}

default_identity_from_sops_key_file() {
    SOPS_AGE_KEY_FILE=$WORK/key1 expect_exit 0 "$ROTARR" decrypt \
        "$WORK/plain-1.age" &&
        same "$OUT" "$WORK/plain-1" &&
        HOME=$WORK/no-home SOPS_AGE_KEY_FILE='' XDG_CONFIG_HOME='' \
            expect_exit 3 "$ROTARR" decrypt "$WORK/plain-1.age" &&
        assert_contains "$ERR" "no identity file at" &&
        assert_contains "$ERR" "no-home/.config/sops/age/keys.txt"
}

# An encrypted stack: .env.age and its .rotarr/recipients.
make_stack() {
    local stack=$1

    mkdir -p "$stack/.rotarr"
    printf '%s\n%s\n' "$R1" "$R2" >"$stack/.rotarr/recipients"
    # shellcheck disable=SC2016 # the ${...} is for the env file
    printf 'DB_PASSWORD=hunter2\nDB_URL=postgres://app:${DB_PASSWORD}@db/app\n' |
        "$ROTARR" encrypt -R "$stack/.rotarr/recipients" \
            -o "$stack/.env.age"
}

exec_passes_decrypted_variables() {
    local stack=$WORK/stack-exec before

    make_stack "$stack" || return 1
    before=$(cd "$stack" && find . | sort)
    SOPS_AGE_KEY_FILE=$WORK/key2 expect_exit 0 "$ROTARR" -C "$stack" \
        exec -- env &&
        assert_contains "$OUT" "DB_PASSWORD=hunter2" &&
        assert_contains "$OUT" "DB_URL=postgres://app:hunter2@db/app" &&
        [ "$(cd "$stack" && find . | sort)" = "$before" ] &&
        SOPS_AGE_KEY_FILE=$WORK/key2 expect_exit 5 "$ROTARR" -C "$stack" \
            exec -- sh -c 'exit 5'
}

exec_fails_without_identity() {
    local stack=$WORK/stack-exec

    SOPS_AGE_KEY_FILE=$WORK/key3 expect_exit 7 "$ROTARR" -C "$stack" \
        exec -- env &&
        assert_contains "$ERR" "no identity matched" &&
        assert_not_contains "$OUT" "hunter2"
}

edit_changes_value_and_reencrypts() {
    # The plaintext goes to a private folder in XDG_RUNTIME_DIR, here the
    # test's own, because other processes add and remove files in
    # /dev/shm.  The editor notes the path it was given.
    local stack=$WORK/stack-edit runtime=$WORK/runtime

    make_stack "$stack" && mkdir -m 700 "$runtime" || return 1
    cat >"$WORK/editor.sh" <<'EOF'
#!/bin/sh
printf '%s\n' "$1" >"$(dirname "$0")/editor-path"
sed -i 's/hunter2/swordfish/' "$1"
EOF
    chmod +x "$WORK/editor.sh"
    (cd "$stack" && SOPS_AGE_KEY_FILE=$WORK/key1 EDITOR=$WORK/editor.sh \
        XDG_RUNTIME_DIR=$runtime "$ROTARR" edit .env.age) &&
        age -d -i "$WORK/key2" "$stack/.env.age" >"$WORK/edited" &&
        grep -qx 'DB_PASSWORD=swordfish' "$WORK/edited" &&
        age -d -i "$WORK/key1" "$stack/.env.age" | cmp -s - "$WORK/edited" &&
        assert_match "$WORK/editor-path" "^$runtime/" &&
        [ -z "$(ls -A "$runtime")" ]
}

# Ctrl-C must reach the editor: it starts with SIGINT and SIGQUIT at
# their default action, though rotarr ignores them meanwhile.
edit_leaves_ctrl_c_to_editor() {
    local stack=$WORK/stack-edit ignored

    printf '#!/bin/sh\nsed -n "s/^SigIgn:[[:space:]]*//p" /proc/$$/status >"%s"\n' \
        "$WORK/editor-sigign" >"$WORK/editor-sigs.sh"
    chmod +x "$WORK/editor-sigs.sh"
    (cd "$stack" && SOPS_AGE_KEY_FILE=$WORK/key1 \
        EDITOR=$WORK/editor-sigs.sh env --default-signal "$ROTARR" edit \
        .env.age) || return 1
    ignored=$(cat "$WORK/editor-sigign") || return 1
    # Bits 1 and 2 of the mask are SIGINT (2) and SIGQUIT (3).
    if (( (16#$ignored & 0x6) != 0 )); then
        echo "  the editor started with SIGINT or SIGQUIT ignored ($ignored)" >&2
        return 1
    fi
}

edit_without_change_keeps_file() {
    local stack=$WORK/stack-edit before

    before=$(sha256sum <"$stack/.env.age")
    (cd "$stack" && SOPS_AGE_KEY_FILE=$WORK/key1 EDITOR=true \
        "$ROTARR" edit .env.age 2>"$ERR") &&
        assert_contains "$ERR" "no change" &&
        [ "$(sha256sum <"$stack/.env.age")" = "$before" ]
}

edit_failing_editor_keeps_file() {
    local stack=$WORK/stack-edit before

    before=$(sha256sum <"$stack/.env.age")
    (cd "$stack" && SOPS_AGE_KEY_FILE=$WORK/key1 EDITOR=false \
        "$ROTARR" edit .env.age 2>"$ERR")
    [ $? -eq 3 ] && assert_contains "$ERR" "was not changed" &&
        [ "$(sha256sum <"$stack/.env.age")" = "$before" ]
}

# edit encrypts to the recipients file, so it would silently drop the
# passphrase of a passphrase-encrypted file: it refuses before asking.
edit_refuses_passphrase_file() {
    local stack=$WORK/stack-edit before

    cp "$WORK/pass.a.age" "$stack/secret.age"
    before=$(sha256sum <"$stack/secret.age")
    (cd "$stack" && EDITOR=true "$ROTARR" edit secret.age \
        </dev/null >"$OUT" 2>"$ERR")
    [ $? -eq 2 ] && assert_contains "$ERR" "encrypted with a passphrase" &&
        [ "$(sha256sum <"$stack/secret.age")" = "$before" ]
}

# A second rotarr (a rotation) holds the stack's lock: edit refuses
# before the editor runs, naming the holder.
edit_rejects_while_locked() {
    local stack=$WORK/stack-edit before

    before=$(sha256sum <"$stack/.env.age")
    printf '#!/bin/sh\necho editor ran >&2\n' >"$WORK/editor-ran.sh"
    chmod +x "$WORK/editor-ran.sh"
    (cd "$stack" && SOPS_AGE_KEY_FILE=$WORK/key1 \
        EDITOR=$WORK/editor-ran.sh flock -n .rotarr/lock \
        "$ROTARR" edit .env.age >"$OUT" 2>"$ERR")
    [ $? -eq 3 ] && assert_contains "$ERR" "another rotarr is working" &&
        assert_contains "$ERR" "lock is held" &&
        assert_not_contains "$ERR" "editor ran" &&
        [ "$(sha256sum <"$stack/.env.age")" = "$before" ]
}

# Twin: edit holds the lock itself while the editor runs.
edit_holds_lock_while_editing() {
    local stack=$WORK/stack-edit

    cat >"$WORK/editor-lock.sh" <<EOF
#!/bin/sh
if flock -n "$stack/.rotarr/lock" true; then
    echo free >"$WORK/lock-state"
else
    echo held >"$WORK/lock-state"
fi
EOF
    chmod +x "$WORK/editor-lock.sh"
    (cd "$stack" && SOPS_AGE_KEY_FILE=$WORK/key1 \
        EDITOR=$WORK/editor-lock.sh "$ROTARR" edit .env.age 2>"$ERR") &&
        [ "$(cat "$WORK/lock-state")" = held ] &&
        flock -n "$stack/.rotarr/lock" true
}

# The file is rewritten while the editor runs (by a tool that ignores the
# lock): edit keeps that version and saves the edit next to it.
edit_keeps_edit_aside_on_change() {
    local stack=$WORK/stack-aside

    make_stack "$stack" || return 1
    cat >"$WORK/editor-race.sh" <<EOF
#!/bin/sh
printf 'DB_PASSWORD=rotated\n' |
    "$ROTARR" encrypt -R "$stack/.rotarr/recipients" -o "$stack/.env.age"
sed -i 's/hunter2/swordfish/' "\$1"
EOF
    chmod +x "$WORK/editor-race.sh"
    (cd "$stack" && SOPS_AGE_KEY_FILE=$WORK/key1 \
        EDITOR=$WORK/editor-race.sh "$ROTARR" edit .env.age 2>"$ERR")
    [ $? -eq 3 ] && assert_contains "$ERR" "changed while it was edited" &&
        assert_contains "$ERR" "'.env.edited-1.age'" &&
        [ "$(age -d -i "$WORK/key1" "$stack/.env.age")" = \
          DB_PASSWORD=rotated ] &&
        age -d -i "$WORK/key2" "$stack/.env.edited-1.age" \
            >"$WORK/aside" &&
        grep -qx 'DB_PASSWORD=swordfish' "$WORK/aside"
}

# make_nobody_stack DIR: an encrypted stack that 'nobody' can read, with
# a lock file it can write and key1 readable at DIR/key.
make_nobody_stack() {
    local dir=$1

    make_stack "$dir" || return 1
    cp "$WORK/key1" "$dir/key"
    touch "$dir/.rotarr/lock"
    chown nobody "$dir/.rotarr/lock"
    chmod -R a+rX "$dir"
    cat >"$dir/editor.sh" <<'EOF'
#!/bin/sh
echo editor ran >&2
sed 's/hunter2/swordfish/' "$1" >"$1.new" && cat "$1.new" >"$1"
EOF
    chmod 755 "$dir/editor.sh"
}

# Root writes anywhere, so rotarr runs as 'nobody' in a directory that
# root owns: edit refuses before the editor runs, so no edit is lost.
edit_rejects_read_only_dir() {
    local dir before

    dir=$(mktemp -d /tmp/rotarr-edit-ro.XXXXXX) || return 1
    at_exit "rm -rf '$dir'"
    make_nobody_stack "$dir" || return 1
    before=$(sha256sum <"$dir/.env.age")
    (cd "$dir" && SOPS_AGE_KEY_FILE=$dir/key EDITOR=$dir/editor.sh \
        runuser -u nobody -- "$ROTARR" edit .env.age >"$OUT" 2>"$ERR")
    [ $? -eq 3 ] && assert_contains "$ERR" "make its directory writable" &&
        assert_not_contains "$ERR" "editor ran" &&
        [ "$(sha256sum <"$dir/.env.age")" = "$before" ]
}

# Twin: the same as 'nobody' in a directory it owns saves the edit.
edit_saves_in_writable_dir() {
    local dir

    dir=$(mktemp -d /tmp/rotarr-edit-rw.XXXXXX) || return 1
    at_exit "rm -rf '$dir'"
    make_nobody_stack "$dir" || return 1
    chown -R nobody "$dir"
    (cd "$dir" && SOPS_AGE_KEY_FILE=$dir/key EDITOR=$dir/editor.sh \
        runuser -u nobody -- "$ROTARR" edit .env.age >"$OUT" 2>"$ERR") &&
        assert_contains "$ERR" "editor ran" &&
        age -d -i "$WORK/key1" "$dir/.env.age" | grep -qx \
            'DB_PASSWORD=swordfish'
}

# start_on_fifo DIR VERB: starts 'rotarr VERB -o DIR/out DIR/in' in the
# background with SIGHUP, SIGINT and SIGTERM at their default action (a
# background job of a shell without job control ignores SIGINT, and a run
# under nohup SIGHUP), with DIR/in a FIFO opened on descriptor 3.  Its pid
# goes to $PID.
start_on_fifo() {
    local dir=$1 verb=$2

    rm -rf "$dir" && mkdir "$dir" && mkfifo "$dir/in" || return 1
    if [ "$verb" = decrypt ]; then
        env --default-signal=HUP,INT,TERM "$ROTARR_BINARY" decrypt \
            -i "$WORK/key1" \
            -o "$dir/out" "$dir/in" 2>"$ERR" &
    else
        env --default-signal=HUP,INT,TERM "$ROTARR_BINARY" encrypt -r "$R1" \
            -o "$dir/out" "$dir/in" 2>"$ERR" &
    fi
    PID=$!
    exec 3>"$dir/in"
}

# wait_for_temp DIR: waits until the temporary output file in DIR has
# data.
wait_for_temp() {
    local i

    for i in $(seq 200); do
        if [ -n "$(find "$1" -name '.out.rotarr-*' -size +0)" ]; then
            return 0
        fi
        sleep 0.05
    done
    printf '  no temporary output file with data in %s\n' "$1" >&2
    return 1
}

# A signal while the output is written removes the temporary file, which
# for decrypt contains plaintext, and the process dies of the signal.
interrupted_output_is_removed() {
    local verb=$1 sig=$2 expected=$3 dir=$WORK/interrupt-$1-$2 status=0
    local input=$WORK/plain-10485760

    [ "$verb" = decrypt ] && input=$input.age
    start_on_fifo "$dir" "$verb" || return 1
    head -c 4194304 "$input" >&3
    wait_for_temp "$dir" || { exec 3>&-; kill "$PID"; return 1; }
    kill -s "$sig" "$PID"
    wait "$PID" || status=$?
    exec 3>&-
    if [ "$status" -ne "$expected" ]; then
        printf '  exit %d, expected %d\n' "$status" "$expected" >&2
        return 1
    fi
    [ "$(listing "$dir")" = in ] || {
        printf '  left behind: %s\n' "$(listing "$dir")" >&2
        return 1
    }
}

# Twin: the same run fed to the end leaves the whole output.
uninterrupted_output_is_complete() {
    local verb=$1 dir=$WORK/complete-$1 status=0
    local input=$WORK/plain-10485760

    [ "$verb" = decrypt ] && input=$input.age
    start_on_fifo "$dir" "$verb" || return 1
    cat "$input" >&3
    exec 3>&-
    wait "$PID" || status=$?
    [ "$status" -eq 0 ] && [ "$(listing "$dir")" = "$(printf 'in\nout')" ] ||
        return 1
    if [ "$verb" = decrypt ]; then
        same "$WORK/plain-10485760" "$dir/out"
    else
        age -d -i "$WORK/key1" "$dir/out" | cmp -s - "$WORK/plain-10485760"
    fi
}

# Peak memory does not grow with the input: 64 MiB needs no more than
# 1 MiB, within a margin of 1 MiB.  The binary runs without valgrind,
# whose own memory would be measured and which takes minutes for 64 MiB.
memory_is_constant() {
    local small large enc_small enc_large dec_small dec_large

    if [ ! -x /usr/bin/time ]; then
        printf '  /usr/bin/time is missing\n' >&2
        return 1
    fi
    head -c 1048576 /dev/urandom >"$WORK/mem-small"
    head -c 67108864 /dev/zero >"$WORK/mem-large"
    for small in small large; do
        /usr/bin/time -f %M -o "$WORK/rss-enc-$small" "$ROTARR_BINARY" \
            encrypt -r "$R1" -o "$WORK/mem-$small.age" "$WORK/mem-$small" &&
            /usr/bin/time -f %M -o "$WORK/rss-dec-$small" "$ROTARR_BINARY" \
                decrypt -i "$WORK/key1" -o "$WORK/mem-$small.out" \
                "$WORK/mem-$small.age" ||
            return 1
    done
    enc_small=$(tail -n 1 "$WORK/rss-enc-small")
    enc_large=$(tail -n 1 "$WORK/rss-enc-large")
    dec_small=$(tail -n 1 "$WORK/rss-dec-small")
    dec_large=$(tail -n 1 "$WORK/rss-dec-large")
    large=$(( enc_large > dec_large ? enc_large : dec_large ))
    small=$(( enc_small < dec_small ? enc_small : dec_small ))
    if [ $(( large - small )) -gt 1024 ]; then
        printf '  peak RSS %s KiB for 64 MiB, %s KiB for 1 MiB\n' "$large" \
            "$small" >&2
        return 1
    fi
}

# The testkit through the command line: exit 0 or 7, and the SHA-256 of
# what reached standard output.  Vectors that need a passphrase or an
# ML-KEM key are covered by the unit tests.
testkit_through_cli() {
    local vector name expect payload ids body failed=0 count=0 status

    for vector in "$VECTORS"/*; do
        name=$(basename "$vector")
        [[ $name == *.* ]] && continue
        sed '/^$/q' "$vector" >"$WORK/vector-header"
        if grep -q '^passphrase: \|^identity: AGE-SECRET-KEY-PQ-' \
            "$WORK/vector-header"; then
            continue
        fi
        expect=$(sed -n 's/^expect: //p' "$WORK/vector-header")
        payload=$(sed -n 's/^payload: //p' "$WORK/vector-header")
        ids=()
        while read -r line; do
            printf '%s\n' "$line" >"$WORK/vector-key-${#ids[@]}"
            ids+=(-i "$WORK/vector-key-${#ids[@]}")
        done < <(sed -n 's/^identity: //p' "$WORK/vector-header")
        [ "${#ids[@]}" -gt 0 ] || ids=(-i "$WORK/key1")
        body=$WORK/vector-body
        python3 - "$vector" "$body" <<'EOF'
import sys, zlib
data = open(sys.argv[1], 'rb').read()
header, body = data.split(b'\n\n', 1)
if b'\ncompressed: zlib' in b'\n' + header:
    body = zlib.decompress(body)
open(sys.argv[2], 'wb').write(body)
EOF
        status=0
        "$ROTARR" decrypt "${ids[@]}" "$body" >"$WORK/vector-out" \
            2>"$WORK/vector-err" || status=$?
        count=$(( count + 1 ))
        if [ "$expect" = success ] && [ "$status" -ne 0 ] ||
           [ "$expect" != success ] && [ "$status" -ne 7 ]; then
            printf '  %s: exit %d, expected %s\n' "$name" "$status" \
                "$expect" >&2
            failed=1
        fi
        if [ -n "$payload" ] &&
           [ "$(sha256sum <"$WORK/vector-out" | cut -d' ' -f1)" != \
             "$payload" ]; then
            printf '  %s: wrong plaintext released\n' "$name" >&2
            failed=1
        fi
        if [ -z "$payload" ] && [ -s "$WORK/vector-out" ]; then
            printf '  %s: released plaintext\n' "$name" >&2
            failed=1
        fi
    done
    printf '  %d vectors through the command line\n' "$count"
    [ "$count" -ge 60 ] && [ "$failed" -eq 0 ]
}

check "keygen writes a 0600 key file" keygen_writes_private_key_file
check "keygen refuses to overwrite" keygen_refuses_to_overwrite
check "keygen -y prints recipients" keygen_prints_recipients
for size in 0 1 65535 65536 65537 10485760; do
    check "size $size round-trips with age" size_round_trips "$size"
done
check "three recipients, rotarr to age" three_recipients_to_age
check "three recipients, age to rotarr" three_recipients_from_age
check "ssh-ed25519 both ways" ssh_ed25519_both_ways
check "armor both ways" armor_both_ways
check "passphrase, rotarr to age" scrypt_to_age
check "passphrase, age to rotarr" scrypt_from_age
check "passphrase-encrypted identity file" encrypted_identity_file
check "passphrase needs a terminal" passphrase_needs_terminal
check "passphrases must match" passphrases_must_match
check "binary output refused on a terminal" binary_output_refused_on_terminal
check "output file is 0600" output_file_is_private
check "bad input: no matching identity" bad_no_matching_identity
check "bad input: none of several identities" bad_no_matching_identities
check "one of several identities matches" matching_identity_among_several
check "bad input: wrong passphrase" bad_wrong_passphrase
check "bad input: tampered header" bad_tampered_header
check "bad input: tampered payload" bad_tampered_payload
check "bad input: verified chunks released" \
    bad_payload_releases_verified_chunks
check "bad input: truncated file" bad_truncated_file
check "bad input: armor garbage" bad_armor_garbage
check "bad input: oversized header line" bad_oversized_header_line
check "bad input: oversized work factor" bad_oversized_work_factor
check "bad input: not an age file" bad_not_age
check "bad input: CR LF header" bad_crlf_header
check "bad input: unreadable input" bad_unreadable_input
check "bad input: invalid identity file" bad_invalid_identity_file
check "bad input: invalid recipient" bad_invalid_recipient
check "default identity file" default_identity_from_sops_key_file
check "exec passes decrypted variables" exec_passes_decrypted_variables
check "exec fails without identity" exec_fails_without_identity
check "edit changes a value" edit_changes_value_and_reencrypts
check "edit leaves Ctrl-C to the editor" edit_leaves_ctrl_c_to_editor
check "edit without change keeps file" edit_without_change_keeps_file
check "edit with failing editor keeps file" edit_failing_editor_keeps_file
check "edit refuses a passphrase file" edit_refuses_passphrase_file
check "edit refuses while the lock is held" edit_rejects_while_locked
check "edit holds the lock while editing" edit_holds_lock_while_editing
check "edit keeps the edit aside on change" edit_keeps_edit_aside_on_change
check "edit refuses a read-only directory" edit_rejects_read_only_dir
check "edit saves in a writable directory" edit_saves_in_writable_dir
check "SIGINT removes partial decrypt output" \
    interrupted_output_is_removed decrypt INT 130
check "SIGTERM removes partial decrypt output" \
    interrupted_output_is_removed decrypt TERM 143
check "SIGHUP removes partial encrypt output" \
    interrupted_output_is_removed encrypt HUP 129
check "decrypt fed to the end leaves output" \
    uninterrupted_output_is_complete decrypt
check "encrypt fed to the end leaves output" \
    uninterrupted_output_is_complete encrypt
check "memory does not grow with input" memory_is_constant
check "testkit vectors through the CLI" testkit_through_cli
