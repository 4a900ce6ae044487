function __fcinfo_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __fcinfo_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __fcinfo_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __fcinfo_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __fcinfo_parse_tokens -S
    set -l unparsed_tokens (__fcinfo_tokens -pc)
    switch $unparsed_tokens[1]
    case 'fcinfo'
        __fcinfo_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'hba-port'
            __fcinfo_parse_subcommand -r 1 'state-dir=' 'json' 'l/linkstat' 't/target' 'i/initiator' 'e/fcoe' 'watch' 'interval=' 'h/help'
        case 'remote-port'
            __fcinfo_parse_subcommand -r 1 'state-dir=' 'json' 'p/port=' 'l/linkstat' 's/scsi-target' 'h/help'
        case 'logical-unit'
            __fcinfo_parse_subcommand -r 1 'state-dir=' 'json' 'v/verbose' 'h/help'
        case 'help'
            __fcinfo_parse_subcommand -r 1 
        end
    end
end

function __fcinfo_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __fcinfo_parse_subcommand -S -a positional_count
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

function __fcinfo_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __fcinfo_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__fcinfo_tokens -p)
    if test -z "$(__fcinfo_tokens -t)"
        set -l index (count (__fcinfo_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'fcinfo' -f
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_positional "fcinfo" -eq 1' -fa 'hba-port' -d 'List FC HBA ports: this machine\'s (read from udev, no daemon needed) and stmfd\'s emulated ports.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_positional "fcinfo" -eq 1' -fa 'remote-port' -d 'List remote ports logged in to a local FC port.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_positional "fcinfo" -eq 1' -fa 'logical-unit' -d 'List logical units seen through this machine\'s FC HBA ports in initiator mode.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_positional "fcinfo" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo hba-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcinfo_complete_directories)'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo hba-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo hba-port" l linkstat' -s 'l' -l 'linkstat' -d 'Link error statistics (read from the HBA now).'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo hba-port" t target' -s 't' -l 'target' -d 'Target mode ports only.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo hba-port" i initiator' -s 'i' -l 'initiator' -d 'Initiator mode ports only.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo hba-port" e fcoe' -s 'e' -l 'fcoe' -d 'FCoE ports only (this machine has none that stmfd drives).'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_positional "fcinfo hba-port" -ge 1' -fka '(__fcinfo_custom_completion ---completion hba-port -- positional@0 (count (__fcinfo_tokens -pc)) (__fcinfo_tokens -tC))'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo hba-port" watch' -l 'watch' -d 'Keep running and print a line for every HBA port added, removed or changed (link up or down, speed, port id).'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo hba-port" interval' -l 'interval' -d 'With --watch: seconds between re-reads of the ports (link changes raise no uevent).' -rfka ''
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo hba-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo remote-port" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcinfo_complete_directories)'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo remote-port" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo remote-port" p port' -s 'p' -l 'port' -d 'Local HBA port WWN.' -rfka '(__fcinfo_custom_completion ---completion remote-port -- --port (count (__fcinfo_tokens -pc)) (__fcinfo_tokens -tC))'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo remote-port" l linkstat' -s 'l' -l 'linkstat' -d 'Link error statistics of each remote port.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo remote-port" s scsi-target' -s 's' -l 'scsi-target' -d 'SCSI target information: the LUNs each remote target port offers.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_positional "fcinfo remote-port" -ge 1' -fka '(__fcinfo_custom_completion ---completion remote-port -- positional@0 (count (__fcinfo_tokens -pc)) (__fcinfo_tokens -tC))'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo remote-port" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo logical-unit" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__fcinfo_complete_directories)'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo logical-unit" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo logical-unit" v verbose' -s 'v' -l 'verbose' -d 'Verbose: paths, vendor, product, device type.'
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_positional "fcinfo logical-unit" -ge 1' -F
complete -c 'fcinfo' -n '__fcinfo_should_offer_completions_for_flags_or_options "fcinfo logical-unit" h help' -s 'h' -l 'help' -d 'Show help information.'
