extension Array {
    /// Rearranges the elements so that position `i` holds the element that was at `order[i]`.
    /// Swaps in the buffer move elements where `order.map { self[$0] }` copied each one,
    /// retaining every reference it holds (dozens in a document), and the old array then
    /// released them all.
    /// `order` must hold every index exactly once.
    mutating func permute(by order: [Int]) {
        precondition(order.count == count, "a permutation names every position")
        var placed = [Bool](repeating: false, count: count)
        // The buffer's swapAt moves; the array's copies both elements (MutableCollection's).
        withUnsafeMutableBufferPointer { elements in
            for start in order.indices where !placed[start] {
                // Follows the cycle through `start`: each swap brings one element to its place.
                placed[start] = true
                var current = start
                while order[current] != start {
                    let next = order[current]
                    precondition(!placed[next], "a permutation names each position once")
                    elements.swapAt(current, next)
                    placed[next] = true
                    current = next
                }
            }
        }
    }
}
