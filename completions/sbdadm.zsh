#compdef sbdadm

__sbdadm_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__sbdadm_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __sbdadm_complete "${completions[@]:0:-1}"
    fi
}

__sbdadm_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_sbdadm() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'create-lu:Create a logical unit on FILE.'
            'delete-lu:Delete a logical unit (its views too, unless -k).'
            'import-lu:Import a logical unit from FILE'\''s metadata.'
            'list-lu:List all the exported LUs (nothing when there are none).'
            'modify-lu:Grow a logical unit.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create-lu|delete-lu|import-lu|list-lu|modify-lu|help)
            "_sbdadm_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_sbdadm_create-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-s --disk-size)'{-s,--disk-size}'[Size with <none>/k/m/g/t/p/e modifier.]:size:'
        '--overwrite[Write the LU'\''s metadata over a file or device that holds other data (refused without it).]'
        ':file:_files'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_sbdadm_delete-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-k --keep-views)'{-k,--keep-views}'[Don'\''t delete view entries related to the LU.]'
        ':lu-name:{__sbdadm_custom_complete ---completion delete-lu -- positional@0 "${current_word_index}" "$(__sbdadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_sbdadm_import-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':file:_files'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_sbdadm_list-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_sbdadm_modify-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-s --disk-size)'{-s,--disk-size}'[New size with <none>/k/m/g/t/p/e modifier.]:size:'
        ':lu-name:{__sbdadm_custom_complete ---completion modify-lu -- positional@0 "${current_word_index}" "$(__sbdadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_sbdadm_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _sbdadm ]]; then
    _sbdadm "${@}"
else
    compdef _sbdadm sbdadm
fi
