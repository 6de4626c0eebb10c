// Proves ByteRun holds exactly the bytes an array appended to the same way holds, across every
// growth of its room, and that its copies never share bytes (it is a value, like the array).
import PropertyBased
import Testing

@testable import CycleRunnerCore

@Suite struct ByteRunTests {
    /// Random runs of appends (single bytes, short and long pieces, empty ones) from random
    /// starting room, against an array.
    @Test func appendsHoldWhatAnArrayHolds() async {
        let piece = Gen.int(in: 0...300).map { length in
            (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ length) }
        }
        await propertyCheck(count: 300, input: Gen.int(in: 0...64), piece.array(of: 0...40)) { room, pieces in
            var run = ByteRun(capacity: room)
            var expected: [UInt8] = []
            for piece in pieces {
                if piece.count == 1 {
                    run.appendByte(piece[0])
                } else {
                    piece.withUnsafeBufferPointer { run.appendBytes($0) }
                }
                expected += piece
                #expect(run.count == expected.count)
                #expect(run.capacity >= run.count)
            }
            #expect(run.bytes == expected)
            run.withContent { #expect(Array($0) == expected) }
            #expect(run.takeBytes() == expected)
        }
    }

    @Test func aCopyKeepsItsBytesWhenTheOriginalGrowsOrChanges() {
        var original = ByteRun(capacity: 4)
        original.appendBytes("abc")
        let copy = original
        original.appendBytes("defghijklmnop")
        var other = copy
        other.appendByte(UInt8(ascii: "!"))
        #expect(copy.bytes == Array("abc".utf8))
        #expect(other.bytes == Array("abc!".utf8))
        #expect(original.bytes == Array("abcdefghijklmnop".utf8))
    }

    @Test func aBorrowedBufferStartsEmptyWhateverItHeldBefore() {
        var first = ScratchBytes.borrow(capacity: 8)
        first.appendBytes("leftover bytes")
        ScratchBytes.giveBack(first.takeBuffer())
        let second = ScratchBytes.borrow(capacity: 2)
        #expect(second.count == 0)
        #expect(second.bytes.isEmpty)
        ScratchBytes.giveBack(second.takeBuffer())
    }
}
