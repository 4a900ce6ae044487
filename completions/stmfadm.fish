function __stmfadm_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __stmfadm_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __stmfadm_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __stmfadm_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __stmfadm_parse_tokens -S
    set -l unparsed_tokens (__stmfadm_tokens -pc)
    switch $unparsed_tokens[1]
    case 'stmfadm'
        __stmfadm_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'create-lu'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'p/lu-prop=+' 's/size=' 'overwrite' 'h/help'
        case 'modify-lu'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'p/lu-prop=+' 's/size=' 'f/file' 'h/help'
        case 'import-lu'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'delete-lu'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'k/keep-views' 'h/help'
        case 'list-lu'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'v/verbose' 'h/help'
        case 'online-lu'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'offline-lu'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'create-hg'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'delete-hg'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'add-hg-member'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'g/group-name=' 'h/help'
        case 'remove-hg-member'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'g/group-name=' 'h/help'
        case 'list-hg'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'v/verbose' 'h/help'
        case 'create-tg'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'delete-tg'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'add-tg-member'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'g/group-name=' 'h/help'
        case 'remove-tg-member'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'g/group-name=' 'h/help'
        case 'list-tg'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'v/verbose' 'h/help'
        case 'add-view'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'n/lun=' 't/target-group=' 'h/host-group=' 'h/help'
        case 'remove-view'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'l/lu-name=' 'a/all' 'h/help'
        case 'list-view'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'l/lu-name=' 'h/help'
        case 'list-target'
            __stmfadm_parse_subcommand -r 1 'state-dir=' 'json' 'v/verbose' 'h/help'
        case 'online-target'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'offline-target'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'list-state'
            __stmfadm_parse_subcommand 0 'state-dir=' 'json' 'h/help'
        case 'export'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'import'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'replace' 'h/help'
        case 'list-backups'
            __stmfadm_parse_subcommand 0 'state-dir=' 'json' 'v/verbose' 'h/help'
        case 'restore'
            __stmfadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'help'
            __stmfadm_parse_subcommand -r 1 
        end
    end
end

function __stmfadm_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __stmfadm_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __stmfadm_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __stmfadm_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__stmfadm_tokens -p)
    if test -z "$(__stmfadm_tokens -t)"
        set -l index (count (__stmfadm_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'stmfadm' -f
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'create-lu' -d 'Create a disk logical unit backed by FILE (a file, block device, or ram:NAME).'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'modify-lu' -d 'Modify a logical unit\'s properties or grow its size.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'import-lu' -d 'Bring back a logical unit from its backing file\'s metadata.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'delete-lu' -d 'Delete logical units (their data and metadata stay in the backing store).'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'list-lu' -d 'List logical units.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'online-lu' -d 'Bring a logical unit online.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'offline-lu' -d 'Take a logical unit offline.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'create-hg' -d 'Create a host group.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'delete-hg' -d 'Delete a host group.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'add-hg-member' -d 'Add initiator ports (wwn.X, iqn.X, eui.X) to a host group.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'remove-hg-member' -d 'Remove initiator ports from a host group.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'list-hg' -d 'List host groups.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'create-tg' -d 'Create a target group.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'delete-tg' -d 'Delete a target group.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'add-tg-member' -d 'Add target ports to a target group (targets must be offline).'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'remove-tg-member' -d 'Remove target ports from a target group (targets must be offline).'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'list-tg' -d 'List target groups.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'add-view' -d 'Make a logical unit visible to a host group through a target group.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'remove-view' -d 'Remove view entries of a logical unit.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'list-view' -d 'List view entries of a logical unit.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'list-target' -d 'List local target ports.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'online-target' -d 'Bring a target port online.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'offline-target' -d 'Take a target port offline.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'list-state' -d 'Show the state of the SCSI target service.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'export' -d 'Write the whole configuration as a versioned, checksummed document.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'import' -d 'Apply an exported configuration (all or nothing).'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'list-backups' -d 'List the configuration restore points stmfd keeps.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'restore' -d 'Replace the configuration with a restore point (all or nothing).'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-lu"' -s 'p' -l 'lu-prop' -d 'Property name=value. Repeatable.' -rfka '(__stmfadm_custom_completion ---completion create-lu -- --lu-prop (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-lu" s size' -s 's' -l 'size' -d 'Size, with an optional k/m/g/t/p/e suffix.' -rfka ''
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-lu" overwrite' -l 'overwrite' -d 'Write the LU\'s metadata over a file or device that holds other data (refused without it).'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm create-lu" -eq 1' -F
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm modify-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm modify-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm modify-lu"' -s 'p' -l 'lu-prop' -d 'Property name=value. Repeatable.' -rfka '(__stmfadm_custom_completion ---completion modify-lu -- --lu-prop (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm modify-lu" s size' -s 's' -l 'size' -d 'New size, with an optional k/m/g/t/p/e suffix.' -rfka ''
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm modify-lu" f file' -s 'f' -l 'file' -d 'The operand is the LU\'s file, not its name.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm modify-lu" -eq 1' -fka '(__stmfadm_custom_completion ---completion modify-lu -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm modify-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm import-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm import-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm import-lu" -eq 1' -F
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm import-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-lu" k keep-views' -s 'k' -l 'keep-views' -d 'Keep the logical units\' view entries.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm delete-lu" -ge 1' -fka '(__stmfadm_custom_completion ---completion delete-lu -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-lu" v verbose' -s 'v' -l 'verbose' -d 'Verbose: every property.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm list-lu" -ge 1' -fka '(__stmfadm_custom_completion ---completion list-lu -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm online-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm online-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm online-lu" -eq 1' -fka '(__stmfadm_custom_completion ---completion online-lu -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm online-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm offline-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm offline-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm offline-lu" -eq 1' -fka '(__stmfadm_custom_completion ---completion offline-lu -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm offline-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-hg" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-hg" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-hg" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-hg" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-hg" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm delete-hg" -eq 1' -fka '(__stmfadm_custom_completion ---completion delete-hg -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-hg" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-hg-member" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-hg-member" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-hg-member" g group-name' -s 'g' -l 'group-name' -d 'Host group.' -rfka '(__stmfadm_custom_completion ---completion add-hg-member -- --group-name (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm add-hg-member" -ge 1' -fka '(__stmfadm_custom_completion ---completion add-hg-member -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-hg-member" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-hg-member" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-hg-member" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-hg-member" g group-name' -s 'g' -l 'group-name' -d 'Host group.' -rfka '(__stmfadm_custom_completion ---completion remove-hg-member -- --group-name (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm remove-hg-member" -ge 1' -fka '(__stmfadm_custom_completion ---completion remove-hg-member -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-hg-member" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-hg" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-hg" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-hg" v verbose' -s 'v' -l 'verbose' -d 'Verbose: list members.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm list-hg" -ge 1' -fka '(__stmfadm_custom_completion ---completion list-hg -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-hg" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-tg" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-tg" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm create-tg" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-tg" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-tg" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm delete-tg" -eq 1' -fka '(__stmfadm_custom_completion ---completion delete-tg -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm delete-tg" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-tg-member" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-tg-member" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-tg-member" g group-name' -s 'g' -l 'group-name' -d 'Target group.' -rfka '(__stmfadm_custom_completion ---completion add-tg-member -- --group-name (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm add-tg-member" -ge 1' -fka '(__stmfadm_custom_completion ---completion add-tg-member -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-tg-member" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-tg-member" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-tg-member" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-tg-member" g group-name' -s 'g' -l 'group-name' -d 'Target group.' -rfka '(__stmfadm_custom_completion ---completion remove-tg-member -- --group-name (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm remove-tg-member" -ge 1' -fka '(__stmfadm_custom_completion ---completion remove-tg-member -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-tg-member" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-tg" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-tg" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-tg" v verbose' -s 'v' -l 'verbose' -d 'Verbose: list members.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm list-tg" -ge 1' -fka '(__stmfadm_custom_completion ---completion list-tg -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-tg" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-view" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-view" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-view" lun n' -s 'n' -l 'lun' -d 'Logical unit number (0-16383); default: the lowest free.' -rfka ''
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-view" t target-group' -s 't' -l 'target-group' -d 'Target group (default: all targets).' -rfka '(__stmfadm_custom_completion ---completion add-view -- --target-group (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-view" h host-group' -s 'h' -l 'host-group' -d 'Host group (default: all hosts).' -rfka '(__stmfadm_custom_completion ---completion add-view -- --host-group (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm add-view" -eq 1' -fka '(__stmfadm_custom_completion ---completion add-view -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm add-view" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-view" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-view" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-view" l lu-name' -s 'l' -l 'lu-name' -d 'Logical unit GUID.' -rfka '(__stmfadm_custom_completion ---completion remove-view -- --lu-name (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-view" a all' -s 'a' -l 'all' -d 'Remove all view entries of the logical unit.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm remove-view" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-view" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-view" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-view" l lu-name' -s 'l' -l 'lu-name' -d 'Logical unit GUID.' -rfka '(__stmfadm_custom_completion ---completion list-view -- --lu-name (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-view" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-target" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-target" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-target" v verbose' -s 'v' -l 'verbose' -d 'Verbose: status and sessions.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm list-target" -ge 1' -fka '(__stmfadm_custom_completion ---completion list-target -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-target" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm online-target" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm online-target" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm online-target" -eq 1' -fka '(__stmfadm_custom_completion ---completion online-target -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm online-target" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm offline-target" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm offline-target" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm offline-target" -eq 1' -fka '(__stmfadm_custom_completion ---completion offline-target -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm offline-target" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-state" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-state" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-state" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm export" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm export" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm export" -eq 1' -F
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm export" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm import" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm import" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm import" replace' -l 'replace' -d 'Replace the current configuration (otherwise the service must be empty).'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm import" -eq 1' -F
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm import" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-backups" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-backups" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-backups" v verbose' -s 'v' -l 'verbose' -d 'Verbose: size, checksum and what the configuration holds.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm list-backups" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm restore" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__stmfadm_complete_directories)'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm restore" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_positional "stmfadm restore" -eq 1' -fka '(__stmfadm_custom_completion ---completion restore -- positional@0 (count (__stmfadm_tokens -pc)) (__stmfadm_tokens -tC))'
complete -c 'stmfadm' -n '__stmfadm_should_offer_completions_for_flags_or_options "stmfadm restore" h help' -s 'h' -l 'help' -d 'Show help information.'
