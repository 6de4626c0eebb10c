#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive, non-blocking lock beside the ledger file, held for a whole close, so a
/// second run fails at once instead of waiting or interleaving.
public final class LedgerLock {
    private let descriptor: Int32

    /// Why the lock could not be taken: another run holds it, or the lock file beside the
    /// ledger cannot be created at all (a missing or read-only folder), which is not "in use".
    public enum Failure: Error {
        case busy
        case cannotOpen(String)
    }

    public init(ledgerPath: String) throws(Failure) {
        let descriptor = open(ledgerPath + ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw .cannotOpen(String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw .busy
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
