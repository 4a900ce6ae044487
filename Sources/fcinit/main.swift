print("fcinit: not yet")
