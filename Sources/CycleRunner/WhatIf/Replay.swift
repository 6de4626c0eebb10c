import Invoicing

/// The open period of one org at the horizon: what the engine has accumulated since the last
/// renewal, so a comparison also covers usage and documents after the last closed period.
public struct OpenPeriod: Sendable, Hashable {
    public var orgId: OrgID
    public var start: CivilDate
    public var end: CivilDate
    /// The plan in effect at the horizon.
    public var planId: PlanID
    public var usageCredits: Int64
    public var overdraft: Int64
}

/// One side of a what-if: the whole history through the horizon, replayed in memory by the
/// close's own classification and engine, with a ledger that has seen nothing.
public struct ReplaySide: Sendable {
    /// Closed periods, sorted by org and period end, exactly as a first close would record them.
    public var periods: [PeriodRecord]
    public var openPeriods: [OpenPeriod]
    /// Every document the history issues, unnumbered and marked as a draft.
    public var documents: [Document]
    public var rejected: [RejectedRow]
}

enum Replay {
    /// Classifies every row as a first close would (nothing applied before, nothing late) and
    /// runs the engine per org. Nothing is numbered and nothing is stored.
    static func run(input: InputFolder, directory: OrgDirectory, catalog: Catalog, horizon: Instant)
        throws(EngineConfigurationError) -> ReplaySide
    {
        var work: CloseWork
        do {
            // A replay writes no ledger, so the usage hashes kept for its id blocks would be
            // held through the engine for nothing.
            work = try CloseWork.classify(
                input: input, directory: directory, ledger: EmptyLedgerLookup(), previousHorizon: nil,
                horizon: horizon, keepingHashesUpTo: 0)
        } catch {
            // The empty lookup answers without I/O, so classification has nothing that can fail.
            preconditionFailure("classification against an empty ledger failed: \(error)")
        }
        try work.runEngine(directory: directory, states: [:], catalog: catalog, input: input, horizon: horizon)
        var documents = work.documents
        for index in documents.indices {
            documents[index].isDraft = true
            documents[index].number = ""
        }
        var open: [OpenPeriod] = []
        for stored in work.storedOrgs {
            guard let state = stored.state, state.started else { continue }
            open.append(
                OpenPeriod(
                    orgId: state.orgId, start: state.renewalDate(state.periodIndex),
                    end: state.renewalDate(state.periodIndex + 1), planId: state.plan,
                    usageCredits: state.period?.usageCredits ?? 0, overdraft: state.period?.overdraft ?? 0))
        }
        return ReplaySide(
            periods: work.periods, openPeriods: open, documents: documents, rejected: work.input.rejected)
    }
}
