import Invoicing
import Synchronization

/// The work of one close between reading and committing: which rows apply (and when),
/// which are duplicates, pending or rejected, and what the engine made of them.
struct CloseWork {
    var input: InputFolder
    let previousHorizon: Instant?
    let horizon: Instant
    /// Usage rows to apply, as indices into `input.usage`, by org index. Usage is the bulk of
    /// a close (millions of rows), so its events are made one org at a time, in the engine step.
    var usageByOrg = UsageByOrg()
    /// The other events (plan changes, purchases, refunds) per org index, unsorted.
    var eventsByOrg: [Int32: [OrgEvent]] = [:]
    /// Where each of those came from, parallel to `eventsByOrg`, for accounting and ids.
    var originsByOrg: [Int32: [EventSource]] = [:]
    /// Usage rows the engine applied, as indices into `input.usage`, in increasing order (the
    /// order the rows were read in).
    var appliedUsage: [Int32] = []
    var periods: [PeriodRecord] = []
    var documents: [Document] = []
    var storedOrgs: [Ledger.StoredOrg] = []
    var sequences: [String: Int64] = [:]
    var applied: [(kind: String, id: String, hash: Int64)] = []
    var engineRejected: [(kind: String, id: String, hash: Int64, reason: String)] = []
    var purchases: [(purchaseId: String, orgId: String, invoiceNumber: String?)] = []
    var knownPurchaseInvoices: [String: String] = [:]
    var fingerprint = ""
    /// Every usage row's content hash, by record index, kept from the classification for the
    /// ledger's id blocks when there are at most `keptHashesLimit` rows; otherwise empty.
    var usageHashes: [Int64] = []

    /// Up to this many usage rows (64 MB of hashes), the content hashes the classification
    /// computes are kept for the ledger's id blocks instead of computed again in the commit
    /// (0.15-0.25 s of a 2.3 M-row close's commit). Beyond it they are computed again: at 20 M
    /// rows, 160 MB held through the engine raised the close's peak of memory above 1.5 GB.
    static let keptHashesLimit = 8 * 1024 * 1024

    /// The id and content an applied event is remembered by.
    struct EventSource: Sendable {
        var kind: String
        var id: String
        var hash: Int64
        var origin: RowOrigin
        var raw: String?
    }

    static func classify(
        input: InputFolder, directory: OrgDirectory, ledger: some LedgerLookup, previousHorizon: Instant?,
        horizon: Instant, usageIds: consuming ByteTable? = nil,
        keepingHashesUpTo hashesLimit: Int = CloseWork.keptHashesLimit,
        hashingWindowsOf windowSize: Int = 1 << 18
    ) throws -> CloseWork {
        precondition(windowSize > 0, "hashing windows hold at least one row")
        var work = CloseWork(input: input, previousHorizon: previousHorizon, horizon: horizon)
        var fingerprint = FingerprintBuilder()

        let hasher = input.usageHasher
        // Kept hashes are computed on every core first; beyond the limit, a window of rows at a
        // time (2 MB of hashes), since holding them all is what the limit avoids. Hashed one by
        // one (not four rows at a time) they were a tenth of the engine phase at 20 M rows.
        // The fingerprint folds them in reading order, each row's step waiting for the one
        // before: with the hashes kept, that runs on another thread while the rows are sorted.
        let keepsHashes = input.usage.count <= hashesLimit
        let usageFingerprint: Pending<FingerprintBuilder>
        if keepsHashes {
            work.usageHashes = hasher.hashes(of: input.usage)
            let hashes = work.usageHashes
            usageFingerprint = Pending.running {
                var builder = FingerprintBuilder()
                for hash in hashes { builder.add(hash: hash) }
                return builder
            }
        } else {
            for start in stride(from: 0, to: input.usage.count, by: windowSize) {
                let end = min(start + windowSize, input.usage.count)
                for hash in hasher.hashes(of: input.usage, in: start..<end) { fingerprint.add(hash: hash) }
            }
            usageFingerprint = Pending()
            usageFingerprint.fulfil(fingerprint)
        }
        // Usage: only rows before the previous horizon can have been applied or rejected before.
        // The rows found are compared by the hashes just computed when they are kept: hashed
        // one by one again, they took most of a monthly close's classification.
        let keptHashes = work.usageHashes
        let usage = input.usage
        let earlier = try EarlierUsage.find(
            in: ledger, usage: usage, ids: usageIds, before: previousHorizon,
            hash: { position in keepsHashes ? keptHashes[position] : hasher.hash(usage[position]) })
        // Freed here, before the rows are sorted out, not when classification returns.
        _ = consume usageIds
        let sorted = UsageByOrg.sort(
            input.usage, orgCount: directory.profiles.count, fileCount: input.files.count, horizon: horizon,
            earlier: earlier)
        work.usageByOrg = sorted.byOrg
        for file in input.files.indices {
            work.input.counts[file].pending += sorted.pendingPerFile[file]
            work.input.counts[file].duplicates += sorted.duplicatesPerFile[file]
        }
        for position in sorted.conflicts {
            let record = input.usage[position]
            work.rejectRow(
                record.origin,
                Rejection(.conflictingDuplicate, "event \(record.eventId) was applied earlier with other content"),
                raw: usageRaw(record, orgId: directory.profiles[Int(record.orgIndex)].id, input: input))
        }
        fingerprint = usageFingerprint.wait()

        // Plan changes carry no id: what they say is their identity.
        let appliedChanges = try ledger.appliedHashes(kind: "plan_change", ids: input.planChanges.map(\.key))
        for record in input.planChanges {
            fingerprint.add(record.raw)
            let fileIndex = Int(record.origin.fileIndex)
            if record.instant >= horizon {
                work.input.counts[fileIndex].pending += 1
            } else if appliedChanges[UTF8Key(record.key)] != nil {
                work.input.counts[fileIndex].duplicates += 1
            } else if let previousHorizon, record.instant < previousHorizon {
                work.rejectRow(
                    record.origin,
                    Rejection(
                        .closedPeriod,
                        "plan change at \(record.instant) is before the ledger's horizon \(previousHorizon)"),
                    raw: record.raw)
            } else {
                let event = OrgEvent(
                    kind: .planChange, instant: record.instant, originalInstant: record.instant, id: "",
                    sequence: record.sequence, late: false, payload: .planChange(record.planId))
                work.add(
                    event, org: record.orgIndex,
                    EventSource(
                        kind: "plan_change", id: record.key, hash: stableHash(record.key), origin: record.origin,
                        raw: record.raw))
            }
        }

        // Purchases, and the engine's earlier verdicts on them.
        let storedPurchases = try ledger.purchases()
        for (purchaseId, stored) in storedPurchases {
            if let number = stored.invoiceNumber { work.knownPurchaseInvoices[purchaseId] = number }
        }
        let purchaseIds = input.topUps.map(\.purchaseId.rawValue)
        let appliedPurchases = try ledger.appliedHashes(kind: "top_up", ids: purchaseIds)
        let rejectedPurchases = try ledger.engineRejections(kind: "top_up", ids: purchaseIds)
        var purchaseOrg: [String: Int32] = [:]
        for (purchaseId, stored) in storedPurchases {
            if let index = directory.indexById[stored.orgId] { purchaseOrg[purchaseId] = index }
        }
        for record in input.topUps {
            let key = "\(directory.profiles[Int(record.orgIndex)].id)|\(record.instant.microseconds)|\(record.packId)"
            let hash = stableHash(key)
            fingerprint.add(record.raw)
            let fileIndex = Int(record.origin.fileIndex)
            let id = record.purchaseId.rawValue
            if purchaseOrg[id] == nil { purchaseOrg[id] = record.orgIndex }
            if record.instant >= horizon {
                work.input.counts[fileIndex].pending += 1
            } else if let stored = appliedPurchases[UTF8Key(id)] {
                if stored == hash {
                    work.input.counts[fileIndex].duplicates += 1
                } else {
                    work.rejectRow(
                        record.origin,
                        Rejection(.conflictingDuplicate, "purchase \(id) was applied earlier with other content"),
                        raw: record.raw)
                }
            } else if let earlier = rejectedPurchases[UTF8Key(id)] {
                work.rejectRow(
                    record.origin, Rejection(.rejectedEarlier, "rejected by an earlier close: \(earlier.reason)"),
                    raw: record.raw)
            } else {
                let late = previousHorizon.map { record.instant < $0 } ?? false
                let event = OrgEvent(
                    kind: .topUpPurchase, instant: late ? previousHorizon! : record.instant,
                    originalInstant: record.instant, id: id, sequence: record.origin.lineNumber, late: late,
                    payload: .topUp(record.purchaseId, record.packId))
                work.add(
                    event, org: record.orgIndex,
                    EventSource(kind: "top_up", id: id, hash: hash, origin: record.origin, raw: record.raw))
            }
        }

        let refundIds = input.refunds.map(\.refundId)
        let appliedRefunds = try ledger.appliedHashes(kind: "refund", ids: refundIds)
        let rejectedRefunds = try ledger.engineRejections(kind: "refund", ids: refundIds)
        for record in input.refunds {
            let key = "\(record.purchaseId)|\(record.instant.microseconds)"
            let hash = stableHash(key)
            fingerprint.add(record.raw)
            let fileIndex = Int(record.origin.fileIndex)
            guard let orgIndex = purchaseOrg[record.purchaseId.rawValue] else {
                work.rejectRow(
                    record.origin, Rejection(.unknownPurchase, "purchase \(record.purchaseId) is not known"),
                    raw: record.raw)
                continue
            }
            if record.instant >= horizon {
                work.input.counts[fileIndex].pending += 1
            } else if let stored = appliedRefunds[UTF8Key(record.refundId)] {
                if stored == hash {
                    work.input.counts[fileIndex].duplicates += 1
                } else {
                    work.rejectRow(
                        record.origin,
                        Rejection(
                            .conflictingDuplicate, "refund \(record.refundId) was applied earlier with other content"),
                        raw: record.raw)
                }
            } else if let earlier = rejectedRefunds[UTF8Key(record.refundId)] {
                work.rejectRow(
                    record.origin, Rejection(.rejectedEarlier, "rejected by an earlier close: \(earlier.reason)"),
                    raw: record.raw)
            } else if let previousHorizon, record.instant < previousHorizon {
                work.rejectRow(
                    record.origin,
                    Rejection(
                        .closedPeriod, "refund at \(record.instant) is before the ledger's horizon \(previousHorizon)"),
                    raw: record.raw)
            } else {
                let event = OrgEvent(
                    kind: .refund, instant: record.instant, originalInstant: record.instant, id: record.refundId,
                    sequence: record.origin.lineNumber, late: false,
                    payload: .refund(refundId: record.refundId, purchaseId: record.purchaseId))
                work.add(
                    event, org: orgIndex,
                    EventSource(kind: "refund", id: record.refundId, hash: hash, origin: record.origin, raw: record.raw)
                )
            }
        }
        work.fingerprint = fingerprint.hex
        return work
    }

    /// A usage row rebuilt from its parsed fields, for rejected.csv: the reader keeps no raw
    /// text of millions of rows.
    static func usageRaw(_ record: UsageRecord, orgId: OrgID, input: InputFolder) -> String {
        [
            record.eventId, orgId.rawValue, record.instant.description,
            input.users[Int(record.userIndex)], input.catalog.actions[Int(record.actionIndex)].id.rawValue,
            String(record.credits),
        ].joined(separator: ",")
    }

    mutating func add(_ event: OrgEvent, org: Int32, _ source: EventSource) {
        eventsByOrg[org, default: []].append(event)
        originsByOrg[org, default: []].append(source)
    }

    mutating func rejectRow(_ origin: RowOrigin, _ rejection: Rejection, raw: String) {
        input.reject(origin.fileIndex, Int(origin.lineNumber), rejection, raw)
    }

    /// What one org's engine run leaves for the close, reduced inside the worker so that no
    /// per-event outcome of millions of usage rows is kept.
    struct OrgResult: Sendable {
        var run: OrgRun
        var appliedUsage: [Int32] = []
        var appliedOther: [EventSource] = []
        var rejected: [(origin: RowOrigin, rejection: Rejection, raw: String, source: EventSource?)] = []
        /// Rows applied per file index, for the files with any.
        var appliedPerFile: [(file: Int32, count: Int)] = []
    }

    /// Runs the engine for every org on every core, then gathers what it produced in org order,
    /// so the result does not depend on how the orgs were shared out.
    mutating func runEngine(
        directory: OrgDirectory, states: [String: OrgState], catalog: Catalog, input: InputFolder, horizon: Instant
    ) throws(EngineConfigurationError) {
        let usageByOrg = usageByOrg
        let eventsByOrg = eventsByOrg
        let originsByOrg = originsByOrg
        let previousHorizon = previousHorizon
        // The results stay in their slots until gathered: each is moved out there, in org
        // order (an array of them was reversed to be popped, and every swap copied two results,
        // retaining each reference in their periods and documents, on one core).
        let results = ResultSlots<OrgResult>(count: directory.profiles.count)
        // Each org's counts of periods and documents, by org index: where its rows go below.
        var produced = [(periods: Int, documents: Int)](repeating: (0, 0), count: directory.profiles.count)
        let appliedCount = Atomic<Int>(0)
        try produced.withUnsafeMutableBufferPointer { counts throws(EngineConfigurationError) in
            let counts = SharedBuffer(buffer: counts)
            try inParallel(directory.profiles.count) { (index) throws(EngineConfigurationError) in
                let result = try CloseWork.runOrg(
                    index, profile: directory.profiles[index], state: states[directory.profiles[index].id.rawValue],
                    usage: usageByOrg[index], others: eventsByOrg[Int32(index)] ?? [],
                    otherSources: originsByOrg[Int32(index)] ?? [], previousHorizon: previousHorizon,
                    catalog: catalog, input: input, horizon: horizon)
                counts.buffer[index] = (result.run.periods.count, result.run.documents.count)
                appliedCount.add(result.appliedUsage.count, ordering: .relaxed)
                results.set(index, result)
            }
        }
        self.usageByOrg = UsageByOrg()
        precondition(periods.isEmpty && documents.isEmpty && storedOrgs.isEmpty, "the engine runs once per close")
        let periodStarts = CloseWork.starts(produced.map(\.periods))
        let documentStarts = CloseWork.starts(produced.map(\.documents))
        let periodCount = produced.reduce(0) { $0 + $1.periods }
        let documentCount = produced.reduce(0) { $0 + $1.documents }
        // The periods and documents are moved into place, and the org states copied, on every
        // core, each org's at its offset, and each org's result is freed where it was taken
        // apart: on one core, the copies (retaining every reference in them) and the frees took
        // 50 ms at 2.3 M rows with the other cores idle. What is left of a result is gathered
        // below in org order.
        let rest = ResultSlots<OrgResult>(count: directory.profiles.count)
        // The applied rows are marked here, a byte per row, each org's by the core that takes
        // its result apart (an org's rows are its own, so no two cores write one byte), and
        // listed in reading order below: the ledger reads each one's id and hash to store them,
        // and in org order that was a walk through memory at random (a cache miss per row,
        // about 0.3 s of CPU at 2.3 million rows). Marked on the close's thread, in a bitset,
        // they took 20 to 40 ms at 2.3 M rows with the other core idle.
        var appliedFlags = [UInt8](repeating: 0, count: input.usage.count)
        var gatheredDocuments: [Document] = []
        var gatheredOrgs: [Ledger.StoredOrg] = []
        appliedFlags.withUnsafeMutableBufferPointer { flagBuffer in
            let flags = SharedBuffer(buffer: flagBuffer)
            periods = [PeriodRecord](unsafeUninitializedCapacity: periodCount) { periodBuffer, periodsWritten in
                gatheredDocuments = [Document](unsafeUninitializedCapacity: documentCount) {
                    documentBuffer, documentsWritten in
                    gatheredOrgs = [Ledger.StoredOrg](unsafeUninitializedCapacity: directory.profiles.count) {
                        orgBuffer, orgsWritten in
                        let periodTarget = SharedBuffer(buffer: periodBuffer)
                        let documentTarget = SharedBuffer(buffer: documentBuffer)
                        let orgTarget = SharedBuffer(buffer: orgBuffer)
                        inParallel(directory.profiles.count) { index in
                            var result = results.take(index)
                            periodTarget.initialize(at: periodStarts[index], movingFrom: &result.run.periods)
                            documentTarget.initialize(
                                at: documentStarts[index], movingFrom: &result.run.documents)
                            (orgTarget.buffer.baseAddress! + index).initialize(
                                to: Ledger.StoredOrg(profile: directory.profiles[index], state: result.run.state))
                            result.run = OrgRun(state: result.run.state)
                            for row in result.appliedUsage { flags.buffer[Int(row)] = 1 }
                            // Each org's result is taken apart as it is gathered, so its applied
                            // row indices are not held beside the list of them made below.
                            result.appliedUsage = []
                            rest.set(index, result)
                        }
                        orgsWritten = directory.profiles.count
                    }
                    documentsWritten = documentCount
                }
                periodsWritten = periodCount
            }
        }
        documents = gatheredDocuments
        storedOrgs = gatheredOrgs
        for index in directory.profiles.indices {
            let profile = directory.profiles[index]
            let result = rest.take(index)
            for (file, count) in result.appliedPerFile { self.input.counts[Int(file)].applied += count }
            for source in result.appliedOther {
                applied.append((source.kind, source.id, source.hash))
                if source.kind == "top_up" { purchases.append((source.id, profile.id.rawValue, nil)) }
            }
            for rejected in result.rejected {
                rejectRow(rejected.origin, rejected.rejection, raw: rejected.raw)
                // Plan changes are judged again each close; ids the engine refused stay refused.
                if let source = rejected.source, source.kind != "plan_change" {
                    engineRejected.append((source.kind, source.id, source.hash, rejected.rejection.text))
                }
            }
        }
        appliedUsage = CloseWork.markedPositions(appliedFlags, expectedCount: appliedCount.load(ordering: .relaxed))
        // Orgs are gathered in id order and an org's periods in date order, so this is a check
        // that nearly always finds them sorted; sorting moved every record, twice per comparison.
        let inOrder = periods.indices.dropFirst().allSatisfy {
            (periods[$0 - 1].orgId, periods[$0 - 1].periodEnd) < (periods[$0].orgId, periods[$0].periodEnd)
        }
        if !inOrder { periods.sort { ($0.orgId, $0.periodEnd) < ($1.orgId, $1.periodEnd) } }
    }

    /// Where each of a list of runs starts when they are laid end to end, given their lengths.
    static func starts(_ lengths: [Int]) -> [Int] {
        var starts: [Int] = []
        starts.reserveCapacity(lengths.count)
        var total = 0
        for length in lengths {
            starts.append(total)
            total += length
        }
        return starts
    }

    /// The positions of the nonzero bytes of `flags`, in increasing order, found on every core:
    /// the flags are cut into pieces of `pieceSize` (tests pass others), each piece's marks are
    /// counted, and each piece then writes its positions from where the pieces before it end.
    /// Pieces of 4,096 rows, since `inParallel` starts a second worker only for 64 items or
    /// more (pieces of 65,536 were 36 at 2.3 M rows, all on one core). Each row is applied at
    /// most once, so a count other than `expectedCount` is a bug.
    static func markedPositions(_ flags: [UInt8], expectedCount: Int, pieceSize: Int = 1 << 12) -> [Int32] {
        let pieceCount = (flags.count + pieceSize - 1) / pieceSize
        @Sendable func pieceRange(_ piece: Int) -> Range<Int> {
            piece * pieceSize..<min(flags.count, (piece + 1) * pieceSize)
        }
        let counted = ResultSlots<Int>(count: pieceCount)
        inParallel(pieceCount) { piece in
            let count = flags.withUnsafeBufferPointer { flags in
                pieceRange(piece).reduce(0) { $0 + (flags[$1] != 0 ? 1 : 0) }
            }
            counted.set(piece, count)
        }
        let counts = counted.takeValues()
        let pieceStarts = CloseWork.starts(counts)
        let total = counts.reduce(0, +)
        precondition(total == expectedCount, "a usage row was applied twice")
        // An empty array is the shared empty storage, whose count the initializer would write
        // (ThreadSanitizer reports that write beside any other thread's read of an empty array).
        guard total > 0 else { return [] }
        return [Int32](unsafeUninitializedCapacity: total) { positions, written in
            let target = SharedBuffer(buffer: positions)
            inParallel(pieceCount) { piece in
                flags.withUnsafeBufferPointer { flags in
                    var place = pieceStarts[piece]
                    for position in pieceRange(piece) where flags[position] != 0 {
                        (target.buffer.baseAddress! + place).initialize(to: Int32(position))
                        place += 1
                    }
                }
            }
            written = total
        }
    }

    /// The positions of `events` in the order of §6.2, as a stable sort by instant and then
    /// `OrgEvent.precedes` gives them. Instants decide almost every comparison, so pairs of
    /// (instant, position), sixteen bytes each, are sorted first (an org's thousands of events
    /// were sorted by reading each from its hundred-byte event, most of the engine's time at
    /// 20 million rows); each run of equal instants, already in position order, is then sorted
    /// stably by `precedes`, which is what the stable sort did with them.
    static func eventOrder(_ events: [OrgEvent]) -> [Int] {
        eventOrder(instants: events.map(\.instant.microseconds)) { events[$0] }
    }

    /// `eventOrder` of events given by their instants and, for the few comparisons between
    /// equal instants, by `event(position)`: the close's usage rows are made into events only
    /// there.
    static func eventOrder(instants: [Int64], event: (Int) -> OrgEvent) -> [Int] {
        instantOrder(instants) { OrgEvent.precedes(event($0), event($1)) }
    }

    /// The positions of `instants` sorted by instant (`instantOrder`), each run of equal
    /// instants, already in position order, then sorted stably by `tiesBy` (given positions):
    /// a stable sort by (instant, `tiesBy`), whose closure is called only between equal instants.
    static func instantOrder(_ instants: [Int64], tiesBy less: (Int, Int) -> Bool) -> [Int] {
        var order = instantOrder(instants)
        var runStart = 0
        for index in stride(from: 1, through: order.count, by: 1) {
            guard index == order.count || instants[order[index]] != instants[order[runStart]] else { continue }
            if index - runStart > 1 {
                let run = order[runStart..<index].sorted(by: less)
                order.replaceSubrange(runStart..<index, with: run)
            }
            runStart = index
        }
        return order
    }

    /// The positions of `instants` sorted by instant, equal instants in position order. When
    /// the instants' span and the positions fit in 64 bits together, as they do for months of
    /// events, each pair is one integer (the instant's offset above the position) and integers
    /// are sorted, which is twice as fast as sorting pairs by a comparison closure.
    static func instantOrder(_ instants: [Int64]) -> [Int] {
        guard let low = instants.min(), let high = instants.max() else { return [] }
        // Offsets above the lowest instant, taken modulo 2^64, are the true unsigned offsets.
        let span = UInt64(bitPattern: high &- low)
        let positionBits = UInt64.bitWidth - UInt64(instants.count - 1).leadingZeroBitCount
        let spanBits = UInt64.bitWidth - span.leadingZeroBitCount
        guard spanBits + positionBits <= UInt64.bitWidth else {
            var keys = instants.indices.map { (instant: instants[$0], position: $0) }
            keys.sort { $0.instant != $1.instant ? $0.instant < $1.instant : $0.position < $1.position }
            return keys.map(\.position)
        }
        let mask: UInt64 = positionBits == 0 ? 0 : (1 << UInt64(positionBits)) - 1
        var keys = instants.indices.map { position in
            UInt64(bitPattern: instants[position] &- low) << UInt64(positionBits) | UInt64(position)
        }
        keys.sort()
        return keys.map { Int($0 & mask) }
    }

    /// One org: its usage rows made into the engine's `UsageStep`s, ordered with its other
    /// events by §6.2 (as `eventOrder` orders the same events), run through the engine, and the
    /// rejections and applied rows reduced to what the close keeps. The other events come first
    /// in the engine's input, so an event's position before sorting says where it came from:
    /// below `others.count` a source of `otherSources`, from there on a usage row of `usage` (a
    /// list of sources in sorted order would copy each one twice).
    static func runOrg(
        _ index: Int, profile: OrgProfile, state: OrgState?, usage: ArraySlice<Int32>, others: [OrgEvent],
        otherSources: [EventSource], previousHorizon: Instant?, catalog: Catalog, input: InputFolder,
        horizon: Instant
    ) throws(EngineConfigurationError) -> OrgResult {
        // Counted per file in an array: a dictionary would hash a key per usage row. Every usage
        // row is counted here, where its record is read anyway, and the few the engine rejects
        // are taken off below (reading each applied record again cost a lookup per row).
        var appliedPerFile = [Int](repeating: 0, count: input.files.count)
        var steps: [UsageStep] = []
        steps.reserveCapacity(usage.count)
        var instants: [Int64] = []
        instants.reserveCapacity(others.count + usage.count)
        for event in others { instants.append(event.instant.microseconds) }
        for recordIndex in usage {
            let step = input.usage.withRecord(at: Int(recordIndex)) { record in
                appliedPerFile[Int(record.pointee.fileIndex)] += 1
                let instant = record.pointee.instant
                let late = previousHorizon.map { instant < $0 } ?? false
                return UsageStep(
                    instant: late ? previousHorizon! : instant, originalInstant: instant,
                    credits: record.pointee.credits, row: recordIndex, userIndex: record.pointee.userIndex,
                    actionIndex: Int32(record.pointee.actionIndex), late: late)
            }
            instants.append(step.instant.microseconds)
            steps.append(step)
        }
        // Equal instants are rare among an org's events; only for them is a usage row made
        // into the event it is, to be ordered by `OrgEvent.precedes` with the others (the same
        // `eventOrder` the tests check).
        func event(_ source: Int) -> OrgEvent {
            if source < others.count { return others[source] }
            let step = steps[source - others.count]
            return OrgEvent(
                kind: .usage, instant: step.instant, originalInstant: step.originalInstant,
                id: input.usage[Int(step.row)].eventId, sequence: input.usage[Int(step.row)].lineNumber,
                late: step.late,
                payload: .usage(credits: step.credits, actionIndex: step.actionIndex, userIndex: step.userIndex))
        }
        let order = eventOrder(instants: instants, event: event)
        let context = EngineContext(
            catalog: catalog, users: input.users, permissions: input.memberPermissions[profile.id])
        let (run, rejected) = try Engine.run(
            state: state, profile: profile, others: others, usage: steps, order: order,
            usageId: { input.usage[Int($0)].eventId }, horizon: horizon, context: context)
        var result = OrgResult(run: run)
        result.appliedUsage.reserveCapacity(usage.count)
        var nextRejected = 0
        for (position, source) in order.enumerated() {
            let usageIndex = source >= others.count ? steps[source - others.count].row : nil
            guard nextRejected < rejected.count, rejected[nextRejected].position == position else {
                if let usageIndex {
                    result.appliedUsage.append(usageIndex)
                } else {
                    result.appliedOther.append(otherSources[source])
                    appliedPerFile[Int(otherSources[source].origin.fileIndex)] += 1
                }
                continue
            }
            let rejection = rejected[nextRejected].rejection
            nextRejected += 1
            if let usageIndex {
                // The readers reject what the engine would (an event before the org's
                // start), so this is rare; the row is rebuilt from its fields for
                // rejected.csv.
                let record = input.usage[Int(usageIndex)]
                appliedPerFile[Int(record.fileIndex)] -= 1
                let usageSource = EventSource(
                    kind: "usage", id: record.eventId, hash: input.usageHasher.hash(record),
                    origin: record.origin, raw: nil)
                result.rejected.append(
                    (record.origin, rejection, usageRaw(record, orgId: profile.id, input: input), usageSource))
            } else {
                let other = otherSources[source]
                let raw = other.raw ?? ""
                result.rejected.append((other.origin, rejection, raw.isEmpty ? other.id : raw, other))
            }
        }
        for (file, count) in appliedPerFile.enumerated() where count > 0 {
            result.appliedPerFile.append((Int32(file), count))
        }
        return result
    }

    /// The positions of `keys` in key order, equal keys in position order (a stable sort by
    /// key). Instants are sorted as integers first, as the engine's events are, and only runs
    /// of equal instants by the whole key: the stable sort by key took 400,000 closure
    /// comparisons for 26,709 documents, on one core while the others waited.
    static func numberingOrder(_ keys: [NumberingKey]) -> [Int] {
        keys.withUnsafeBufferPointer { buffer in
            instantOrder(buffer.map(\.issueInstant.microseconds)) { buffer[$0] < buffer[$1] }
        }
    }

    /// Numbers the close's documents in the order of §6.8, continuing the ledger's gapless
    /// sequences, and resolves each credit note's reference to its purchase's invoice.
    mutating func number(ledger: Ledger, issuer: Issuer) throws {
        var last = try ledger.lastSequences()
        // Indices are sorted by small keys and the documents moved into place by swaps: sorting
        // documents, or comparing them whole, copied two of them per comparison. The issue
        // instant, compared first, settles most comparisons without copying a key's strings.
        let order = CloseWork.numberingOrder(documents.map(NumberingKey.init))
        documents.permute(by: order)
        var invoiceByPurchase = knownPurchaseInvoices
        for index in documents.indices {
            let prefix = documents[index].kind == .invoice ? issuer.invoicePrefix : issuer.creditNotePrefix
            let year = documents[index].issueDate.year
            let key = "\(prefix)|\(year)"
            let next = (last[key] ?? 0) + 1
            last[key] = next
            sequences[key] = next
            documents[index].number = DocumentNumber.format(prefix: prefix, year: year, sequence: next)
            if documents[index].source == .topUp {
                invoiceByPurchase[documents[index].sourceId] = documents[index].number
            }
        }
        for index in documents.indices where documents[index].kind == .creditNote {
            if let purchase = documents[index].referencedSourceId {
                documents[index].referencedNumber = invoiceByPurchase[purchase]
            }
        }
        for index in purchases.indices {
            purchases[index].invoiceNumber = invoiceByPurchase[purchases[index].purchaseId]
        }
    }
}

/// A stable digest of the rows a close read, so two people can tell they closed the same data.
struct FingerprintBuilder {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    var count = 0

    mutating func add(hash value: Int64) {
        var bits = UInt64(bitPattern: value)
        for _ in 0..<8 {
            hash ^= bits & 0xFF
            hash &*= 0x0000_0100_0000_01b3
            bits >>= 8
        }
        count += 1
    }

    mutating func add(_ text: String) {
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        hash ^= 0x0A
        hash &*= 0x0000_0100_0000_01b3
        count += 1
    }

    var hex: String {
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits + "/\(count)"
    }
}
