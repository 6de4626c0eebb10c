import Invoicing

/// How a close was asked for.
public struct CloseOptions: Sendable {
    public var through: CivilDate
    public var inputFolder: String
    public var outputFolder: String
    public var ledgerPath: String
    public var strict: Bool
    public var schemasFolder: String?
    /// Called at each phase boundary with the phase's name: progress for a terminal, and the
    /// place where crash tests stop a close. A throw aborts the close there.
    public var onPhase: (@Sendable (String) throws -> Void)?
    /// Writes one staged output file; nil writes it to disk. Tests put a failing writer here to
    /// stand for a full disk or an I/O error.
    public var fileWriter: (@Sendable (String, [UInt8]) throws -> Void)?
    /// Called after each output file with (written, total): the terminal's progress bar.
    public var onFile: (@Sendable (_ written: Int, _ total: Int) -> Void)?

    public init(
        through: CivilDate, inputFolder: String, outputFolder: String, ledgerPath: String? = nil,
        strict: Bool = false, schemasFolder: String? = nil
    ) {
        self.through = through
        self.inputFolder = inputFolder
        self.outputFolder = outputFolder
        self.ledgerPath = ledgerPath ?? outputFolder + "/ledger.sqlite"
        self.strict = strict
        self.schemasFolder = schemasFolder
    }
}

/// Why a close failed; each maps to an exit status of §10.
public enum CloseError: Error, CustomStringConvertible {
    case input(InputError)
    case strictRejected([RejectedRow])
    case locked(String)
    case ledger(String)
    case output(String)
    case invalidDocument(String)
    /// Stopped by `CloseOptions.onPhase` (tests, or a cancelled run).
    case interrupted(String)

    public var exitCode: Int32 {
        switch self {
        case .input, .invalidDocument: 2
        case .strictRejected: 3
        case .locked, .ledger: 4
        case .output, .interrupted: 5
        }
    }

    public var description: String {
        switch self {
        case .input(let error): error.description
        case .strictRejected(let rows):
            "--strict: \(rows.count) rows were rejected, nothing was committed; first: "
                + (rows.first.map { "\($0.sourceFile):\($0.lineNumber) \($0.rejection.text)" } ?? "")
        case .locked(let message), .ledger(let message), .output(let message), .invalidDocument(let message):
            message
        case .interrupted(let phase): "interrupted at \(phase)"
        }
    }
}

/// What a close did, for the terminal summary.
public struct CloseSummary: Sendable {
    public var through: CivilDate
    public var appliedNothing: Bool
    public var ledgerHorizon: Instant?
    public var report: RunReport?
    public var rejectedCount: Int
    public var outputFolder: String
    public var message: String
    /// The close's totals as rendered from the ledger; nil when nothing was rendered.
    public var totals: CloseTotals? = nil
}

/// The month-end close of §7: read, classify against the ledger, run the engine per org,
/// number the documents, commit in one transaction, then render every file from the ledger.
public enum ClosePipeline {
    static func phase(_ name: String, _ options: CloseOptions) throws(CloseError) {
        do {
            try options.onPhase?(name)
        } catch {
            throw .interrupted(name)
        }
    }

    public static func close(_ options: CloseOptions) throws(CloseError) -> CloseSummary {
        guard makeFolder(options.outputFolder) else {
            throw .output("cannot create the output folder \(options.outputFolder)")
        }
        let lock: LedgerLock
        do {
            lock = try LedgerLock(ledgerPath: options.ledgerPath)
        } catch {
            switch error {
            case .busy:
                throw .locked("the ledger \(options.ledgerPath) is in use by another run; nothing was done")
            case .cannotOpen(let reason):
                throw .ledger("the ledger \(options.ledgerPath) cannot be created or locked: \(reason)")
            }
        }
        defer { withExtendedLifetime(lock) {} }
        try phase("locked", options)
        // The input files are hashed for the chain from here, on the core the reading of
        // plans.yaml and orgs.csv leaves idle; a close that commits nothing stops it.
        let inputHashing = InputHashing(
            folder: options.inputFolder, files: InputReader.filesToRead(folder: options.inputFolder))
        defer { inputHashing.stop() }

        // Whole-file problems stop the run before the ledger or any output is touched.
        let catalog: Catalog
        let fileOrgs: [OrgProfile]
        let orgRejected: [RejectedRow]
        let orgCounts: RowCounts
        let orgLines: [String: Int]
        do throws(InputError) {
            catalog = try CatalogReader.read(path: options.inputFolder + "/plans.yaml")
            (fileOrgs, orgLines, orgRejected, orgCounts) = try InputReader.readOrgRows(
                folder: options.inputFolder, catalog: catalog)
        } catch {
            throw .input(error)
        }
        let ledger: Ledger
        let previousHorizon: Instant?
        do {
            ledger = try Ledger(path: options.ledgerPath)
            previousHorizon = try ledger.horizon()
        } catch {
            throw .ledger("the ledger \(options.ledgerPath) cannot be opened: \(error); nothing was committed")
        }
        let horizon = Instant(date: options.through.addingDays(1))
        if let previousHorizon, horizon <= previousHorizon {
            inputHashing.stop()
            return try rerender(options, ledger: ledger, horizon: previousHorizon)
        }
        // Only a close that applies something needs the orgs' states (a rerun does not).
        let storedOrgs: [Ledger.StoredOrg]
        do {
            storedOrgs = try ledger.orgs()
        } catch {
            throw .ledger("the ledger \(options.ledgerPath) cannot be opened: \(error); nothing was committed")
        }
        try phase("read", options)

        // Orgs: the ledger keeps each org's start and first plan as first seen.
        var rejected = orgRejected
        var counts = orgCounts
        var profiles: [String: OrgProfile] = [:]
        profiles.reserveCapacity(storedOrgs.count + fileOrgs.count)
        var states: [String: OrgState] = [:]
        states.reserveCapacity(storedOrgs.count)
        for stored in storedOrgs {
            profiles[stored.profile.id.rawValue] = stored.profile
            if let state = stored.state { states[stored.profile.id.rawValue] = state }
        }
        for profile in fileOrgs {
            let key = profile.id.rawValue
            if let known = profiles[key] {
                if known.startDate != profile.startDate || known.firstPlanId != profile.firstPlanId {
                    rejected.append(
                        RejectedRow(
                            sourceFile: "orgs.csv", lineNumber: orgLines[key] ?? 0,
                            rejection: Rejection(
                                .orgChanged,
                                "org \(key) started on \(known.startDate) with plan \(known.firstPlanId); "
                                    + "start_date and plan_id cannot change (use plan_changes.csv)"),
                            raw: key))
                    counts.rejected += 1
                    continue
                }
            } else if let previousHorizon, profile.startInstant < previousHorizon {
                rejected.append(
                    RejectedRow(
                        sourceFile: "orgs.csv", lineNumber: orgLines[key] ?? 0,
                        rejection: Rejection(
                            .orgStartsInClosedPeriod,
                            "new org \(key) starts on \(profile.startDate), before the ledger's horizon \(previousHorizon)"
                        ),
                        raw: key))
                counts.rejected += 1
                continue
            }
            profiles[key] = profile
            counts.applied += 1
        }
        // The keys are the ids, so sorting them gives the profiles' order without moving
        // profiles (ten thousand of them, twice per comparison).
        let directory = OrgDirectory(profiles: profiles.keys.sorted(by: utf8Less).map { profiles[$0]! })

        var input = InputFolder(catalog: catalog)
        _ = input.addFile("orgs.csv")
        input.counts[0] = counts
        input.rejected = rejected
        // The reader's table of usage ids, for a close after an earlier one (`EarlierUsage`).
        // It is handed to the classification with `consume`: a local binding keeps its value
        // to the end of its scope, and this one held the table (256 MB at 20 M rows) through
        // the engine and the commit, where a close's memory peaks.
        let usageIds: ByteTable?
        do throws(InputError) {
            usageIds = try InputReader.readEvents(
                folder: options.inputFolder, catalog: catalog, orgs: directory, into: &input,
                keepingUsageIds: previousHorizon != nil)
        } catch {
            throw .input(error)
        }
        try phase("parsed", options)

        var work: CloseWork
        do {
            work = try CloseWork.classify(
                input: input, directory: directory, ledger: ledger, previousHorizon: previousHorizon,
                horizon: horizon, usageIds: consume usageIds)
        } catch {
            throw .ledger("the ledger could not be read: \(error)")
        }
        do throws(EngineConfigurationError) {
            try work.runEngine(directory: directory, states: states, catalog: catalog, input: input, horizon: horizon)
        } catch {
            throw .input(InputError(file: "plans.yaml", error.description))
        }
        try phase("engine", options)

        if options.strict, !work.input.rejected.isEmpty {
            throw .strictRejected(work.input.rejected)
        }
        let appliedUsage = AppliedUsage(
            records: work.input.usage, indices: work.appliedUsage, hasher: work.input.usageHasher,
            hashes: work.usageHashes)
        // Where the ledger's usage id blocks end is found on other threads from here, on the
        // cores that numbering leaves idle, until the commit needs it.
        let usageBlockRanges = Pending.running { Ledger.blockRanges(appliedUsage) }
        defer { _ = usageBlockRanges.read() }
        do {
            try work.number(ledger: ledger, issuer: catalog.issuer)
        } catch {
            throw .ledger("the ledger could not be read: \(error)")
        }
        if let schemas = options.schemasFolder {
            try DocumentValidation.validate(work.documents, schemasFolder: schemas)
        }
        let report = RunReport(
            files: work.input.files, counts: work.input.counts, periodsClosed: work.periods.count,
            documentsIssued: work.documents.count, inputFingerprint: work.fingerprint,
            documentWarnings: documentWarnings(work.documents))
        var commit = Ledger.Commit(
            through: options.through, previousHorizon: previousHorizon, horizon: horizon, report: report,
            orgs: work.storedOrgs, periods: work.periods, documents: work.documents, sequences: work.sequences,
            applied: work.applied, engineRejected: work.engineRejected, purchases: work.purchases,
            rejectedRows: work.input.rejected,
            inputHash: inputHashing.hash(of: ["plans.yaml"] + input.files),
            queue: work.input.queue)
        commit.appliedUsage = appliedUsage
        commit.usageBlockRanges = usageBlockRanges
        // From here the usage rows are the commit's alone: the ledger drops them once their ids
        // are stored, so they are not held while the files are rendered (the close's peak of
        // memory at 20 million rows).
        input = InputFolder(catalog: catalog)
        work.input.usage = UsageRows()
        work.appliedUsage = []
        work.usageHashes = []
        try phase("commit", options)
        // The files are rendered into a staging folder inside the commit's transaction, from the
        // close's own rows: if one cannot be written (a full disk, a read-only folder), the
        // close rolls back and nothing is committed. Only renames are left after the commit.
        // The documents' XML needs nothing from the ledger, so it is written while the ledger
        // rows are, by a thread that runs only on what the commit leaves idle; every
        // core writes what it has not reached once the rows are in.
        let area: StagingArea
        do {
            area = try StagingArea(
                outputFolder: options.outputFolder, through: options.through,
                fileCount: StagingArea.fileCount(work.periods.count, work.documents.count),
                beforeEachFile: { try phase("file", options) }, writeFile: options.fileWriter, onFile: options.onFile)
        } catch {
            throw .output(
                "the output folder \(options.outputFolder) could not be written, nothing was committed: \(error)")
        }
        area.startDocuments(work.documents)
        var staged: OutputWriter.Staged?
        do {
            _ = try ledger.commit(&commit) { runId throws in
                try phase("inside-commit", options)
                // The values being committed are what the ledger will hold, so they are rendered
                // directly; a rerun reads the same values back and writes the same bytes.
                var set = RenderSet(
                    run: Ledger.RunInfo(
                        id: runId, through: options.through, previousHorizon: previousHorizon, horizon: horizon,
                        report: report),
                    periods: work.periods, documents: OutputWriter.byNumber(work.documents),
                    rejected: work.input.rejected,
                    profiles: Dictionary(
                        work.storedOrgs.map { ($0.profile.id.rawValue, $0.profile) },
                        uniquingKeysWith: { first, _ in first }),
                    documentsByOrg: try ledger.documentSummaries(since: work.periods.map(\.periodStart).min()))
                try set.loadReportContext(from: ledger)
                let ready = try stage(set, into: area, catalog: catalog, options: options)
                freeInBackground(consume set)
                try phase("staged", options)
                try ledger.recordRendered(run: runId, files: ready.manifest)
                staged = ready
            }
        } catch let error as CloseError {
            area.remove()
            throw error
        } catch {
            area.remove()
            throw .ledger("the close could not be committed, nothing was changed: \(error)")
        }
        try phase("committed", options)
        // The files are renamed into place on other threads while the ledger's log is copied
        // into its file on this one. (The ledger stays on this thread: a pool released last by
        // another thread would close, and take its file lock, after the close had returned.)
        if let staged {
            let published = inBackground {
                try OutputWriter.publish(staged, beforeEachFile: { try options.onPhase?("publish") })
            }
            ledger.checkpoint()
            if let error = published.wait() {
                throw .output(
                    "the close is committed but its files could not be put in place (rerun to write them): \(error)")
            }
        } else {
            ledger.checkpoint()
        }
        try phase("rendered", options)
        let summary = CloseSummary(
            through: options.through, appliedNothing: false, ledgerHorizon: horizon, report: report,
            rejectedCount: work.input.rejected.count, outputFolder: options.outputFolder,
            message: "closed through \(options.through)", totals: staged?.totals)
        // The close's values (its documents, periods, org states and file list, held by the
        // work and by the commit) are released on another thread: on this one it took 100 ms at
        // 2.3 M rows with the other core idle, after the last file was in place, and the
        // command usually ends with the close. They are swapped out of their variables into
        // the one that is handed over, so that the other thread holds their last references.
        var leftovers = Optional(
            (
                CloseWork(input: InputFolder(catalog: catalog), previousHorizon: nil, horizon: horizon),
                commit.orgs, commit.periods, commit.documents, commit.rejectedRows, commit.queue, staged
            ))
        swap(&leftovers!.0, &work)
        (commit.orgs, commit.periods, commit.documents, commit.rejectedRows, commit.queue) = ([], [], [], [], [:])
        staged = nil
        freeInBackground(taking: &leftovers)
        return summary
    }

    /// The e-invoice rules each document breaks, in document order: checked on every core,
    /// since the close waits for them before its commit.
    static func documentWarnings(_ documents: [Document]) -> [String] {
        do {
            // Handing each document over copies it, which is one reference (`Document` shares
            // its fields), so the documents are read straight from the array.
            return try parallelMap(documents) { document -> [String] in
                let problems = UBLWriter.knownRuleViolations(for: document)
                guard !problems.isEmpty else { return [] }
                return problems.map { "\(document.number): \($0)" }
            }.flatMap { $0 }
        } catch {
            preconditionFailure("checking e-invoice rules throws nothing: \(error)")
        }
    }

    /// Stages the rest of one close's files, mapping every failure to a `CloseError` that says
    /// nothing was committed.
    static func stage(_ set: RenderSet, into area: StagingArea, catalog: Catalog?, options: CloseOptions)
        throws(CloseError) -> OutputWriter.Staged
    {
        do {
            return try OutputWriter.stage(set, into: area, catalog: catalog)
        } catch let error as CloseError {
            throw error
        } catch {
            throw .output(
                "the output folder \(options.outputFolder) could not be written, nothing was committed: \(error)")
        }
    }

    /// A close through a date the ledger has passed applies nothing: it renders that close's
    /// files again, byte for byte, if there was one.
    static func rerender(_ options: CloseOptions, ledger: Ledger, horizon: Instant) throws(CloseError)
        -> CloseSummary
    {
        let closedThrough = horizon.date.addingDays(-1)
        do {
            guard let run = try ledger.run(through: options.through) else {
                return CloseSummary(
                    through: options.through, appliedNothing: true, ledgerHorizon: horizon, report: nil,
                    rejectedCount: 0, outputFolder: options.outputFolder,
                    message:
                        "nothing to do: the ledger is closed through \(closedThrough) and had no close through \(options.through)"
                )
            }
            let catalog = try? CatalogReader.read(path: options.inputFolder + "/plans.yaml")
            let staged = try OutputWriter.render(
                run: run.id, ledger: ledger, outputFolder: options.outputFolder, catalog: catalog,
                beforeEachFile: { try phase("file", options) }, writeFile: options.fileWriter, onFile: options.onFile)
            return CloseSummary(
                through: options.through, appliedNothing: true, ledgerHorizon: horizon, report: run.report,
                rejectedCount: try ledger.rejections(run: run.id).count, outputFolder: options.outputFolder,
                message:
                    "applied nothing: the ledger is closed through \(closedThrough); the files of the close through \(options.through) "
                    + (staged == nil ? "are as written" : "were written again (\(staged!.manifest.count) files)"),
                totals: staged?.totals)
        } catch let error as CloseError {
            throw error
        } catch {
            throw .output("could not render the close through \(options.through): \(error)")
        }
    }
}
