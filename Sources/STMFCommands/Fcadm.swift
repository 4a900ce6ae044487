import ArgumentParser

/// `fcadm`: administration of FC ports (emulated target ports; HBA binding comes later).
public struct Fcadm: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fcadm",
        abstract: "Administer Fibre Channel target ports of stmfd.",
        subcommands: [])
    public init() {}
}
