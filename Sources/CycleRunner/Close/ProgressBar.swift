import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The close's progress on a terminal: the phase it is in, then a bar over the files it
/// writes with the rate and the time left. It draws one line on stderr, redrawn in place at
/// most ten times a second, and clears it when the close ends so the summary stands alone.
/// The wall clock is read here only, never for anything written to a file.
public final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let width: Int
    private let write: @Sendable (String) -> Void
    private let now: @Sendable () -> UInt64
    private let started: UInt64
    private var filesStarted: UInt64?
    private var lastDraw: UInt64 = 0
    private var status = "starting"
    private var drawn = false

    /// - Parameters:
    ///   - width: the terminal's columns.
    ///   - write: where the bytes go (stderr).
    ///   - now: a monotonic clock in nanoseconds.
    public init(
        width: Int, write: @escaping @Sendable (String) -> Void,
        now: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }
    ) {
        self.width = max(40, width)
        self.write = write
        self.now = now
        started = now()
    }

    /// A bar for stderr when stderr is a terminal, sized to it; nil otherwise.
    public static func forStandardError() -> ProgressBar? {
        guard isatty(2) != 0 else { return nil }
        var size = winsize()
        let columns = ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        return ProgressBar(width: columns) { text in FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// What the close does after each phase the pipeline reports (`CloseOptions.onPhase`).
    static let nextStep: [String: String] = [
        "locked": "reading plans and orgs", "read": "reading usage and purchases",
        "parsed": "checking rows against the ledger",
        "engine": "numbering and checking documents", "commit": "committing to the ledger",
        "committed": "writing files",
    ]

    public func phase(_ name: String) {
        guard let step = ProgressBar.nextStep[name] else { return }
        lock.lock()
        defer { lock.unlock() }
        status = step
        draw(ProgressBar.statusLine(step, elapsedNanoseconds: now() &- started, width: width))
    }

    public func files(_ written: Int, _ total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let time = now()
        if filesStarted == nil { filesStarted = time }
        guard written == total || time &- lastDraw >= 100_000_000 else { return }
        lastDraw = time
        draw(
            ProgressBar.barLine(
                done: written, total: total, elapsedNanoseconds: time &- filesStarted!, width: width))
    }

    /// Clears the line, so what is printed next starts clean.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { write("\r\u{1B}[K") }
        drawn = false
    }

    private func draw(_ line: String) {
        write("\r" + line + "\u{1B}[K")
        drawn = true
    }

    static func statusLine(_ step: String, elapsedNanoseconds: UInt64, width: Int) -> String {
        String("\(step)… \(seconds(elapsedNanoseconds))".prefix(width - 1))
    }

    /// "writing files [████░░░░] 412/1,024  85/s  7s left", cut to the terminal's width.
    static func barLine(done: Int, total: Int, elapsedNanoseconds: UInt64, width: Int) -> String {
        let total = max(total, 1)
        let done = min(max(done, 0), total)
        let counts = "\(grouped(Int64(done)))/\(grouped(Int64(total)))"
        var tail = ""
        if elapsedNanoseconds >= 200_000_000, done > 0 {
            // Files per second and the time left, from the average so far.
            let perSecond = UInt64(done) * 1_000_000_000 / elapsedNanoseconds
            let leftNanoseconds = elapsedNanoseconds / UInt64(done) * UInt64(total - done)
            tail = "  \(perSecond)/s  \(seconds(leftNanoseconds)) left"
        }
        let label = "writing files "
        let room = width - 1 - label.count - counts.count - tail.count - 3
        let barWidth = max(10, min(40, room))
        let filled = barWidth * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled)
        return String("\(label)[\(bar)] \(counts)\(tail)".prefix(width - 1))
    }

    static func seconds(_ nanoseconds: UInt64) -> String {
        let tenths = nanoseconds / 100_000_000
        if tenths < 600 { return "\(tenths / 10).\(tenths % 10)s" }
        let total = tenths / 10
        return "\(total / 60)m\(total % 60 < 10 ? "0" : "")\(total % 60)s"
    }
}
