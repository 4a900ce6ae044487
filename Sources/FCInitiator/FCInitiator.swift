// FCInitiator module
