#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// The blocking file calls of SBD's control paths, each returning 0 or an errno. They run where
/// blocking is allowed: inside `Blocking.run` (the runtime's pool) or at create/import time.
enum BlockingCalls {
    /// Reads all of [offset, offset+count); past the end of the file reads zero.
    static func read(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ count: Int, _ offset: Int64) -> Int32 {
        var done = 0
        while done < count {
            let n = pread(fd, p + done, count - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; return errno }
            if n == 0 { memset(p + done, 0, count - done); break }
            done += n
        }
        return 0
    }

    static func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int, _ offset: Int64) -> Int32 {
        var done = 0
        while done < count {
            let n = pwrite(fd, p + done, count - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; return errno }
            if n == 0 { return EIO }
            done += n
        }
        return 0
    }

    static func datasync(_ fd: Int32) -> Int32 {
        while true {
            let rc = stmf_datasync(fd)
            if rc == -EINTR { continue }
            return -rc
        }
    }

    nonisolated(unsafe) private static let zeroChunk: UnsafeMutableRawPointer = calloc(1, 1 << 20)!

    /// Zeroes a range of a file in place: FALLOC_FL_ZERO_RANGE, else written zeroes.
    static func zeroRange(_ fd: Int32, _ offset: Int64, _ count: Int) -> Int32 {
        if stmf_zero_range(fd, off_t(offset), off_t(count)) == 0 { return 0 }
        var done = 0
        while done < count {
            let n = min(count - done, 1 << 20)
            let e = writeAll(fd, UnsafeRawPointer(zeroChunk), n, offset + Int64(done))
            if e != 0 { return e }
            done += n
        }
        return 0
    }
}
