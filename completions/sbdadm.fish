function __sbdadm_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __sbdadm_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __sbdadm_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __sbdadm_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __sbdadm_parse_tokens -S
    set -l unparsed_tokens (__sbdadm_tokens -pc)
    switch $unparsed_tokens[1]
    case 'sbdadm'
        __sbdadm_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'create-lu'
            __sbdadm_parse_subcommand 1 'state-dir=' 'json' 's/disk-size=' 'overwrite' 'h/help'
        case 'delete-lu'
            __sbdadm_parse_subcommand 1 'state-dir=' 'json' 'k/keep-views' 'h/help'
        case 'import-lu'
            __sbdadm_parse_subcommand 1 'state-dir=' 'json' 'h/help'
        case 'list-lu'
            __sbdadm_parse_subcommand 0 'state-dir=' 'json' 'h/help'
        case 'modify-lu'
            __sbdadm_parse_subcommand 1 'state-dir=' 'json' 's/disk-size=' 'h/help'
        case 'help'
            __sbdadm_parse_subcommand -r 1 
        end
    end
end

function __sbdadm_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __sbdadm_parse_subcommand -S -a positional_count
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

function __sbdadm_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __sbdadm_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__sbdadm_tokens -p)
    if test -z "$(__sbdadm_tokens -t)"
        set -l index (count (__sbdadm_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'sbdadm' -f
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm" -eq 1' -fa 'create-lu' -d 'Create a logical unit on FILE.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm" -eq 1' -fa 'delete-lu' -d 'Delete a logical unit (its views too, unless -k).'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm" -eq 1' -fa 'import-lu' -d 'Import a logical unit from FILE\'s metadata.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm" -eq 1' -fa 'list-lu' -d 'List all the exported LUs (nothing when there are none).'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm" -eq 1' -fa 'modify-lu' -d 'Grow a logical unit.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm create-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__sbdadm_complete_directories)'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm create-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm create-lu" disk-size s' -s 's' -l 'disk-size' -d 'Size with <none>/k/m/g/t/p/e modifier.' -rfka ''
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm create-lu" overwrite' -l 'overwrite' -d 'Write the LU\'s metadata over a file or device that holds other data (refused without it).'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm create-lu" -eq 1' -F
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm create-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm delete-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__sbdadm_complete_directories)'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm delete-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm delete-lu" k keep-views' -s 'k' -l 'keep-views' -d 'Don\'t delete view entries related to the LU.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm delete-lu" -eq 1' -fka '(__sbdadm_custom_completion ---completion delete-lu -- positional@0 (count (__sbdadm_tokens -pc)) (__sbdadm_tokens -tC))'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm delete-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm import-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__sbdadm_complete_directories)'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm import-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm import-lu" -eq 1' -F
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm import-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm list-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__sbdadm_complete_directories)'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm list-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm list-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm modify-lu" state-dir' -l 'state-dir' -d 'stmfd state directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).' -rfa '(__sbdadm_complete_directories)'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm modify-lu" json' -l 'json' -d 'Print JSON instead of the COMSTAR layout.'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm modify-lu" disk-size s' -s 's' -l 'disk-size' -d 'New size with <none>/k/m/g/t/p/e modifier.' -rfka ''
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_positional "sbdadm modify-lu" -eq 1' -fka '(__sbdadm_custom_completion ---completion modify-lu -- positional@0 (count (__sbdadm_tokens -pc)) (__sbdadm_tokens -tC))'
complete -c 'sbdadm' -n '__sbdadm_should_offer_completions_for_flags_or_options "sbdadm modify-lu" h help' -s 'h' -l 'help' -d 'Show help information.'
