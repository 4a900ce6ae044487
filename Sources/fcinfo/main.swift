import STMFCommands
Fcinfo.main()
