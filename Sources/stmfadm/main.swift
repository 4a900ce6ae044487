import STMFCommands
Stmfadm.main()
