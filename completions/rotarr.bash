# bash completion for rotarr                                 -*- shell-script -*-
#
# Completes verbs, the options of each verb, the arguments of the options
# that take a known set (charsets, sslmodes, hook actions), service names
# and file names.  Service names come from 'rotarr inspect --json' on the
# stack that the command line names with -C, -f and --env-file.

_rotarr_verbs="arr-key audit decrypt edit encrypt exec gen hook inspect keygen
    postgres redis resume rotate status"

_rotarr_global_opts="-C -f --file --env-file --json -n --dry-run -q -v
    -h --help --version"

# Prints the options of one verb, global options excluded.
_rotarr_verb_opts()
{
    case $1 in
        arr-key) echo "--service --restart --show" ;;
        audit) echo "--severity --explain" ;;
        decrypt) echo "-i --identity -o --output" ;;
        encrypt)
            echo "-r --recipient -R --recipients-file -i --identity"
            echo "-p --passphrase -a --armor -o --output" ;;
        gen) echo "-l --length -b --bits -c --charset --weak" ;;
        hook) echo "--force --all" ;;
        keygen) echo "-o --output -y" ;;
        postgres)
            echo "--service --user --var --host --port --dbname --sslmode"
            echo "--admin-user --admin-password-stdin --adopt"
            echo "--password-stdin --restart --show" ;;
        redis)
            echo "--service --var --host --port --enable --overlap"
            echo "--no-overlap --finish --offline --restart --show" ;;
        rotate) echo "--max-age --only --restart" ;;
        status) echo "--max-age --only --offline" ;;
    esac
}

# Prints the names of the stack's services: those of one kind (postgres,
# redis) when $1 is given, or the Servarr apps when $1 is 'arr'.  Runs
# 'rotarr inspect --json' with the stack options of the command line being
# completed, and prints nothing when that fails.
_rotarr_services()
{
    local kind=$1 json i
    local -a stack_args=()

    for (( i = 1; i < ${#COMP_WORDS[@]} - 1; i++ )); do
        case ${COMP_WORDS[i]} in
            -C | -f | --file | --env-file)
                stack_args+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
        esac
    done
    json=$("${COMP_WORDS[0]}" "${stack_args[@]}" -q inspect --json \
        2>/dev/null) || return 0
    # The services list comes first and the apps list second; each object
    # in them starts with the service's name.
    if [ "$kind" = arr ]; then
        json=${json#*\"apps\":\[}
        json=${json%%\],\"secrets\":*}
        printf '%s\n' "$json" | sed 's/},{/}\n{/g' |
            sed -n 's/^{"service":"\([^"\\]*\)".*/\1/p'
        return 0
    fi
    json=${json%%\],\"apps\":*}
    json=${json%%\],\"secrets\":*}
    printf '%s\n' "$json" | sed 's/},{/}\n{/g' |
        if [ -n "$kind" ]; then grep -F "\"kind\":\"$kind\""; else cat; fi |
        sed -n 's/.*"name":"\([^"\\]*\)".*/\1/p'
}

# Sets COMPREPLY to the words of 'compgen ARG...' that start with $cur,
# one per line, so that file names with spaces stay whole.
_rotarr_reply()
{
    mapfile -t COMPREPLY < <(compgen "$@" -- "$cur")
}

# Completes file names (-f) or directories (-d), with bash's quoting.
_rotarr_files()
{
    compopt -o filenames 2>/dev/null
    _rotarr_reply "$1"
}

_rotarr()
{
    local cur prev words cword
    local verb="" i word kind

    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -n = || return
    else
        COMPREPLY=()
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    # The verb is the first word that is neither an option nor the
    # argument of a global option that takes one.
    for (( i = 1; i < cword; i++ )); do
        word=${words[i]}
        case $word in
            -C | -f | --file | --env-file) (( i++ )) ;;
            -*) ;;
            *) verb=$word; break ;;
        esac
    done

    case $prev in
        -C)
            _rotarr_files -d; return ;;
        -f | --file | --env-file | -o | --output | -i | --identity | \
        -R | --recipients-file)
            _rotarr_files -f; return ;;
        -c | --charset)
            _rotarr_reply -W "alnum urlsafe hex base64url words"; return ;;
        --only)
            _rotarr_reply -W "postgres redis"; return ;;
        --severity)
            _rotarr_reply -W "low medium high"; return ;;
        --sslmode)
            _rotarr_reply -W "disable allow prefer require verify-ca verify-full"
            return ;;
        --service)
            case $verb in
                postgres | redis) kind=$verb ;;
                arr-key) kind=arr ;;
                *) kind="" ;;
            esac
            _rotarr_reply -W "$(_rotarr_services "$kind")"; return ;;
        -l | --length | -b | --bits | --user | --var | --host | --port | \
        --dbname | --admin-user | -r | --recipient | --max-age | --explain)
            return ;;
    esac

    if [ -z "$verb" ]; then
        if [[ $cur == -* ]]; then
            _rotarr_reply -W "$_rotarr_global_opts"
        else
            _rotarr_reply -W "$_rotarr_verbs"
        fi
        return
    fi

    if [ "$verb" = exec ]; then
        # After '--', complete the command and its arguments.
        for (( i = 1; i < cword; i++ )); do
            if [ "${words[i]}" = -- ]; then
                if declare -F _command_offset >/dev/null 2>&1; then
                    _command_offset $(( i + 1 ))
                else
                    _rotarr_reply -c
                fi
                return
            fi
        done
    fi

    if [ "$verb" = hook ] && [[ $cur != -* ]] &&
        [ "${words[cword - 1]}" = hook ]; then
        _rotarr_reply -W "install uninstall run check"
        return
    fi

    if [[ $cur == -* ]]; then
        _rotarr_reply -W "$(_rotarr_verb_opts "$verb") $_rotarr_global_opts"
        return
    fi

    case $verb in
        decrypt | edit | encrypt | keygen)
            _rotarr_files -f ;;
    esac
}

complete -F _rotarr rotarr
