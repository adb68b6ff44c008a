#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a lock: `Synchronization.Mutex`'s `withLock`, on a `pthread_mutex_t`.
///
/// Why not `Mutex`: on Linux it is a futex driven from the (uninstrumented) standard
/// library, so ThreadSanitizer cannot see it lock and reports every access it guards as a
/// race. A pthread mutex is intercepted by the sanitizer, so `scripts/tsan.sh` reports only
/// real races. Uncontended, both cost one atomic operation.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// The value lives outside the object, so the only accesses to it are the guarded ones
    /// (as a stored `var`, TSan reported Swift access races on the object itself).
    private let storage: UnsafeMutablePointer<Value>

    public init(_ value: Value) {
        storage = .allocate(capacity: 1)
        storage.initialize(to: value)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(mutex, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        storage.deinitialize(count: 1)
        storage.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&storage.pointee)
    }
}
