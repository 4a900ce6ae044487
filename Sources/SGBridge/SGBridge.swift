// SGBridge module
