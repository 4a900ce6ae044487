// FCTarget module
