import Foundation

/// What `CloseWork.classify` asks of a ledger: which rows earlier closes applied or rejected,
/// and which purchases they recorded. The close answers from the SQLite ledger; a what-if
/// replay answers from `EmptyLedgerLookup`, so the whole history classifies as a first close.
protocol LedgerLookup {
    /// Content hashes of applied ids of one kind, for the ids asked about, keyed by the ids'
    /// bytes as the specification compares ids.
    func appliedHashes(kind: String, ids: [String]) throws -> [UTF8Key: Int64]
    /// Every applied usage id and its content hash, as packed blocks (`UsageBlock`) handed
    /// over a batch at a time.
    func forEachAppliedUsageBatch(_ body: ([Data]) throws -> Void) throws
    /// The engine's earlier verdicts on ids of one kind, for the ids asked about.
    func engineRejections(kind: String, ids: [String]) throws -> [UTF8Key: (hash: Int64, reason: String)]
    /// purchase id → (org, invoice number) for purchases applied by earlier runs.
    func purchases() throws -> [String: (orgId: String, invoiceNumber: String?)]
}

// The ledger already answers these questions with exactly these signatures.
extension Ledger: LedgerLookup {}

/// A ledger that has seen nothing: no row applied, no row rejected, no purchase recorded.
struct EmptyLedgerLookup: LedgerLookup {
    func appliedHashes(kind: String, ids: [String]) -> [UTF8Key: Int64] { [:] }
    func forEachAppliedUsageBatch(_ body: ([Data]) throws -> Void) {}
    func engineRejections(kind: String, ids: [String]) -> [UTF8Key: (hash: Int64, reason: String)] { [:] }
    func purchases() -> [String: (orgId: String, invoiceNumber: String?)] { [:] }
}
