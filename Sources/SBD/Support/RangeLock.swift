import Locking

/// LBA range exclusion. Ordinary writes hold a shared range; COMPARE AND WRITE holds an
/// exclusive one, so no write to its range interleaves between its compare and its write.
/// The uncontended path takes one mutex and reuses holder slots (no allocation); waiters are
/// queued FIFO and a new request also yields to an earlier overlapping exclusive waiter, so
/// a COMPARE AND WRITE is not starved by a stream of writes.
final class RangeLock: Sendable {
    struct Holder { var lo: UInt64; var hi: UInt64; var exclusive: Bool; var active: Bool }
    struct Waiter { var lo: UInt64; var hi: UInt64; var exclusive: Bool; var cont: UnsafeContinuation<Int, Never> }
    struct State {
        var holders: [Holder] = []
        var waiters: [Waiter] = []

        func conflictsWithHolders(_ lo: UInt64, _ hi: UInt64, _ ex: Bool) -> Bool {
            // Indices, not for-in: an unoptimised build iterates through the generic sequence
            // witness, which allocates; the command path allocates nothing in either build.
            var i = 0
            while i < holders.count {
                let h = holders[i]
                if h.active && h.lo < hi && lo < h.hi && (ex || h.exclusive) { return true }
                i += 1
            }
            return false
        }

        mutating func grant(_ lo: UInt64, _ hi: UInt64, _ ex: Bool) -> Int {
            var i = 0
            while i < holders.count {
                if !holders[i].active { holders[i] = Holder(lo: lo, hi: hi, exclusive: ex, active: true); return i }
                i += 1
            }
            holders.append(Holder(lo: lo, hi: hi, exclusive: ex, active: true))
            return holders.count - 1
        }

        mutating func tryAcquire(_ lo: UInt64, _ hi: UInt64, _ ex: Bool) -> Int? {
            if conflictsWithHolders(lo, hi, ex) { return nil }
            if !waiters.isEmpty {
                for w in waiters where w.lo < hi && lo < w.hi && (ex || w.exclusive) { return nil }
            }
            return grant(lo, hi, ex)
        }
    }

    private let state: Locked<State>

    init() {
        var s = State()
        s.holders.reserveCapacity(64)
        state = Locked(s)
    }

    /// [lba, lba+count) when it is free now, else nil (nothing waits).
    func tryAcquire(lba: UInt64, count: UInt64, exclusive: Bool) -> Int? {
        let hi = lba &+ max(count, 1)
        return state.withLock { $0.tryAcquire(lba, hi, exclusive) }
    }

    /// Waits for [lba, lba+count) and returns a token for `release`.
    func acquire(lba: UInt64, count: UInt64, exclusive: Bool) async -> Int {
        let hi = lba &+ max(count, 1)
        if let t = state.withLock({ $0.tryAcquire(lba, hi, exclusive) }) { return t }
        return await withUnsafeContinuation { (c: UnsafeContinuation<Int, Never>) in
            let t = state.withLock { s -> Int? in
                if let t = s.tryAcquire(lba, hi, exclusive) { return t }
                s.waiters.append(Waiter(lo: lba, hi: hi, exclusive: exclusive, cont: c))
                return nil
            }
            if let t { c.resume(returning: t) }
        }
    }

    func release(_ token: Int) {
        let wake = state.withLock { s -> [(UnsafeContinuation<Int, Never>, Int)] in
            s.holders[token].active = false
            if s.waiters.isEmpty { return [] }
            var out: [(UnsafeContinuation<Int, Never>, Int)] = []
            var i = 0
            while i < s.waiters.count {
                let w = s.waiters[i]
                var blocked = s.conflictsWithHolders(w.lo, w.hi, w.exclusive)
                if !blocked {
                    for j in 0..<i where s.waiters[j].lo < w.hi && w.lo < s.waiters[j].hi && (w.exclusive || s.waiters[j].exclusive) {
                        blocked = true; break
                    }
                }
                if blocked { i += 1; continue }
                out.append((w.cont, s.grant(w.lo, w.hi, w.exclusive)))
                s.waiters.remove(at: i)
            }
            return out
        }
        for (c, t) in wake { c.resume(returning: t) }
    }
}
