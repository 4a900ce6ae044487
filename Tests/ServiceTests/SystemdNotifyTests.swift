import Foundation
import Testing

/// stmfd tells systemd it is ready (Type=notify) with a READY=1 datagram on $NOTIFY_SOCKET,
/// and says STOPPING=1 on SIGTERM.
@Suite struct SystemdNotifyTests {
    @Test func readyAndStoppingAreNotified() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let listener = try NotifyListener(path: d.stateDir + ".notify")
        try d.start(environment: ["NOTIFY_SOCKET": listener.path])
        #expect(listener.receive(within: 20)?.hasPrefix("READY=1") == true)
        d.stop(SIGTERM)
        #expect(listener.receive(within: 20) == "STOPPING=1")
    }
}
