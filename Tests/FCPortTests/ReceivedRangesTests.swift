import FCPort
import Testing

@Suite("Received data ranges (duplicate and lost frames)")
struct ReceivedRangesTests {
    @Test func inOrderFramesAppend() {
        var r = ReceivedRanges()
        for i in 0..<8 { #expect(r.insert(i * 2048, length: 2048) == 2048) }
        #expect(r.count == 8 * 2048)
        #expect(r.covers(8 * 2048))
        #expect(!r.covers(8 * 2048 + 1))
    }

    @Test func aDuplicateCountsOnceAndCannotHideALoss() {
        var r = ReceivedRanges()
        r.insert(0, length: 2048)
        #expect(r.insert(0, length: 2048) == 0)        // the same frame again
        r.insert(4096, length: 2048)                   // frame 1 (2048..<4096) lost
        #expect(r.insert(4096, length: 2048) == 0)
        #expect(r.count == 4096)
        #expect(!r.covers(6144))
        #expect(r.insert(2048, length: 2048) == 2048)  // the lost frame arrives after all
        #expect(r.covers(6144))
    }

    @Test func outOfOrderAndOverlappingPiecesMerge() {
        var r = ReceivedRanges()
        r.insert(1000, length: 100)
        r.insert(0, length: 10)
        r.insert(500, length: 100)
        #expect(r.insert(50, length: 1000) == 1000 - 100 - 50)   // 50..<1050 overlaps 500..<600 and 1000..<1050
        #expect(r.count == 10 + 1050)
        #expect(!r.covers(1100))
        r.insert(10, length: 40)
        #expect(r.covers(1100))
        #expect(r.insert(0, length: 0) == 0)
    }
}
