/// HBA discovery through libudev and driver alias tables (qla2xxx target-capable ports).
/// Its implementation arrives with the real-HBA issue; the module exists now so the package
/// layout matches the architecture.
public enum Udev {}
