import Invoicing

/// How a what-if was asked for.
public struct WhatIfOptions: Sendable {
    public var through: CivilDate
    public var inputFolder: String
    public var outputFolder: String
    public var scenarioPath: String
    /// Called at each phase boundary with its name: progress for a terminal.
    public var onPhase: (@Sendable (String) -> Void)?

    public init(through: CivilDate, inputFolder: String, outputFolder: String, scenarioPath: String) {
        self.through = through
        self.inputFolder = inputFolder
        self.outputFolder = outputFolder
        self.scenarioPath = scenarioPath
    }
}

/// Why a what-if failed; the exit statuses are the close's (§10).
public enum WhatIfError: Error, CustomStringConvertible {
    /// A bad input folder or scenario file: exit 2, nothing written.
    case input(InputError)
    /// The output folder could not be written: exit 5.
    case output(String)

    public var exitCode: Int32 {
        switch self {
        case .input: 2
        case .output: 5
        }
    }

    public var description: String {
        switch self {
        case .input(let error): error.description
        case .output(let message): message
        }
    }
}

/// What a what-if computed: both replays, their comparison, and what the scenario changed.
public struct WhatIfResult: Sendable {
    public var scenario: Scenario
    public var through: CivilDate
    public var baseline: ReplaySide
    public var scenarioSide: ReplaySide
    public var comparison: WhatIfComparison
    /// One sentence per change the scenario made, for the report and the terminal.
    public var changes: [String]
    /// Scenario plan changes the engine refused (e.g. a move to a plan not priced in the org's
    /// currency): they change nothing, and the people asking should know.
    public var warnings: [String]
    /// `<output>/whatif/<scenario name>`, once written.
    public var folder: String
}

/// `whatif` (SPEC §9): the whole history through a date, replayed in memory twice, as the
/// inputs are and with a scenario, by the close's own classification and engine. It never
/// opens the ledger, so it can neither write it nor consume a document number; every
/// document it produces is a draft.
public enum WhatIfPipeline {
    public static func run(_ options: WhatIfOptions) throws(WhatIfError) -> WhatIfResult {
        var result = try compute(options)
        let folder = options.outputFolder + "/whatif/" + result.scenario.name
        result.folder = folder
        guard makeFolder(folder) else { throw .output("cannot create the output folder \(folder)") }
        do {
            try writeFileAtomically(folder + "/comparison.csv", result.comparison.comparisonCSV())
            try writeFileAtomically(folder + "/totals.csv", result.comparison.totalsCSV())
            try writeFileAtomically(folder + "/report.html", WhatIfReport.render(result))
        } catch {
            throw .output("the what-if files could not be written: \(error)")
        }
        options.onPhase?("written")
        return result
    }

    /// Both replays and their comparison, without writing anything.
    public static func compute(_ options: WhatIfOptions) throws(WhatIfError) -> WhatIfResult {
        let horizon = Instant(date: options.through.addingDays(1))
        let catalog: Catalog
        let scenario: Scenario
        let directory: OrgDirectory
        var input: InputFolder
        let applied: AppliedScenario
        do throws(InputError) {
            catalog = try CatalogReader.read(path: options.inputFolder + "/plans.yaml")
            scenario = try ScenarioReader.read(path: options.scenarioPath, catalog: catalog)
            let (orgs, orgRejected, orgCounts) = try InputReader.readOrgs(
                folder: options.inputFolder, catalog: catalog)
            directory = OrgDirectory(profiles: orgs.sorted { $0.id < $1.id })
            input = InputFolder(catalog: catalog)
            _ = input.addFile("orgs.csv")
            input.counts[0] = orgCounts
            input.counts[0].applied = orgs.count
            input.rejected = orgRejected
            // Events are read against the scenario's plans too: plans are only ever added or
            // changed, and a plan change in the file to a plan only the scenario defines is
            // then refused by the baseline's engine and applied by the scenario's.
            var described: [String] = []
            let readingCatalog = try scenario.applyPlans(to: catalog, changes: &described)
            try InputReader.readEvents(
                folder: options.inputFolder, catalog: readingCatalog, orgs: directory, into: &input)
            input.catalog = catalog
            options.onPhase?("read")
            applied = try scenario.apply(catalog: catalog, directory: directory, input: input)
        } catch {
            throw .input(error)
        }

        let baseline: ReplaySide
        do throws(EngineConfigurationError) {
            baseline = try Replay.run(input: input, directory: directory, catalog: catalog, horizon: horizon)
        } catch {
            throw .input(InputError(file: "plans.yaml", error.description))
        }
        options.onPhase?("baseline")
        let scenarioSide: ReplaySide
        do throws(EngineConfigurationError) {
            scenarioSide = try Replay.run(
                input: applied.input, directory: applied.directory, catalog: applied.catalog, horizon: horizon)
        } catch {
            throw .input(InputError(file: scenario.file, "with the scenario, \(error.description)"))
        }
        options.onPhase?("scenario")

        let warnings = scenarioSide.rejected.filter { $0.sourceFile == scenario.file }.map { row in
            "\(row.sourceFile):\(row.lineNumber): plan change \(row.raw) refused: \(row.rejection.text)"
        }
        let comparison = WhatIfComparison.build(
            baseline: baseline, scenario: scenarioSide, directory: applied.directory)
        return WhatIfResult(
            scenario: scenario, through: options.through, baseline: baseline, scenarioSide: scenarioSide,
            comparison: comparison, changes: applied.changes, warnings: warnings, folder: "")
    }
}
