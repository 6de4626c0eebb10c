#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive, non-blocking lock beside the ledger file, held for a whole close, so a
/// second run fails at once instead of waiting or interleaving.
public final class LedgerLock {
    private let descriptor: Int32

    public init?(ledgerPath: String) {
        let descriptor = open(ledgerPath + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
