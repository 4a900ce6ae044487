/// The timers of one event loop: a binary min-heap of deadlines with lazy cancellation (a
/// cancelled timer's entry stays in the heap and is skipped when it comes up).
struct TimerHeap {
    private struct Entry { var deadline: UInt64; var id: UInt64 }
    private var heap: [Entry] = []
    private var work: [UInt64: @Sendable () -> Void] = [:]

    var nextDeadline: UInt64? {
        mutating get {
            while let top = heap.first, work[top.id] == nil { pop() }
            return heap.first?.deadline
        }
    }

    var count: Int { work.count }

    mutating func insert(deadline: UInt64, id: UInt64, _ w: @escaping @Sendable () -> Void) {
        work[id] = w
        heap.append(Entry(deadline: deadline, id: id))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].deadline < heap[parent].deadline else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func cancel(_ id: UInt64) { work[id] = nil }

    /// Takes out every timer due at `now`, in deadline order (the caller runs them, so they may
    /// add timers of their own).
    mutating func takeDue(upTo now: UInt64, into due: inout [@Sendable () -> Void]) {
        while let top = heap.first, top.deadline <= now {
            pop()
            if let w = work.removeValue(forKey: top.id) { due.append(w) }
        }
    }

    private mutating func pop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].deadline < heap[m].deadline { m = l }
            if r < heap.count && heap[r].deadline < heap[m].deadline { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
    }
}
