import Foundation

/// A JSON encoder for the ledger's rows and the statements' JSON that writes the same bytes as
/// Foundation's `JSONEncoder` with `.sortedKeys` (keys in UTF-8 byte order), optionally
/// `.prettyPrinted` and `.withoutEscapingSlashes`, for the Codable types of this project.
///
/// Foundation builds a tree of boxed values and a dictionary per object before it writes a
/// byte; at tens of thousands of statements and ledger rows a close that was a sixth of the
/// whole run's CPU. This encoder writes each value straight into one byte array; an object's
/// members are written in the order the type encodes them and put in key order once, when
/// the object is complete. `JSONEncodingTests` checks it against Foundation byte for byte.
///
/// A type whose `CodingKeys` are declared in key order (the synthesized `encode(to:)` follows
/// that declaration) has its members written in place as they come, with no second copy; the
/// ledger's and the statements' types do so, and `JSONEncodingTests` checks that they stream.
///
/// It knows the shapes our types use: synthesized Codable (keyed containers), arrays,
/// dictionaries, optionals and single values of strings, integers and booleans. Nested
/// containers and super encoders, which none of our types use, are reported as errors rather
/// than guessed at; floating point is refused, since money and credits are integers here.
public struct SortedJSONEncoder: Sendable {
    public var prettyPrinted: Bool
    public var escapesSlashes: Bool

    public init(prettyPrinted: Bool = false, escapesSlashes: Bool = true) {
        self.prettyPrinted = prettyPrinted
        self.escapesSlashes = escapesSlashes
    }

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = JSONByteWriter(prettyPrinted: prettyPrinted, escapesSlashes: escapesSlashes)
        try writer.encodeValue(value)
        return writer.bytes
    }

    /// Encodes `value` and names the coding-key types of the objects that were rewritten in key
    /// order (their members did not come in order), for the tests that keep our types streaming.
    func encodeNamingRewrites<T: Encodable>(_ value: T) throws -> (bytes: [UInt8], rewritten: [String]) {
        let writer = JSONByteWriter(prettyPrinted: prettyPrinted, escapesSlashes: escapesSlashes)
        writer.recordsRewrites()
        try writer.encodeValue(value)
        return (writer.bytes, writer.rewrittenKeyTypes)
    }
}

/// Why `SortedJSONEncoder` could not encode a value.
public struct JSONEncodingUnsupported: Error, CustomStringConvertible {
    public var description: String
}

/// The state of one encoding: the bytes so far and the container being filled.
final class JSONByteWriter: Encoder {
    enum Frame {
        /// The value has not asked for a container yet.
        case empty
        case keyed
        case unkeyed
        case single
    }

    /// One member of an object being built: its key and where its value's bytes are.
    struct Member {
        var key: String
        var start: Int
        var end: Int
    }

    let prettyPrinted: Bool
    let escapesSlashes: Bool
    var codingPath: [CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The writer's mutable state, kept behind a pointer. Every stored property of a class
    /// is checked for overlapping access on each change at run time, and these change for
    /// every byte and member: the checks were a sixth of the encoder's time. The writer is
    /// used by one thread, and its accessors below touch one field at a time.
    struct State {
        var bytes: [UInt8] = []
        /// The nesting level of the value being encoded (0 for the top level).
        var depth = 0
        var frame = Frame.empty
        var frameStart = 0
        /// Members of every object still open, innermost last; `memberBase` is where the
        /// current object's begin.
        var members: [Member] = []
        var memberBase = 0
        var elementCount = 0
        /// The coding-key type of the object being built, which names its usual key order.
        var keyType: (any CodingKey.Type)?
        /// True while the open object's members have come in key order: they are then written
        /// in place, keys and separators included, and the object needs no rewriting.
        var inOrder = false
        /// The coding-key types of the objects that had to be rewritten in key order, recorded
        /// only when a test asks (nil otherwise).
        var rewrittenKeyTypes: [String]?
        var scratch: [UInt8] = []
    }

    private let state: UnsafeMutablePointer<State>

    var bytes: [UInt8] {
        _read { yield state.pointee.bytes }
        _modify { yield &state.pointee.bytes }
    }
    var depth: Int {
        _read { yield state.pointee.depth }
        _modify { yield &state.pointee.depth }
    }
    var frame: Frame {
        _read { yield state.pointee.frame }
        _modify { yield &state.pointee.frame }
    }
    var frameStart: Int {
        _read { yield state.pointee.frameStart }
        _modify { yield &state.pointee.frameStart }
    }
    var members: [Member] {
        _read { yield state.pointee.members }
        _modify { yield &state.pointee.members }
    }
    var memberBase: Int {
        _read { yield state.pointee.memberBase }
        _modify { yield &state.pointee.memberBase }
    }
    var elementCount: Int {
        _read { yield state.pointee.elementCount }
        _modify { yield &state.pointee.elementCount }
    }
    var keyType: (any CodingKey.Type)? {
        _read { yield state.pointee.keyType }
        _modify { yield &state.pointee.keyType }
    }
    var inOrder: Bool {
        _read { yield state.pointee.inOrder }
        _modify { yield &state.pointee.inOrder }
    }
    private var scratch: [UInt8] {
        _read { yield state.pointee.scratch }
        _modify { yield &state.pointee.scratch }
    }

    init(prettyPrinted: Bool, escapesSlashes: Bool) {
        self.prettyPrinted = prettyPrinted
        self.escapesSlashes = escapesSlashes
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        state.pointee.bytes.reserveCapacity(1024)
    }

    func recordsRewrites() { state.pointee.rewrittenKeyTypes = [] }
    var rewrittenKeyTypes: [String] { state.pointee.rewrittenKeyTypes ?? [] }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    // MARK: Values

    func encodeValue<T: Encodable>(_ value: T) throws {
        // Strings and integers inside arrays and dictionaries arrive here generically.
        // The types are known equal, so a bit cast is exact and spares the runtime's dynamic cast.
        if T.self == String.self { return writeString(unsafeBitCast(value, to: String.self)) }
        if T.self == Int64.self { return writeInteger(unsafeBitCast(value, to: Int64.self)) }
        if T.self == Int.self { return writeInteger(Int64(unsafeBitCast(value, to: Int.self))) }
        if T.self == Int32.self { return writeInteger(Int64(unsafeBitCast(value, to: Int32.self))) }
        if T.self == Bool.self { return writeBool(unsafeBitCast(value, to: Bool.self)) }
        if T.self == Double.self || T.self == Float.self {
            throw JSONEncodingUnsupported(description: "floating point values are not encoded")
        }
        let saved = (frame, frameStart, memberBase, elementCount, keyType, inOrder)
        frame = .empty
        keyType = nil
        inOrder = false
        frameStart = bytes.count
        memberBase = members.count
        elementCount = 0
        try value.encode(to: self)
        switch frame {
        case .empty: finishObject()
        case .keyed: finishObject()
        case .unkeyed: finishArray()
        case .single: break
        }
        (frame, frameStart, memberBase, elementCount, keyType, inOrder) = saved
    }

    /// Encodes a member or an element one level deeper than the current value.
    func encodeNested<T: Encodable>(_ value: T) throws {
        depth += 1
        defer { depth -= 1 }
        try encodeValue(value)
    }

    func writeString(_ text: String) { JSONByteWriter.append(text, escapingSlashes: escapesSlashes, to: &bytes) }

    /// Appends `text` as a JSON string, escaped as Foundation escapes it (`JSONEscaping`).
    static func append(_ text: String, escapingSlashes: Bool, to target: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            target.append(0x22)
            JSONEscaping.escape(utf8, escapingSlashes: escapingSlashes) { target.append(contentsOf: $0) }
            target.append(0x22)
        }
    }

    func writeInteger(_ number: Int64) {
        if number < 0 { bytes.append(0x2D) }
        writeUnsigned(number.magnitude)
    }

    func writeUnsigned(_ number: UInt64) {
        var magnitude = number
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            repeat {
                digits[count] = UInt8(truncatingIfNeeded: 0x30 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            while count > 0 {
                count -= 1
                bytes.append(digits[count])
            }
        }
    }

    func writeBool(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    func writeNull() { bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }

    private func writeIndent(_ level: Int, to target: inout [UInt8]) {
        target.append(0x0A)
        for _ in 0..<level { target.append(contentsOf: [0x20, 0x20]) }
    }

    // MARK: Containers

    /// Starts a member; while the members come in key order, its key is written in place.
    func beginMember(_ key: String) {
        if inOrder {
            if members.count > memberBase {
                if utf8Less(members[members.count - 1].key, key) {
                    bytes.append(0x2C)
                    if prettyPrinted { bytes.append(0x0A) }
                } else {
                    inOrder = false
                }
            }
            if inOrder { writeKey(key, to: &bytes) }
        }
        members.append(Member(key: key, start: bytes.count, end: bytes.count))
    }

    /// Writes a member's indentation, key and colon (the value's depth is one more than `depth`).
    private func writeKey(_ key: String, to target: inout [UInt8]) {
        if prettyPrinted { for _ in 0...depth { target.append(contentsOf: JSONByteWriter.twoSpaces) } }
        JSONByteWriter.append(key, escapingSlashes: escapesSlashes, to: &target)
        if prettyPrinted {
            target.append(contentsOf: [0x20, 0x3A, 0x20])
        } else {
            target.append(0x3A)
        }
    }

    func endMember() { members[members.count - 1].end = bytes.count }

    func beginElement() {
        if elementCount > 0 { bytes.append(0x2C) }
        if prettyPrinted { writeIndent(depth + 1, to: &bytes) }
        elementCount += 1
    }

    /// Closes the object, first rewriting its members in key order unless they came in order.
    private func finishObject() {
        if frame == .keyed && inOrder {
            if prettyPrinted {
                bytes.append(0x0A)
                for _ in 0..<depth { bytes.append(contentsOf: JSONByteWriter.twoSpaces) }
            }
            bytes.append(0x7D)
            members.removeSubrange(memberBase...)
            return
        }
        if state.pointee.rewrittenKeyTypes != nil, let keyType {
            state.pointee.rewrittenKeyTypes?.append(String(reflecting: keyType))
        }
        var object: [UInt8] = []
        swap(&object, &scratch)
        object.removeAll(keepingCapacity: true)
        object.append(0x7B)
        if prettyPrinted { object.append(0x0A) }
        let order = memberOrder()
        for (position, index) in order.enumerated() {
            let member = members[memberBase + index]
            if position > 0 {
                object.append(0x2C)
                if prettyPrinted { object.append(0x0A) }
            }
            writeKey(member.key, to: &object)
            object.append(contentsOf: bytes[member.start..<member.end])
        }
        if prettyPrinted {
            object.append(0x0A)
            for _ in 0..<depth { object.append(contentsOf: JSONByteWriter.twoSpaces) }
        }
        object.append(0x7D)
        members.removeSubrange(memberBase...)
        bytes.removeSubrange(frameStart...)
        bytes.append(contentsOf: object)
        scratch = object
    }

    /// The positions of the open object's members in key order. A type encodes the same keys in
    /// the same order almost every time, so the order found for a key type is kept and reused
    /// while the keys match (compared as the same string literals, which is cheap).
    private func memberOrder() -> [Int] {
        let count = members.count - memberBase
        let keyType = keyType.map { ObjectIdentifier($0) }
        if let keyType, let known = JSONByteWriter.knownOrders.value(for: keyType), known.keys.count == count {
            var matches = true
            // Bytes, not String equality: two spellings of one text are different keys here.
            for index in 0..<count where !utf8Equal(known.keys[index], members[memberBase + index].key) {
                matches = false
                break
            }
            if matches { return known.order }
        }
        let order = (0..<count).sorted { utf8Less(members[memberBase + $0].key, members[memberBase + $1].key) }
        if let keyType {
            JSONByteWriter.knownOrders.set(
                KnownOrder(keys: members[memberBase...].map(\.key), order: order), for: keyType)
        }
        return order
    }

    struct KnownOrder: Sendable {
        var keys: [String]
        var order: [Int]
    }

    static let twoSpaces: [UInt8] = [0x20, 0x20]

    /// Key orders by coding-key type, shared by every encoder in the process.
    static let knownOrders = KnownOrders()

    private func finishArray() {
        if prettyPrinted {
            // Foundation opens a pretty array with a line break even when nothing follows.
            if elementCount == 0 { bytes.append(0x0A) }
            writeIndent(depth, to: &bytes)
        }
        bytes.append(0x5D)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        precondition(frame == .empty || frame == .keyed, "a value asked for two kinds of container")
        if frame == .empty {
            bytes.append(0x7B)
            if prettyPrinted { bytes.append(0x0A) }
            inOrder = true
        }
        frame = .keyed
        keyType = Key.self
        return KeyedEncodingContainer(JSONKeyedContainer<Key>(writer: self))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        precondition(frame == .empty || frame == .unkeyed, "a value asked for two kinds of container")
        if frame == .empty { bytes.append(0x5B) }
        frame = .unkeyed
        return JSONUnkeyedContainer(writer: self)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        precondition(frame == .empty, "a value asked for two kinds of container")
        frame = .single
        return JSONSingleValueContainer(writer: self)
    }
}

struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONByteWriter
    var codingPath: [CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        writer.beginMember(key.stringValue)
        writer.writeNull()
        writer.endMember()
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        writer.beginMember(key.stringValue)
        writer.writeString(value)
        writer.endMember()
    }

    mutating func encode(_ value: Int64, forKey key: Key) throws {
        writer.beginMember(key.stringValue)
        writer.writeInteger(value)
        writer.endMember()
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        try encode(Int64(value), forKey: key)
    }

    mutating func encode(_ value: Int32, forKey key: Key) throws {
        try encode(Int64(value), forKey: key)
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        writer.beginMember(key.stringValue)
        writer.writeBool(value)
        writer.endMember()
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        writer.beginMember(key.stringValue)
        try writer.encodeNested(value)
        writer.endMember()
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        preconditionFailure("SortedJSONEncoder does not support nested containers")
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        preconditionFailure("SortedJSONEncoder does not support nested containers")
    }

    mutating func superEncoder() -> Encoder { preconditionFailure("SortedJSONEncoder has no super encoders") }

    mutating func superEncoder(forKey key: Key) -> Encoder {
        preconditionFailure("SortedJSONEncoder has no super encoders")
    }
}

struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: JSONByteWriter
    var codingPath: [CodingKey] { [] }
    var count: Int { writer.elementCount }

    mutating func encodeNil() throws {
        writer.beginElement()
        writer.writeNull()
    }

    mutating func encode(_ value: String) throws {
        writer.beginElement()
        writer.writeString(value)
    }

    mutating func encode(_ value: Int64) throws {
        writer.beginElement()
        writer.writeInteger(value)
    }

    mutating func encode(_ value: Bool) throws {
        writer.beginElement()
        writer.writeBool(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        writer.beginElement()
        try writer.encodeNested(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        preconditionFailure("SortedJSONEncoder does not support nested containers")
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        preconditionFailure("SortedJSONEncoder does not support nested containers")
    }

    mutating func superEncoder() -> Encoder { preconditionFailure("SortedJSONEncoder has no super encoders") }
}

struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let writer: JSONByteWriter
    var codingPath: [CodingKey] { [] }

    mutating func encodeNil() throws { writer.writeNull() }
    mutating func encode(_ value: String) throws { writer.writeString(value) }
    mutating func encode(_ value: Int64) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int) throws { writer.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int32) throws { writer.writeInteger(Int64(value)) }
    mutating func encode(_ value: Bool) throws { writer.writeBool(value) }
    // The other integer types encode themselves through a single value container; without these,
    // the generic path below would send them back to their own `encode(to:)` for ever.
    mutating func encode(_ value: Int8) throws { writer.writeInteger(Int64(value)) }
    mutating func encode(_ value: Int16) throws { writer.writeInteger(Int64(value)) }
    mutating func encode(_ value: UInt8) throws { writer.writeInteger(Int64(value)) }
    mutating func encode(_ value: UInt16) throws { writer.writeInteger(Int64(value)) }
    mutating func encode(_ value: UInt32) throws { writer.writeInteger(Int64(value)) }
    mutating func encode(_ value: UInt64) throws { writer.writeUnsigned(value) }
    mutating func encode(_ value: UInt) throws { writer.writeUnsigned(UInt64(value)) }
    mutating func encode(_ value: Double) throws {
        throw JSONEncodingUnsupported(description: "floating point values are not encoded")
    }
    mutating func encode(_ value: Float) throws {
        throw JSONEncodingUnsupported(description: "floating point values are not encoded")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        // The single value's own encoding replaces this container's frame.
        writer.frame = .empty
        try writer.encodeValue(value)
        writer.frame = .single
    }
}

/// A lock-guarded map from coding-key types to the key order last seen for them.
final class KnownOrders: @unchecked Sendable {
    private let lock = NSLock()
    private var orders: [ObjectIdentifier: JSONByteWriter.KnownOrder] = [:]

    func value(for type: ObjectIdentifier) -> JSONByteWriter.KnownOrder? {
        lock.lock()
        defer { lock.unlock() }
        return orders[type]
    }

    func set(_ order: JSONByteWriter.KnownOrder, for type: ObjectIdentifier) {
        lock.lock()
        defer { lock.unlock() }
        orders[type] = order
    }
}

/// The contents of a JSON string as Foundation writes them, for both JSON writers: quote,
/// backslash, the short forms of five control characters, `\u00xx` for the others, and `\/`
/// unless slashes are left alone; every other byte as it is.
enum JSONEscaping {
    /// Hands `emit` the bytes of `utf8` as a JSON string's contents, in order: each run of bytes
    /// that need no escape as it is, and each escape.
    @inline(__always)
    static func escape(
        _ utf8: UnsafeBufferPointer<UInt8>, escapingSlashes: Bool, _ emit: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        var runStart = 0
        for index in 0..<utf8.count {
            let byte = utf8[index]
            let code: UInt8
            switch byte {
            case 0x22: code = 0x22
            case 0x5C: code = 0x5C
            case 0x2F where escapingSlashes: code = 0x2F
            case 0x0A: code = 0x6E
            case 0x0D: code = 0x72
            case 0x09: code = 0x74
            case 0x08: code = 0x62
            case 0x0C: code = 0x66
            case 0x00..<0x20: code = 0x75
            default: continue
            }
            if runStart < index { emit(UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
            runStart = index + 1
            let hexDigits: StaticString = "0123456789abcdef"
            hexDigits.withUTF8Buffer { hex in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 6) { sequence in
                    sequence[0] = 0x5C
                    sequence[1] = code
                    sequence[2] = 0x30
                    sequence[3] = 0x30
                    sequence[4] = hex[Int(byte >> 4)]
                    sequence[5] = hex[Int(byte & 0x0F)]
                    emit(UnsafeBufferPointer(rebasing: sequence[0..<(code == 0x75 ? 6 : 2)]))
                }
            }
        }
        if runStart < utf8.count { emit(UnsafeBufferPointer(rebasing: utf8[runStart...])) }
    }
}
