// FCLink module
