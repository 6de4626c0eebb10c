// Proves that rearranging an array by a permutation puts at each position the element the
// permutation names, for permutations of any shape (fixed points, long cycles, many short
// ones), and refuses an order that names a position twice.
import PropertyBased
import Testing

@testable import CycleRunnerCore

struct PermutationTests {
    @Test func eachPositionReceivesTheElementTheOrderNames() async {
        await propertyCheck(input: Gen.int(in: 0...300).array(of: 0...300)) { keys in
            // A stable sort's order, as numbering uses it: ties keep their positions.
            let order = keys.indices.sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
            var items = keys.indices.map { "item \($0)" }
            items.permute(by: order)
            #expect(items == order.map { "item \($0)" })
        }
    }

    @Test(arguments: [[Int](), [0], [1, 0], [2, 0, 1], [0, 2, 1, 3], [4, 3, 2, 1, 0], [1, 2, 3, 4, 0]])
    func smallPermutations(order: [Int]) {
        var items = order.indices.map { [$0] }
        items.permute(by: order)
        #expect(items == order.map { [$0] })
    }
}
