/// The version of swift-stmf's commands and service (`stmfd --version`, `stmf_build_info`).
/// The COMSTAR commands print their interface version (`stmfadm -V`: 1.0), as illumos does.
public enum STMFVersion {
    public static let current = "0.16.0"
}
