#!/bin/bash
# 'rotarr hook': the pre-commit guard in real git repositories.  Each
# check builds a fresh repository with a small stack (compose.yaml, a
# git-ignored .env and an optional env_file: that is missing), installs
# the hook and runs 'git commit'.  Keys are made with age-keygen and
# ssh-keygen at run time, so this file holds none.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# The secret of the stack's .env: '/', ':' and '@' make its URL form
# percent-encoded.
readonly SECRET='Xk9v/Q2m:P7r@Ls4TnW8'
readonly SECRET_ENCODED='Xk9v%2FQ2m%3AP7r%40Ls4TnW8'
readonly APP_SECRET='f177333001f27503955c2748206cc1c9'

# A Compose reference, written as text: rotarr must not read it as a secret.
# shellcheck disable=SC2016 # the $ is meant literally
readonly REFERENCE='${POSTGRES_PASSWORD}'

# git reads no configuration of the machine or the user running the test.
export HOME=$TEST_TMP/home
export XDG_CONFIG_HOME=$HOME/.config
export GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"

# The hook finds rotarr on PATH, as it would once rotarr is installed.
BIN=$TEST_TMP/bin
mkdir -p "$BIN"
ln -s "$ROTARR" "$BIN/rotarr"
export PATH="$BIN:$PATH"

gitc() {
    git -c user.name=t -c user.email=t@example.invalid "$@"
}

# new_repo: creates a repository holding the stack, with a first commit
# of compose.yaml and .gitignore, and prints its path.
new_repo() {
    local repo

    repo=$(mktemp -d "$TEST_TMP/repo.XXXXXX")
    git -C "$repo" init -q
    cat >"$repo/compose.yaml" <<'EOF'
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: ${POSTGRES_USER}
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
    env_file:
      - path: db-settings.conf
        required: false
EOF
    cat >"$repo/.env" <<EOF
POSTGRES_USER=paperless
POSTGRES_PASSWORD=$SECRET
TZ=Europe/Berlin
APP_SECRET_KEY=$APP_SECRET
EOF
    printf '.env\n' >"$repo/.gitignore"
    git -C "$repo" add compose.yaml .gitignore
    gitc -C "$repo" commit -q -m first
    printf '%s\n' "$repo"
}

# new_guarded_repo: new_repo with the hook installed.
new_guarded_repo() {
    local repo

    repo=$(new_repo)
    "$ROTARR" -C "$repo" -q hook install
    printf '%s\n' "$repo"
}

# both: stdout and stderr of the last expect_exit, in one file, because
# git passes a hook's output on to its own standard error.
both() {
    cat "$OUT" "$ERR" >"$TEST_TMP/both"
    printf '%s\n' "$TEST_TMP/both"
}

# commit_rejected REPO TEXT: 'git commit' fails, prints TEXT and never
# prints the secrets.
commit_rejected() {
    local repo=$1 text=$2 all before

    before=$(git -C "$repo" rev-parse HEAD)
    expect_exit 1 gitc -C "$repo" commit -q -m test || return 1
    all=$(both)
    assert_contains "$all" "$text" &&
        assert_not_contains "$all" "$SECRET" &&
        assert_not_contains "$all" "$SECRET_ENCODED" &&
        assert_not_contains "$all" "$APP_SECRET" || return 1
    if [ "$(git -C "$repo" rev-parse HEAD)" != "$before" ]; then
        printf '  the commit was made\n' >&2
        return 1
    fi
}

commit_passes() {
    expect_exit 0 gitc -C "$1" commit -q -m test
}

# ---- what is rejected ----

plaintext_env_rejected() {
    local repo

    repo=$(new_guarded_repo) &&
        git -C "$repo" add -f .env &&
        commit_rejected "$repo" \
            ".env:1: plaintext env file; encrypt it with age or sops"
}

literal_password_rejected() {
    local repo

    repo=$(new_guarded_repo) &&
        sed "s|\${POSTGRES_PASSWORD}|$SECRET|" "$repo/compose.yaml" \
            >"$repo/compose.override.yaml" &&
        git -C "$repo" add compose.override.yaml &&
        commit_rejected "$repo" "compose.override.yaml:6: copy of the value \
of 'POSTGRES_PASSWORD' in '.env'"
}

encoded_password_in_url_rejected() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'DATABASES = {\n    "url": "postgres://app:%s@db/app",\n}\n' \
            "$SECRET_ENCODED" >"$repo/settings.py" &&
        git -C "$repo" add settings.py &&
        commit_rejected "$repo" "settings.py:2: percent-encoded copy of the \
value of 'POSTGRES_PASSWORD' in '.env'"
}

generated_secret_rejected() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'docs\n\nkey: %s\n' "$APP_SECRET" >"$repo/notes.md" &&
        git -C "$repo" add notes.md &&
        commit_rejected "$repo" \
            "notes.md:3: copy of the value of 'APP_SECRET_KEY' in '.env'"
}

age_secret_key_rejected() {
    local repo

    repo=$(new_guarded_repo) &&
        age-keygen -o "$repo/identity.txt" 2>/dev/null &&
        git -C "$repo" add identity.txt &&
        commit_rejected "$repo" "identity.txt:3: age secret key"
}

openssh_key_rejected() {
    local repo

    repo=$(new_guarded_repo) &&
        ssh-keygen -q -t ed25519 -N '' -C test -f "$repo/deploy_key" &&
        git -C "$repo" add deploy_key deploy_key.pub &&
        commit_rejected "$repo" "deploy_key:1: OpenSSH private key"
}

env_file_target_rejected() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'POSTGRES_INITDB_ARGS=--data-checksums\n' \
            >"$repo/db-settings.conf" &&
        git -C "$repo" add db-settings.conf &&
        commit_rejected "$repo" "db-settings.conf:1: plaintext env file"
}

example_with_real_value_rejected() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'POSTGRES_USER=paperless\nPOSTGRES_PASSWORD=hunter2hunter2\n' \
            >"$repo/.env.example" &&
        git -C "$repo" add .env.example &&
        commit_rejected "$repo" ".env.example:2: 'POSTGRES_PASSWORD' in an \
example env file holds what looks like a real secret"
}

# ---- what passes ----

age_env_passes() {
    local repo recipient

    repo=$(new_guarded_repo) &&
        age-keygen -o "$repo.key" 2>/dev/null &&
        recipient=$(age-keygen -y "$repo.key") &&
        age -r "$recipient" -o "$repo/.env.age" "$repo/.env" &&
        git -C "$repo" add .env.age &&
        commit_passes "$repo"
}

armored_age_env_passes() {
    local repo recipient

    repo=$(new_guarded_repo) &&
        age-keygen -o "$repo.key" 2>/dev/null &&
        recipient=$(age-keygen -y "$repo.key") &&
        age -a -r "$recipient" -o "$repo/.env.production" "$repo/.env" &&
        git -C "$repo" add .env.production &&
        commit_passes "$repo"
}

sops_env_passes() {
    local repo

    repo=$(new_guarded_repo) &&
        cat >"$repo/.env.sops" <<'EOF' &&
POSTGRES_PASSWORD=ENC[AES256_GCM,data:Yl0zm6Lq1zM=,iv:8RkL0fJv5x2b0M1k4k0S2A1b1c2d3e4f5g6h7i8j9k0=,tag:nG6JXQ3nJbVqv0ZbQbKcIw==,type:str]
TZ=Europe/Berlin
sops_age__list_0__map_recipient=age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqsrcsrc
sops_lastmodified=2024-05-01T10:00:00Z
sops_mac=ENC[AES256_GCM,data:3kX1W7n0P4sQ9rT2vY5zA8cB1dE4fG7hJ0kL3mN6pQ9s=,iv:aaaa,tag:bbbb,type:str]
sops_unencrypted_suffix=_unencrypted
sops_version=3.8.1
EOF
        git -C "$repo" add .env.sops &&
        commit_passes "$repo"
}

example_with_placeholders_passes() {
    local repo

    repo=$(new_guarded_repo) &&
        cat >"$repo/.env.example" <<'EOF' &&
# Copy to .env and fill in.
POSTGRES_USER=paperless
POSTGRES_PASSWORD=changeme
APP_SECRET_KEY=<run: rotarr gen>
DATABASE_URL=postgres://paperless:${POSTGRES_PASSWORD}@db/paperless
TZ=Europe/Berlin
EOF
        git -C "$repo" add .env.example &&
        commit_passes "$repo"
}

reference_passes() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'x-url: postgres://app:%s@db/app\n' "$REFERENCE" \
            >"$repo/compose.override.yaml" &&
        git -C "$repo" add compose.override.yaml &&
        commit_passes "$repo"
}

# ---- no bypass ----

# bypass_fails FILE CONTENT: with FILE holding CONTENT staged beside a
# plaintext .env and a copy of the password, both are still rejected.
# Each of these files switches off another scanner; none may switch off
# this one.
bypass_fails() {
    local repo

    repo=$(new_guarded_repo) &&
        printf '%s\n' "$2" >"$repo/$1" &&
        printf 'password: %s\n' "$SECRET" >"$repo/values.yaml" &&
        git -C "$repo" add -f "$1" values.yaml .env &&
        commit_rejected "$repo" ".env:1: plaintext env file" &&
        assert_contains "$(both)" "values.yaml:1: copy of the value"
}

# An inline allow comment, in the forms gitleaks, detect-secrets and a
# would-be rotarr marker use, on the line of the secret.
inline_allow_comment_fails() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'password: %s # gitleaks:allow pragma: allowlist secret rotarr:allow\n' \
            "$SECRET" >"$repo/values.yaml" &&
        git -C "$repo" add values.yaml &&
        commit_rejected "$repo" "values.yaml:1: copy of the value"
}

# SKIP names hooks for the pre-commit framework to skip; rotarr's own
# hook reads no variable that turns it off.
skip_variable_fails() {
    local repo

    repo=$(new_guarded_repo) &&
        git -C "$repo" add -f .env &&
        SKIP=rotarr ROTARR_SKIP=1 ROTARR_ALLOW=1 commit_rejected "$repo" \
            ".env:1: plaintext env file"
}

# ---- the staged content counts, not the working tree ----

working_tree_secret_passes() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'password: %s\n' "$REFERENCE" >"$repo/values.yaml" &&
        git -C "$repo" add values.yaml &&
        printf 'password: %s\n' "$SECRET" >"$repo/values.yaml" &&
        commit_passes "$repo"
}

staged_secret_rejected_after_edit() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'password: %s\n' "$SECRET" >"$repo/values.yaml" &&
        git -C "$repo" add values.yaml &&
        printf 'password: %s\n' "$REFERENCE" >"$repo/values.yaml" &&
        commit_rejected "$repo" "values.yaml:1: copy of the value"
}

staged_secret_rejected_after_delete() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'password: %s\n' "$SECRET" >"$repo/values.yaml" &&
        git -C "$repo" add values.yaml &&
        rm "$repo/values.yaml" &&
        commit_rejected "$repo" "values.yaml:1: copy of the value"
}

rename_to_env_name_rejected() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'LOG_LEVEL=debug\nWORKERS=4\n' >"$repo/settings.txt" &&
        git -C "$repo" add settings.txt &&
        commit_passes "$repo" &&
        git -C "$repo" mv settings.txt .env.local &&
        expect_exit 1 gitc -C "$repo" commit -q -m rename &&
        assert_contains "$(both)" ".env.local:1: plaintext env file"
}

commit_all_is_scanned() {
    local repo

    repo=$(new_guarded_repo) &&
        printf 'password: none\n' >"$repo/values.yaml" &&
        git -C "$repo" add values.yaml &&
        commit_passes "$repo" &&
        printf 'password: %s\n' "$SECRET" >"$repo/values.yaml" &&
        expect_exit 1 gitc -C "$repo" commit -q -a -m all &&
        assert_contains "$(both)" "values.yaml:1: copy of the value"
}

# ---- where the hook goes ----

hooks_path_install() {
    local repo

    repo=$(new_repo) &&
        git -C "$repo" config core.hooksPath .githooks &&
        expect_exit 0 "$ROTARR" -C "$repo" hook install &&
        assert_contains "$ERR" "$repo/.githooks/pre-commit" &&
        [ -x "$repo/.githooks/pre-commit" ] &&
        [ ! -e "$repo/.git/hooks/pre-commit" ] &&
        git -C "$repo" add -f .env &&
        commit_rejected "$repo" ".env:1: plaintext env file"
}

global_hooks_path_warns() {
    local repo

    repo=$(new_repo) &&
        git config --global core.hooksPath "$TEST_TMP/global-hooks" &&
        expect_exit 0 "$ROTARR" -C "$repo" hook install &&
        git config --global --unset core.hooksPath &&
        assert_contains "$ERR" "core.hooksPath is set in the global git config" &&
        [ -x "$TEST_TMP/global-hooks/pre-commit" ]
}

install_without_stack_warns() {
    # The stack lives in a subfolder, so the top has nothing to learn.
    # Installing for the subfolder is the twin: no warning.
    local repo=$TEST_TMP/mono

    mkdir -p "$repo" && git -C "$repo" init -q &&
        cp -R "$(new_repo)" "$repo/stack" && rm -rf "$repo/stack/.git" &&
        expect_exit 0 "$ROTARR" -C "$repo" hook install &&
        assert_contains "$ERR" "has no compose file and no .env" &&
        assert_contains "$ERR" "rotarr -C DIR hook install" &&
        expect_exit 0 env -C "$repo" "$ROTARR" -C stack hook install --force &&
        assert_not_contains "$ERR" "has no compose file"
}

worktree_install() {
    local repo tree

    repo=$(new_repo) &&
        tree=$repo.worktree &&
        git -C "$repo" worktree add -q "$tree" 2>/dev/null &&
        cp "$repo/.env" "$tree/.env" &&
        expect_exit 0 "$ROTARR" -C "$tree" hook install &&
        [ -x "$repo/.git/hooks/pre-commit" ] &&
        git -C "$tree" add -f .env &&
        expect_exit 1 gitc -C "$tree" commit -q -m test &&
        assert_contains "$(both)" ".env:1: plaintext env file"
}

submodule_install() {
    local repo sub

    sub=$(new_repo) &&
        repo=$(new_repo) &&
        gitc -C "$repo" -c protocol.file.allow=always submodule add -q \
            "$sub" stack 2>/dev/null &&
        cp "$sub/.env" "$repo/stack/.env" &&
        expect_exit 0 "$ROTARR" -C "$repo/stack" hook install &&
        [ -x "$repo/.git/modules/stack/hooks/pre-commit" ] &&
        printf 'password: %s\n' "$SECRET" >"$repo/stack/values.yaml" &&
        git -C "$repo/stack" add values.yaml &&
        expect_exit 1 gitc -C "$repo/stack" commit -q -m test &&
        assert_contains "$(both)" "values.yaml:1: copy of the value"
}

stack_in_subdirectory() {
    local repo

    repo=$(new_repo) &&
        mkdir "$repo/paperless" &&
        git -C "$repo" mv compose.yaml paperless/ &&
        mv "$repo/.env" "$repo/paperless/.env" &&
        gitc -C "$repo" commit -q -m move &&
        expect_exit 0 "$ROTARR" -C "$repo/paperless" hook install &&
        printf 'POSTGRES_INITDB_ARGS=--data-checksums\n' \
            >"$repo/paperless/db-settings.conf" &&
        printf 'pw: %s\n' "$SECRET" >"$repo/notes.txt" &&
        git -C "$repo" add paperless/db-settings.conf notes.txt &&
        expect_exit 1 gitc -C "$repo" commit -q -m test &&
        assert_contains "$(both)" \
            "paperless/db-settings.conf:1: plaintext env file" &&
        assert_contains "$(both)" "notes.txt:1: copy of the value"
}

# ---- an existing hook ----

existing_hook_kept_and_restored() {
    local repo hook

    repo=$(new_repo) &&
        hook=$repo/.git/hooks/pre-commit &&
        printf '#!/bin/sh\necho ran >>"%s"\n' "$repo.ran" \
            >"$hook" &&
        chmod 0750 "$hook" &&
        cp -p "$hook" "$TEST_TMP/hook-before" &&
        expect_exit 0 "$ROTARR" -C "$repo" hook install &&
        assert_contains "$ERR" "kept the existing pre-commit hook" &&
        git -C "$repo" add -f .env &&
        commit_rejected "$repo" ".env:1: plaintext env file" &&
        assert_contains "$repo.ran" ran &&
        expect_exit 0 "$ROTARR" -C "$repo" hook uninstall &&
        cmp "$hook" "$TEST_TMP/hook-before" &&
        assert_file_mode 750 "$hook" &&
        [ ! -e "$repo/.git/hooks/pre-commit.before-rotarr" ]
}

failing_existing_hook_stops_commit() {
    local repo

    repo=$(new_repo) &&
        printf '#!/bin/sh\necho previous hook says no >&2\nexit 3\n' \
            >"$repo/.git/hooks/pre-commit" &&
        chmod +x "$repo/.git/hooks/pre-commit" &&
        expect_exit 0 "$ROTARR" -C "$repo" hook install &&
        expect_exit 1 gitc -C "$repo" commit -q --allow-empty -m test &&
        assert_contains "$ERR" "previous hook says no"
}

reinstall_keeps_saved_hook() {
    local repo

    repo=$(new_repo) &&
        printf '#!/bin/sh\nexit 0\n' >"$repo/.git/hooks/pre-commit" &&
        chmod +x "$repo/.git/hooks/pre-commit" &&
        expect_exit 0 "$ROTARR" -C "$repo" hook install &&
        expect_exit 0 "$ROTARR" -C "$repo" hook install &&
        assert_contains "$ERR" "updated the pre-commit guard" &&
        expect_exit 0 "$ROTARR" -C "$repo" hook uninstall &&
        assert_contains "$repo/.git/hooks/pre-commit" "exit 0"
}

uninstall_removes_hook() {
    local repo

    repo=$(new_guarded_repo) &&
        expect_exit 0 "$ROTARR" -C "$repo" hook uninstall &&
        [ ! -e "$repo/.git/hooks/pre-commit" ] &&
        git -C "$repo" add -f .env &&
        commit_passes "$repo"
}

uninstall_leaves_foreign_hook() {
    local repo

    repo=$(new_repo) &&
        printf '#!/bin/sh\nexit 0\n' >"$repo/.git/hooks/pre-commit" &&
        expect_exit 1 "$ROTARR" -C "$repo" hook uninstall &&
        assert_contains "$ERR" "was not written by rotarr" &&
        assert_contains "$repo/.git/hooks/pre-commit" "exit 0"
}

# ---- hooks that another tool manages ----

husky_gets_a_line() {
    local repo

    repo=$(new_repo) &&
        mkdir -p "$repo/.husky/_" &&
        git -C "$repo" config core.hooksPath .husky/_ &&
        expect_exit 1 "$ROTARR" -C "$repo" hook install &&
        assert_contains "$ERR" "managed by husky" &&
        assert_contains "$ERR" ".husky/pre-commit" &&
        assert_contains "$OUT" "rotarr hook run" &&
        assert_lines "$OUT" 1 &&
        [ ! -e "$repo/.husky/_/pre-commit" ]
}

pre_commit_framework_gets_a_line() {
    local repo hook

    repo=$(new_repo) &&
        hook=$repo/.git/hooks/pre-commit &&
        printf '#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n' \
            >"$hook" &&
        cp "$hook" "$TEST_TMP/framework-hook" &&
        expect_exit 1 "$ROTARR" -C "$repo" hook install &&
        assert_contains "$ERR" "managed by the pre-commit framework" &&
        assert_contains "$ERR" ".pre-commit-config.yaml" &&
        assert_contains "$OUT" "entry: \"rotarr hook run\"" &&
        cmp "$hook" "$TEST_TMP/framework-hook"
}

# ---- without rotarr ----

missing_rotarr_fails_closed() {
    local repo path_dir=$TEST_TMP/path-without-rotarr tool

    repo=$(new_guarded_repo) &&
        mkdir -p "$path_dir" &&
        for tool in git dirname cat; do
            ln -sf "$(command -v "$tool")" "$path_dir/$tool"
        done &&
        expect_exit 1 env PATH="$path_dir" git -c user.name=t \
            -c user.email=t@example.invalid -C "$repo" commit -q \
            --allow-empty -m test &&
        assert_contains "$ERR" "'rotarr' is not on PATH" &&
        assert_contains "$ERR" "meson setup build"
}

# ---- CI checks ----

check_all_finds_committed_env() {
    local repo

    repo=$(new_guarded_repo) &&
        git -C "$repo" add -f .env &&
        gitc -C "$repo" commit -q --no-verify -m leak &&
        expect_exit 1 "$ROTARR" -C "$repo" hook check --all &&
        assert_contains "$OUT" ".env:1: plaintext env file" &&
        assert_not_contains "$OUT" "$SECRET"
}

check_range_names_commit() {
    local repo commit

    repo=$(new_guarded_repo) &&
        printf 'password: %s\n' "$SECRET" >"$repo/values.yaml" &&
        git -C "$repo" add values.yaml &&
        gitc -C "$repo" commit -q --no-verify -m leak &&
        git -C "$repo" rm -q values.yaml &&
        gitc -C "$repo" commit -q -m fix &&
        commit=$(git -C "$repo" rev-parse --short=12 HEAD~1) &&
        expect_exit 1 "$ROTARR" -C "$repo" hook check HEAD~2..HEAD &&
        assert_contains "$OUT" "values.yaml:1: copy of the value of \
'POSTGRES_PASSWORD' in '.env' (commit $commit)" &&
        expect_exit 0 "$ROTARR" -C "$repo" hook check --all &&
        expect_exit 0 "$ROTARR" -C "$repo" hook check HEAD~1..HEAD
}

range_advises_rotation() {
    local repo

    repo=$(new_guarded_repo) &&
        git -C "$repo" add -f .env &&
        gitc -C "$repo" commit -q --no-verify -m leak &&
        expect_exit 1 "$ROTARR" -C "$repo" hook check HEAD~1..HEAD &&
        assert_contains "$OUT" ".env:1: plaintext env file in a commit; \
rotate its secrets and rewrite the history" &&
        assert_not_contains "$OUT" "git rm --cached" &&
        assert_contains "$ERR" "rotate them ('rotarr postgres' and \
'rotarr redis'" &&
        assert_contains "$ERR" "rewrite the history" &&
        assert_not_contains "$OUT" "$SECRET"
}

staged_env_advises_unstaging() {
    local repo

    repo=$(new_guarded_repo) &&
        git -C "$repo" add -f .env &&
        expect_exit 1 gitc -C "$repo" commit -q -m test &&
        assert_contains "$(both)" "unstage it with 'git rm --cached'" &&
        assert_not_contains "$(both)" "rewrite the history"
}

bad_range_is_usage_error() {
    local repo

    repo=$(new_guarded_repo) &&
        expect_exit 2 "$ROTARR" -C "$repo" hook check nosuchref..HEAD &&
        assert_contains "$ERR" "invalid range 'nosuchref..HEAD'" &&
        assert_contains "$ERR" "'git log nosuchref..HEAD'" &&
        assert_not_contains "$ERR" "rev-list" &&
        assert_not_contains "$ERR" "fatal:"
}

good_range_is_not_usage_error() {
    local repo

    repo=$(new_guarded_repo) &&
        expect_exit 0 "$ROTARR" -C "$repo" hook check HEAD &&
        assert_not_contains "$ERR" "invalid range" &&
        expect_exit 3 "$ROTARR" -C "$TEST_TMP" hook check HEAD~1..HEAD &&
        assert_not_contains "$ERR" "invalid range" &&
        assert_contains "$ERR" "not a git repository"
}

check_json_lists_findings() {
    local repo

    repo=$(new_guarded_repo) &&
        git -C "$repo" add -f .env &&
        gitc -C "$repo" commit -q --no-verify -m leak &&
        expect_exit 1 "$ROTARR" -C "$repo" --json hook check &&
        assert_match "$OUT" '^\{"findings":\[\{"path":"\.env","line":1,"what":"plaintext env file[^"]*","commit":""\}\],"more":0\}$'
}

usage_errors() {
    expect_exit 2 "$ROTARR" hook &&
        expect_exit 2 "$ROTARR" hook launch &&
        expect_exit 2 "$ROTARR" hook run --all &&
        expect_exit 2 "$ROTARR" hook check --all HEAD &&
        expect_exit 2 "$ROTARR" hook install --force extra
}

check "staged plaintext .env is rejected" plaintext_env_rejected
check "compose file with a literal password is rejected" \
    literal_password_rejected
check "URL with the percent-encoded password is rejected" \
    encoded_password_in_url_rejected
check "generated app secret is rejected" generated_secret_rejected
check "age secret key is rejected" age_secret_key_rejected
check "OpenSSH private key is rejected" openssh_key_rejected
check "env_file: target is rejected by name" env_file_target_rejected
check ".env.example with a real value is rejected" \
    example_with_real_value_rejected
check ".env.age commits" age_env_passes
check "armored age env file commits" armored_age_env_passes
check "sops dotenv commits" sops_env_passes
check ".env.example with placeholders commits" \
    example_with_placeholders_passes
check "\${VAR} reference commits" reference_passes
check ".allow-unencrypted does not bypass the guard" \
    bypass_fails .allow-unencrypted '*'
check ".rotarrignore does not bypass the guard" bypass_fails .rotarrignore \
    "$(printf '.env\nvalues.yaml\n*')"
check ".gitleaksignore does not bypass the guard" bypass_fails \
    .gitleaksignore "$(printf '.env:1\nvalues.yaml:1')"
check ".gitleaks.toml allowlist does not bypass the guard" bypass_fails \
    .gitleaks.toml "$(printf '[allowlist]\npaths = [".*"]')"
check "inline allow comment does not bypass the guard" \
    inline_allow_comment_fails
check "SKIP=rotarr does not bypass the guard" skip_variable_fails
check "secret only in the working tree commits" working_tree_secret_passes
check "staged secret edited away in the working tree is rejected" \
    staged_secret_rejected_after_edit
check "staged secret deleted from the working tree is rejected" \
    staged_secret_rejected_after_delete
check "rename to an env file name is rejected" rename_to_env_name_rejected
check "git commit -a is scanned" commit_all_is_scanned
check "install follows core.hooksPath" hooks_path_install
check "install warns about a global core.hooksPath" global_hooks_path_warns
check "install without a stack warns" install_without_stack_warns
check "install works in a linked worktree" worktree_install
check "install works in a submodule" submodule_install
check "stack in a subdirectory of the repository" stack_in_subdirectory
check "existing hook runs first and uninstall restores it" \
    existing_hook_kept_and_restored
check "failing existing hook stops the commit" \
    failing_existing_hook_stops_commit
check "reinstall keeps the saved hook" reinstall_keeps_saved_hook
check "uninstall removes the hook" uninstall_removes_hook
check "uninstall leaves a foreign hook alone" uninstall_leaves_foreign_hook
check "husky hooks get a line to add" husky_gets_a_line
check "pre-commit framework gets a line to add" \
    pre_commit_framework_gets_a_line
check "hook without rotarr on PATH rejects the commit" \
    missing_rotarr_fails_closed
check "check --all finds a commit made with --no-verify" \
    check_all_finds_committed_env
check "check REV-RANGE names the commit" check_range_names_commit
check "range finding advises rotation" range_advises_rotation
check "staged finding advises unstaging" staged_env_advises_unstaging
check "bad range is a usage error" bad_range_is_usage_error
check "no usage error for a valid range" good_range_is_not_usage_error
check "--json hook check prints one document" check_json_lists_findings
check "hook usage errors exit 2" usage_errors
