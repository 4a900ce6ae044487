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
            'delete-lu:Delete logical units (their data and metadata stay in the backing store).'
            'list-lu:List logical units.'
            'online-lu:Bring a logical unit online.'
            'offline-lu:Take a logical unit offline.'
            'create-hg:Create a host group.'
            'delete-hg:Delete a host group.'
            'add-hg-member:Add initiator ports (wwn.X, iqn.X, eui.X) to a host group.'
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
            'list-backups:List the configuration restore points stmfd keeps.'
            'restore:Replace the configuration with a restore point (all or nothing).'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create-lu|modify-lu|import-lu|delete-lu|list-lu|online-lu|offline-lu|create-hg|delete-hg|add-hg-member|remove-hg-member|list-hg|create-tg|delete-tg|add-tg-member|remove-tg-member|list-tg|add-view|remove-view|list-view|list-target|online-target|offline-target|list-state|export|import|list-backups|restore|help)
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
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '*'{-p,--lu-prop}'[Property name=value. Repeatable.]:logical-unit-property=value:{__stmfadm_custom_complete ---completion create-lu -- --lu-prop "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-s --size)'{-s,--size}'[Size, with an optional k/m/g/t/p/e suffix.]:size:'
        '--overwrite[Write the LU'\''s metadata over a file or device that holds other data (refused without it).]'
        ':lu-file:_files'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_modify-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '*'{-p,--lu-prop}'[Property name=value. Repeatable.]:logical-unit-property=value:{__stmfadm_custom_complete ---completion modify-lu -- --lu-prop "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-s --size)'{-s,--size}'[New size, with an optional k/m/g/t/p/e suffix.]:size:'
        '(-f --file)'{-f,--file}'[The operand is the LU'\''s file, not its name.]'
        ':lu-name:{__stmfadm_custom_complete ---completion modify-lu -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_import-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':file-name:_files'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_delete-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-k --keep-views)'{-k,--keep-views}'[Keep the logical units'\'' view entries.]'
        '*:lu-name:{__stmfadm_custom_complete ---completion delete-lu -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-v --verbose)'{-v,--verbose}'[Verbose\: every property.]'
        '*:lu-name:{__stmfadm_custom_complete ---completion list-lu -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_online-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':lu-name:{__stmfadm_custom_complete ---completion online-lu -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_offline-lu() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':lu-name:{__stmfadm_custom_complete ---completion offline-lu -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_create-hg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':group-name:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_delete-hg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':group-name:{__stmfadm_custom_complete ---completion delete-hg -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_add-hg-member() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-g --group-name)'{-g,--group-name}'[Host group.]:group-name:{__stmfadm_custom_complete ---completion add-hg-member -- --group-name "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '*:group-member:{__stmfadm_custom_complete ---completion add-hg-member -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_remove-hg-member() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-g --group-name)'{-g,--group-name}'[Host group.]:group-name:{__stmfadm_custom_complete ---completion remove-hg-member -- --group-name "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '*:group-member:{__stmfadm_custom_complete ---completion remove-hg-member -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-hg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-v --verbose)'{-v,--verbose}'[Verbose\: list members.]'
        '*:group-name:{__stmfadm_custom_complete ---completion list-hg -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_create-tg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':group-name:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_delete-tg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':group-name:{__stmfadm_custom_complete ---completion delete-tg -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_add-tg-member() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-g --group-name)'{-g,--group-name}'[Target group.]:group-name:{__stmfadm_custom_complete ---completion add-tg-member -- --group-name "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '*:group-member:{__stmfadm_custom_complete ---completion add-tg-member -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_remove-tg-member() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-g --group-name)'{-g,--group-name}'[Target group.]:group-name:{__stmfadm_custom_complete ---completion remove-tg-member -- --group-name "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '*:group-member:{__stmfadm_custom_complete ---completion remove-tg-member -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-tg() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-v --verbose)'{-v,--verbose}'[Verbose\: list members.]'
        '*:group-name:{__stmfadm_custom_complete ---completion list-tg -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_add-view() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-n --lun)'{-n,--lun}'[Logical unit number (0-16383); default\: the lowest free.]:logical-unit-number:'
        '(-t --target-group)'{-t,--target-group}'[Target group (default\: all targets).]:group-name:{__stmfadm_custom_complete ---completion add-view -- --target-group "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --host-group)'{-h,--host-group}'[Host group (default\: all hosts).]:group-name:{__stmfadm_custom_complete ---completion add-view -- --host-group "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        ':lu-name:{__stmfadm_custom_complete ---completion add-view -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_remove-view() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-l --lu-name)'{-l,--lu-name}'[Logical unit GUID.]:LU-Name:{__stmfadm_custom_complete ---completion remove-view -- --lu-name "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-a --all)'{-a,--all}'[Remove all view entries of the logical unit.]'
        '*:view-entry-number:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-view() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-l --lu-name)'{-l,--lu-name}'[Logical unit GUID.]:LU-Name:{__stmfadm_custom_complete ---completion list-view -- --lu-name "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '*:view-entry-number:'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-target() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-v --verbose)'{-v,--verbose}'[Verbose\: status and sessions.]'
        '*:target-name:{__stmfadm_custom_complete ---completion list-target -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_online-target() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':target-name:{__stmfadm_custom_complete ---completion online-target -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_offline-target() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':target-name:{__stmfadm_custom_complete ---completion offline-target -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-state() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_export() {
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

_stmfadm_import() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '--replace[Replace the current configuration (otherwise the service must be empty).]'
        ':file:_files'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_list-backups() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        '(-v --verbose)'{-v,--verbose}'[Verbose\: size, checksum and what the configuration holds.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_stmfadm_restore() {
    local -i ret=1
    local -ar arg_specs=(
        '--state-dir[stmfd state directory (default\: $STMF_STATE_DIR, /var/lib/stmf for root).]:state-dir:_files -/'
        '--json[Print JSON instead of the COMSTAR layout.]'
        ':backup-name:{__stmfadm_custom_complete ---completion restore -- positional@0 "${current_word_index}" "$(__stmfadm_cursor_index_in_current_word)"}'
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
