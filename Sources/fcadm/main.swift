import STMFCommands
Fcadm.main()
