# shellcheck shell=bash
# What another process can see of a Postgres rotation.  The test samples
# /proc while 'rotarr postgres' runs.  Neither the old nor the new
# password may appear in the command line or the environment of rotarr
# or of any child, and rotarr must not be dumpable once it started.  A rotarr
# built with -Dfailpoints=true sleeps a second after the password test
# (ROTARR_FAILPOINT=sleep-test), when it holds both passwords, so that
# the sampler sees that moment; other builds are skipped.
#
# The dumpable flag is not in /proc/PID/status: the kernel makes the
# /proc/PID files of a process that is not dumpable belong to root.  So
# rotarr runs as an unprivileged user ('nobody' when the test runs as
# root) and a sample whose status file belongs to root is not dumpable.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/pg_roles.sh
. "$(dirname "$0")/pg_roles.sh"

require_services postgres

if ! grep -qaF ROTARR_FAILPOINT "$ROTARR_BINARY"; then
    printf 'rotarr was built without failpoints; skipping\n'
    exit "$SKIP_STATUS"
fi
if [ "$(id -u)" -eq 0 ] && ! command -v setpriv >/dev/null; then
    printf 'setpriv is needed to run rotarr as nobody; skipping\n'
    exit "$SKIP_STATUS"
fi

# The sampler: runs the command in argv, reads the /proc files of it and
# of its descendants until it exits, and prints one JSON summary.
SAMPLER=$TEST_TMP/sampler.py
cat >"$SAMPLER" <<'PY'
import json, os, subprocess, sys, time

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None

def descendants(pid):
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        # A process may exit between two reads of /proc.
        try:
            tasks = os.listdir("/proc/%d/task" % p)
        except OSError:
            tasks = []
        for task in tasks:
            kids = read("/proc/%d/task/%s/children" % (p, task)) or b""
            todo.extend(int(k) for k in kids.split())
    return found

proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE)
blobs, samples, dumpable_after_not, not_dumpable = [], 0, 0, 0
pids = set()
while proc.poll() is None:
    for p in descendants(proc.pid):
        pids.add(p)
        for name in ("cmdline", "environ", "status"):
            data = read("/proc/%d/%s" % (p, name))
            if data is not None:
                blobs.append(data)
        if p == proc.pid:
            # Only samples of rotarr itself count, not of setpriv or of
            # the exiting process.  Exec resets the flag before it renames
            # the process, so the first read must show the new name.  The
            # files of an exiting process go back to its user when it loses
            # its memory lines (VmSize), so the second read must show them.
            try:
                before = read("/proc/%d/status" % p).decode()
                owner = os.stat("/proc/%d/status" % p).st_uid
                after = read("/proc/%d/status" % p).decode()
            except (OSError, AttributeError):
                continue
            fields = dict(line.split(":", 1) for line in before.splitlines()
                          if ":" in line)
            if (not fields.get("Name", "").strip().startswith(
                    os.environ.get("SAMPLER_NAME", "rotarr")) or
                    fields.get("Uid", "0").split()[0] == "0" or
                    "\nVmSize:" not in after):
                continue
            samples += 1
            if owner == 0:
                not_dumpable += 1
            elif not_dumpable:
                dumpable_after_not += 1
    time.sleep(0.002)
err = proc.stderr.read().decode(errors="replace")
with open(os.environ["SAMPLER_BLOBS"], "wb") as f:
    f.write(b"\n".join(blobs))
print(json.dumps({"status": proc.returncode, "samples": samples,
                  "not_dumpable": not_dumpable,
                  "dumpable_after_not": dumpable_after_not,
                  "processes": len(pids), "stderr": err}))
PY

check_rotation_exposes_no_password() {
    local old=procOldPassw0rdDDDDDDDDDDDDDDDDDD role dir summary new
    local blobs=$TEST_TMP/blobs runas=() name=rotarr

    role="rt_proc_$$"
    create_role "$role" "$old" || return 1
    dir=$TEST_TMP/stack
    mkdir -p "$dir"
    cat >"$dir/compose.yaml" <<EOF
services:
  db:
    image: postgres:16-alpine
    environment:
      POSTGRES_USER: "$role"
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}
      POSTGRES_DB: "$role"
    ports:
      - "127.0.0.1:$ROTARR_PGPORT:5432"
EOF
    printf 'POSTGRES_PASSWORD=%s\n' "$old" >"$dir/.env"
    chmod 600 "$dir/.env"
    if [ "$(id -u)" -eq 0 ]; then
        chmod 711 "$TEST_TMP"
        chown -R nobody "$dir"
    fi
    mapfile -t runas < <(unprivileged_prefix)
    # Under valgrind, rotarr runs in a process named after the tool,
    # such as 'memcheck-amd64-'.
    if [ -n "$VALGRIND_LOGS" ]; then
        name=memcheck-
    fi
    # LeakSanitizer makes the process dumpable at exit so that it can
    # trace its threads, so the sanitizer build checks leaks elsewhere.
    summary=$(SAMPLER_NAME=$name SAMPLER_BLOBS=$blobs python3 "$SAMPLER" \
        "${runas[@]}" \
        env ROTARR_FAILPOINT=sleep-test HOME=/nonexistent \
        ASAN_OPTIONS=detect_leaks=0 "$ROTARR" -C "$dir" postgres) ||
        return 1
    new=$(sed -n 's/^POSTGRES_PASSWORD=//p' "$dir/.env" |
        sed "s/^'\\(.*\\)'\$/\\1/")
    printf '  %s\n' "$summary" >&2
    python3 - "$summary" <<'PY' || return 1
import json, sys
s = json.loads(sys.argv[1])
ok = (s["status"] == 0 and s["not_dumpable"] >= 10 and
      s["dumpable_after_not"] == 0)
sys.exit(0 if ok else 1)
PY
    [ -n "$new" ] && [ "$new" != "$old" ] || {
        echo "  the password was not rotated" >&2; return 1; }
    if grep -qaF -- "$old" "$blobs" || grep -qaF -- "$new" "$blobs"; then
        echo "  a password appears in a sampled /proc file" >&2
        return 1
    fi
}

# unprivileged_prefix: prints the command that runs the rest of a command
# line as nobody when the test runs as root, one word a line.
unprivileged_prefix() {
    if [ "$(id -u)" -eq 0 ]; then
        printf '%s\n' setpriv --reuid=nobody --regid=nogroup --clear-groups \
            --reset-env
    fi
}

check_sampler_sees_a_password_in_argv() {
    # Twin: a password on a command line does show up in the samples.
    local blobs=$TEST_TMP/blobs-argv

    SAMPLER_BLOBS=$blobs python3 "$SAMPLER" sh -c 'sleep 0.5' \
        visiblePassw0rd123456 >/dev/null &&
        grep -qaF visiblePassw0rd123456 "$blobs"
}

check_sampler_sees_a_dumpable_process() {
    # Twin: a process that keeps the default is sampled as dumpable.
    local blobs=$TEST_TMP/blobs-dumpable summary prefix=()

    mapfile -t prefix < <(unprivileged_prefix)
    summary=$(SAMPLER_NAME=sleep SAMPLER_BLOBS=$blobs python3 "$SAMPLER" \
        "${prefix[@]}" sleep 0.5) || return 1
    printf '  %s\n' "$summary" >&2
    python3 - "$summary" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
sys.exit(0 if s["samples"] >= 10 and s["not_dumpable"] == 0 else 1)
PY
}

check "a Postgres rotation exposes no password in /proc" \
    check_rotation_exposes_no_password
check "the sampler finds a password given in argv" \
    check_sampler_sees_a_password_in_argv
check "the sampler sees a dumpable process as dumpable" \
    check_sampler_sees_a_dumpable_process
