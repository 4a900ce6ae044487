import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzOne(_ p: UnsafePointer<UInt8>?, _ n: Int) -> CInt {
    fuzzTCMURing(UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n)); return 0
}
