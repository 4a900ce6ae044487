#compdef fcadm

__fcadm_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__fcadm_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __fcadm_complete "${completions[@]:0:-1}"
    fi
}

__fcadm_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_fcadm() {
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
            'hba-port:List FC HBA ports: this machine'\''s (read from udev, no daemon needed) and stmfd'\''s emulated ports.'
            'remote-port:List remote ports logged in to a local FC port.'
            'force-lip:Reinitialise the link of an HBA port (a loop initialisation or link reset; logins drop and return).'
            'bind-port:Bind an HBA port to target mode (STMF target wwn.<WWPN>); kept across restarts.'
            'unbind-port:Unbind an HBA port from target mode and return it to initiator mode.'
            'list-bindings:List the HBA ports bound to target mode.'
            'create-emulated-port:Create a persistent emulated FC target port (STMF target wwn.<WWPN>) on an emulated fabric.'
            'delete-emulated-port:Delete an emulated FC target port (its sessions end).'
            'list-emulated-port:List emulated FC target ports.'
            'create-loop-port:Create a LIO tcm_loop FC target (STMF target wwn.<WWPN>) whose LUs stmfd serves through TCMU.'
            'delete-loop-port:Delete a LIO tcm_loop target (its SCSI host and TCMU devices go).'
            'list-loop-port:List LIO tcm_loop targets and the TCMU devices serving their LUs.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        hba-port|remote-port|force-lip|bind-port|unbind-port|list-bindings|create-emulated-port|delete-emulated-port|list-emulated-port|create-loop-port|delete-loop-port|list-loop-port|help)
            "_fcadm_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_fcadm_hba-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-l --linkstat)'{-l,--linkstat}'[Link error statistics (read from the HBA now).]'
        '(-t --target)'{-t,--target}'[Target mode ports only.]'
        '(-i --initiator)'{-i,--initiator}'[Initiator mode ports only.]'
        '(-e --fcoe)'{-e,--fcoe}'[FCoE ports only (this machine has none that stmfd drives).]'
        '*:WWN:{__fcadm_custom_complete ---completion hba-port -- positional@0 "${current_word_index}" "$(__fcadm_cursor_index_in_current_word)"}'
        '--watch[Keep running and print a line for every HBA port added, removed or changed (link up or down, speed, port id).]'
        '--interval[With --watch\: seconds between re-reads of the ports (link changes raise no uevent).]:interval:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_remote-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-p --port)'{-p,--port}'[Local HBA port WWN.]:HBA Port WWN:{__fcadm_custom_complete ---completion remote-port -- --port "${current_word_index}" "$(__fcadm_cursor_index_in_current_word)"}'
        '(-l --linkstat)'{-l,--linkstat}'[Link error statistics of each remote port.]'
        '(-s --scsi-target)'{-s,--scsi-target}'[SCSI target information\: the LUNs each remote target port offers.]'
        '*:WWN:{__fcadm_custom_complete ---completion remote-port -- positional@0 "${current_word_index}" "$(__fcadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_force-lip() {
    local -i ret=1
    local -ar arg_specs=(
        ':WWN:{__fcadm_custom_complete ---completion force-lip -- positional@0 "${current_word_index}" "$(__fcadm_cursor_index_in_current_word)"}'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_bind-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':WWN:{__fcadm_custom_complete ---completion bind-port -- positional@0 "${current_word_index}" "$(__fcadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_unbind-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':WWN:{__fcadm_custom_complete ---completion unbind-port -- positional@0 "${current_word_index}" "$(__fcadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_list-bindings() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_create-emulated-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-p --port)'{-p,--port}'[Port WWN (16 hex digits).]:HBA Port WWN:'
        '(-n --node)'{-n,--node}'[Node WWN (default\: derived from the port WWN).]:HBA Node WWN:'
        '--fabric[The emulated fabric'\''s socket (default\: $FCFABRIC_SOCKET, $XDG_RUNTIME_DIR/fcfabric.sock).]:fabric:_files'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_delete-emulated-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-p --port)'{-p,--port}'[Port WWN.]:HBA Port WWN:{__fcadm_custom_complete ---completion delete-emulated-port -- --port "${current_word_index}" "$(__fcadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_list-emulated-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_create-loop-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-p --port)'{-p,--port}'[Target port WWN (16 hex digits).]:Port WWN:'
        '(-i --initiator)'{-i,--initiator}'[The loopback initiator'\''s port WWN.]:Initiator WWN:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_delete-loop-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-p --port)'{-p,--port}'[Target port WWN.]:Port WWN:{__fcadm_custom_complete ---completion delete-loop-port -- --port "${current_word_index}" "$(__fcadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_list-loop-port() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(--verbose -v)'{--verbose,-v}'[Also list the TCMU devices.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_fcadm_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _fcadm ]]; then
    _fcadm "${@}"
else
    compdef _fcadm fcadm
fi
