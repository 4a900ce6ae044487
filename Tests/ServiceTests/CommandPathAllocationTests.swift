import Foundation
import ProcessTestSupport
import Testing

/// The command path allocates nothing in steady state: `stmf-bench io --check-allocations`
/// submits pooled 4 KiB READ and WRITE tasks through an STMF session to an SBD RAM LU and
/// counts heap allocations with ordo-one's malloc interposer (counted, not timed). Any
/// allocation per command makes it exit 1 and this test fail.
@Suite struct CommandPathAllocationTests {
    @Test func steadyStateCommandsAllocateNothing() throws {
        let r = try runTool("stmf-bench", ["io", "--check-allocations", "--count-commands", "5000"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("0.0000 allocations per READ, 0.0000 per WRITE"), "\(r.out)\(r.err)")
    }
}
