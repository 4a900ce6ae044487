/// The Fibre Channel port provider: FC-2 framing, link services, name server client and FCP
/// terminating into STMF sessions. Its codecs and state machines arrive with the FC transport
/// issue; the module exists now so the package layout matches the architecture.
public enum FCPort {}
