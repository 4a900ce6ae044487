import STMFCommands
Sbdadm.main()
