#if canImport(Glibc)
import Glibc
#endif
import FuzzTargets

// `fuzz-seeds DIR` writes FuzzSeeds.all() as DIR/<target>/<name> and exits. It is built with
// the fuzz executables (libFuzzer's `main`), so it does its work in libFuzzer's initialisation
// hook, before any fuzzing would start.

func complain(_ s: String) {
    let line = Array((s + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

@_cdecl("LLVMFuzzerTestOneInput") public func fuzzOne(_ p: UnsafePointer<UInt8>?, _ n: Int) -> CInt { 0 }

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let args = (0..<Int(argc.pointee)).map { String(cString: argv.pointee![$0]!) }
    guard args.count == 2 else {
        complain("usage: fuzz-seeds DIR (writes DIR/<target>/<seed>)")
        exit(2)
    }
    var written = 0
    for (target, seeds) in FuzzSeeds.all().sorted(by: { $0.key < $1.key }) {
        let dir = args[1] + "/" + target
        mkdir(dir, 0o755)
        for s in seeds {
            let path = dir + "/" + s.name
            guard let f = fopen(path, "wb") else { complain("fuzz-seeds: cannot write \(path)"); exit(1) }
            _ = s.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
            written += 1
        }
    }
    print("fuzz-seeds: wrote \(written) seeds under \(args[1])")
    exit(0)
}
