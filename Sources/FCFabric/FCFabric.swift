// FCFabric module
