print("fcfabric: not yet")
