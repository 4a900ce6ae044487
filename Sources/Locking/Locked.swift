// One lock type for the whole product, so that a ThreadSanitizer build can see every lock.
//
// The standard library's `Synchronization.Mutex` is the lock everywhere in a normal build: it
// costs nothing beyond a futex word stored in place. On Linux it calls futex(2) directly, and
// ThreadSanitizer, which learns of locks by intercepting pthread and by instrumented atomics,
// sees neither the acquire nor the release: every access to state a Mutex guards is reported as
// a data race. A build with `-Xswiftc -DSTMF_TSAN` (scripts/tsan.sh) therefore makes `Locked` a
// pthread mutex, which ThreadSanitizer intercepts, with the same `withLock` signature.

#if STMF_TSAN
import Glibc

/// A value guarded by a pthread mutex (the ThreadSanitizer build's `Locked`).
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let storage: UnsafeMutablePointer<Value>

    public init(_ initialValue: sending Value) {
        mutex = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        storage = .allocate(capacity: 1)
        storage.initialize(to: initialValue)
    }

    deinit {
        storage.deinitialize(count: 1)
        storage.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value, as `Mutex.withLock` does.
    public func withLock<Result, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&storage.pointee)
    }
}
#else
import Synchronization

/// A value guarded by a lock: `Synchronization.Mutex` (see the top of this file).
public typealias Locked<Value> = Mutex<Value>
#endif
