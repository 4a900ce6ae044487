#compdef stmfadm

__stmfadm_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__stmfadm_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __stmfadm_complete "${completions[@]:0:-1}"
    fi
}

__stmfadm_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_stmfadm() {
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
            'create-lu:Create a disk logical unit backed by FILE (a file, block device, or ram:NAME).'
            'modify-lu:Modify a logical unit'\''s properties or grow its size.'
            'import-lu:Bring back a logical unit from its backing file'\''s metadata.'
            'delete-lu:Delete a logical unit (its data and metadata stay in the backing store).'
            'list-lu:List logical units.'
            'online-lu:Bring a logical unit online.'
            'offline-lu:Take a logical unit offline.'
            'create-hg:Create a host group.'
            'delete-hg:Delete a host group.'
            'add-hg-member:Add initiator ports (wwn.…, iqn.…, eui.…) to a host group.'
            'remove-hg-member:Remove initiator ports from a host group.'
            'list-hg:List host groups.'
            'create-tg:Create a target group.'
            'delete-tg:Delete a target group.'
            'add-tg-member:Add target ports to a target group (targets must be offline).'
            'remove-tg-member:Remove target ports from a target group (targets must be offline).'
            'list-tg:List target groups.'
            'add-view:Make a logical unit visible to a host group through a target group.'
            'remove-view:Remove view entries of a logical unit.'
            'list-view:List view entries of a logical unit.'
            'list-target:List local target ports.'
            'online-target:Bring a target port online.'
            'offline-target:Take a target port offline.'
            'list-state:Show the state of the SCSI target service.'
            'export:Write the whole configuration as a versioned, checksummed document.'
            'import:Apply an exported configuration (all or nothing).'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create-lu|modify-lu|import-lu|delete-lu|list-lu|online-lu|offline-lu|create-hg|delete-hg|add-hg-member|remove-hg-member|list-hg|create-tg|delete-tg|add-tg-member|remove-tg-member|list-tg|add-view|remove-view|list-view|list-target|online-target|offline-target|list-state|export|import|help)
            "_stmfadm_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_stmfadm_create-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '*-p[Property name=value (alias, blk, guid, mgmt-url, oui, pid, serial, vid, wcd, wp, meta, rev). Repeatable.]:p:'
        '-s[Size, with optional k/m/g/t suffix.]:s:'
        '--overwrite[Write the LU'\''s metadata over a file or device that holds other data (refused without it).]'
        ':file:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_modify-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '*-p[Property name=value (alias, mgmt-url, wcd, wp). Repeatable.]:p:'
        '-s[New size, with optional k/m/g/t suffix.]:s:'
        ':lu:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_import-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':file:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_delete-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-k[Keep the logical unit'\''s view entries.]'
        ':lu:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-v[Verbose.]'
        '*:lus:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_online-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':lu:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_offline-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':lu:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_create-hg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':group:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_delete-hg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':group:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_add-hg-member() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-g[Host group.]:g:'
        '*:members:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_remove-hg-member() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-g[Host group.]:g:'
        '*:members:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-hg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-v[Verbose\: list members.]'
        '*:groups:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_create-tg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':group:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_delete-tg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':group:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_add-tg-member() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-g[Target group.]:g:'
        '*:members:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_remove-tg-member() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-g[Target group.]:g:'
        '*:members:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-tg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-v[Verbose\: list members.]'
        '*:groups:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_add-view() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-n[Logical unit number (0-16383); default\: lowest free.]:n:'
        '-t[Target group (default\: all targets).]:t:'
        '-h[Host group (default\: all hosts).]:h:'
        ':lu:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_remove-view() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-l[Logical unit GUID.]:l:'
        '-a[Remove all view entries of the logical unit.]'
        '*:entries:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-view() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-l[Logical unit GUID.]:l:'
        '*:entries:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-target() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '-v[Verbose\: status and sessions.]'
        '*:targets:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_online-target() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':target:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_offline-target() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':target:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-state() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_export() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':file:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_import() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '--replace[Replace the current configuration (otherwise the service must be empty).]'
        ':file:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _stmfadm ]]; then
    _stmfadm "${@}"
else
    compdef _stmfadm stmfadm
fi
