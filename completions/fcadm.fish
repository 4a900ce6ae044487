function __fcadm_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __fcadm_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __fcadm_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __fcadm_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __fcadm_parse_tokens -S
    set -l unparsed_tokens (__fcadm_tokens -pc)
    switch $unparsed_tokens[1]
    case 'fcadm'
        __fcadm_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'hba-port'
            __fcadm_parse_subcommand -r 1 'state-dir=' 'json' 'l/linkstat' 't/target' 'i/initiator' 'e/fcoe' 'watch' 'interval=' 'h/help'
        case 'remote-port'
            __fcadm_parse_subcommand -r 1 'state-dir=' 'json' 'p/port=' 'l/linkstat' 's/scsi-target' 'h/help'
        case 'force-lip'
            __fcadm_parse_subcommand 1 'json' 'h/help'
        case 'bind-port'
            __fcadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'unbind-port'
            __fcadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'list-bindings'
            __fcadm_parse_subcommand 0 'state-dir=' 'json' 'h/help'
        case 'create-emulated-port'
            __fcadm_parse_subcommand 0 'state-dir=' 'json' 'p/port=' 'n/node=' 'fabric=' 'h/help'
        case 'delete-emulated-port'
            __fcadm_parse_subcommand 0 'state-dir=' 'json' 'p/port=' 'h/help'
        case 'list-emulated-port'
            __fcadm_parse_subcommand 0 'state-dir=' 'json' 'h/help'
        case 'create-loop-port'
            __fcadm_parse_subcommand 0 'state-dir=' 'json' 'p/port=' 'i/initiator=' 'h/help'
        case 'delete-loop-port'
            __fcadm_parse_subcommand 0 'state-dir=' 'json' 'p/port=' 'h/help'
        case 'list-loop-port'
            __fcadm_parse_subcommand 0 'state-dir=' 'json' 'v/verbose' 'h/help'
        case 'help'
            __fcadm_parse_subcommand -r 1 
        end
    end
end

function __fcadm_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __fcadm_parse_subcommand -S -a positional_count
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

function __fcadm_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __fcadm_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__fcadm_tokens -p)
    if test -z "$(__fcadm_tokens -t)"
        set -l index (count (__fcadm_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'fcadm' -f
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'hba-port' -d 'List FC HBA ports: this machine\'s (read from udev, no daemon needed) and stmfd\'s emulated ports.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'remote-port' -d 'List remote ports logged in to a local FC port.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'force-lip' -d 'Reinitialise the link of an HBA port (a loop initialisation or link reset; logins drop and return).'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'bind-port' -d 'Bind an HBA port to target mode (STMF target wwn.<WWPN>); kept across restarts.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'unbind-port' -d 'Unbind an HBA port from target mode and return it to initiator mode.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'list-bindings' -d 'List the HBA ports bound to target mode.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'create-emulated-port' -d 'Create a persistent emulated FC target port (STMF target wwn.<WWPN>) on an emulated fabric.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'delete-emulated-port' -d 'Delete an emulated FC target port (its sessions end).'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'list-emulated-port' -d 'List emulated FC target ports.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'create-loop-port' -d 'Create a LIO tcm_loop FC target (STMF target wwn.<WWPN>) whose LUs stmfd serves through TCMU.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'delete-loop-port' -d 'Delete a LIO tcm_loop target (its SCSI host and TCMU devices go).'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'list-loop-port' -d 'List LIO tcm_loop targets and the TCMU devices serving their LUs.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm hba-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm hba-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm hba-port" l linkstat' -s 'l' -l 'linkstat' -d 'Link error statistics (read from the HBA now).'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm hba-port" t target' -s 't' -l 'target' -d 'Target mode ports only.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm hba-port" i initiator' -s 'i' -l 'initiator' -d 'Initiator mode ports only.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm hba-port" e fcoe' -s 'e' -l 'fcoe' -d 'FCoE ports only (this machine has none that stmfd drives).'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm hba-port" -ge 1' -fka '(__fcadm_custom_completion ---completion hba-port -- positional@0 (count (__fcadm_tokens -pc)) (__fcadm_tokens -tC))'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm hba-port" watch' -l 'watch' -d 'Keep running and print a line for every HBA port added, removed or changed (link up or down, speed, port id).'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm hba-port" interval' -l 'interval' -d 'With --watch: seconds between re-reads of the ports (link changes raise no uevent).' -rfka ''
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm hba-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm remote-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm remote-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm remote-port" p port' -s 'p' -l 'port' -d 'Local HBA port WWN.' -rfka '(__fcadm_custom_completion ---completion remote-port -- --port (count (__fcadm_tokens -pc)) (__fcadm_tokens -tC))'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm remote-port" l linkstat' -s 'l' -l 'linkstat' -d 'Link error statistics of each remote port.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm remote-port" s scsi-target' -s 's' -l 'scsi-target' -d 'SCSI target information: the LUNs each remote target port offers.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm remote-port" -ge 1' -fka '(__fcadm_custom_completion ---completion remote-port -- positional@0 (count (__fcadm_tokens -pc)) (__fcadm_tokens -tC))'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm remote-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm force-lip" -eq 1' -fka '(__fcadm_custom_completion ---completion force-lip -- positional@0 (count (__fcadm_tokens -pc)) (__fcadm_tokens -tC))'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm force-lip" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm force-lip" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm bind-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm bind-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm bind-port" -eq 1' -fka '(__fcadm_custom_completion ---completion bind-port -- positional@0 (count (__fcadm_tokens -pc)) (__fcadm_tokens -tC))'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm bind-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm unbind-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm unbind-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_positional "fcadm unbind-port" -eq 1' -fka '(__fcadm_custom_completion ---completion unbind-port -- positional@0 (count (__fcadm_tokens -pc)) (__fcadm_tokens -tC))'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm unbind-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-bindings" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-bindings" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-bindings" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-emulated-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-emulated-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-emulated-port" p port' -s 'p' -l 'port' -d 'Port WWN (16 hex digits).' -rfka ''
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-emulated-port" n node' -s 'n' -l 'node' -d 'Node WWN (default: derived from the port WWN).' -rfka ''
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-emulated-port" fabric' -l 'fabric' -d 'The emulated fabric\'s socket (default: $FCFABRIC_SOCKET, $XDG_RUNTIME_DIR/fcfabric.sock).' -rF
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-emulated-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm delete-emulated-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm delete-emulated-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm delete-emulated-port" p port' -s 'p' -l 'port' -d 'Port WWN.' -rfka '(__fcadm_custom_completion ---completion delete-emulated-port -- --port (count (__fcadm_tokens -pc)) (__fcadm_tokens -tC))'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm delete-emulated-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-emulated-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-emulated-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-emulated-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-loop-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-loop-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-loop-port" p port' -s 'p' -l 'port' -d 'Target port WWN (16 hex digits).' -rfka ''
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-loop-port" i initiator' -s 'i' -l 'initiator' -d 'The loopback initiator\'s port WWN.' -rfka ''
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm create-loop-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm delete-loop-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm delete-loop-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm delete-loop-port" p port' -s 'p' -l 'port' -d 'Target port WWN.' -rfka '(__fcadm_custom_completion ---completion delete-loop-port -- --port (count (__fcadm_tokens -pc)) (__fcadm_tokens -tC))'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm delete-loop-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-loop-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcadm_complete_directories)'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-loop-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-loop-port" v verbose' -l 'verbose' -s 'v' -d 'Also list the TCMU devices.'
complete -c 'fcadm' -n '__fcadm_should_offer_completions_for_flags_or_options "fcadm list-loop-port" h help' -s 'h' -l 'help' -d 'Show help information.'
