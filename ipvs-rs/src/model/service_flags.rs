//! Virtual service flags.

use bitflags::bitflags;

bitflags! {
    /// Flags of a virtual service (`IP_VS_SVC_F_*`).
    ///
    /// On the wire they travel as a `{flags, mask}` pair; the library sends the mask all ones, so
    /// a write replaces every flag, as ipvsadm does. The kernel sets [`HASHED`](Self::HASHED)
    /// on every service it holds, so it is present in everything read back.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct ServiceFlags: u32 {
        /// Persistent service (`-p`): a client sticks to one real server.
        const PERSISTENT = 0x0001;
        /// The service is in the kernel's hash table (set by the kernel).
        const HASHED = 0x0002;
        /// One-packet scheduling (`-o`), for UDP.
        const ONE_PACKET = 0x0004;
        /// Scheduler flag 1: `sh-fallback` for `sh`, `mh-fallback` for `mh`.
        const SCHED1 = 0x0008;
        /// Scheduler flag 2: `sh-port` for `sh`, `mh-port` for `mh`.
        const SCHED2 = 0x0010;
        /// Scheduler flag 3 (no scheduler uses it yet).
        const SCHED3 = 0x0020;

        /// `sh-fallback`: the source-hashing scheduler skips overloaded servers.
        const SH_FALLBACK = Self::SCHED1.bits();
        /// `sh-port`: the source-hashing scheduler hashes the source port too.
        const SH_PORT = Self::SCHED2.bits();
        /// `mh-fallback`: the Maglev scheduler skips overloaded servers.
        const MH_FALLBACK = Self::SCHED1.bits();
        /// `mh-port`: the Maglev scheduler hashes the source port too.
        const MH_PORT = Self::SCHED2.bits();

        // Flags a newer kernel may report are kept rather than dropped.
        const _ = !0;
    }
}
