//! Dumps read as a stream.

use std::collections::HashSet;
use std::net::IpAddr;

use crate::handle::ConnGuard;
use crate::socket::Reply;
use crate::wire::IpvsCmd;
use crate::{AddressFamily, Daemon, DaemonState, Destination, Error, Result, Service, ServiceKey};
use netlink_packet_core::DecodeError;

/// What makes two entries of one dump the same object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Identity {
    Service(ServiceKey),
    Destination(IpAddr, u16, AddressFamily),
    Daemon(DaemonState),
}

/// An object a dump yields.
pub(crate) trait Dumped {
    fn identity(&self) -> Identity;
}

impl Dumped for Service {
    fn identity(&self) -> Identity {
        Identity::Service(self.key)
    }
}

impl Dumped for Destination {
    fn identity(&self) -> Identity {
        Identity::Destination(self.addr, self.port, self.family)
    }
}

impl Dumped for Daemon {
    fn identity(&self) -> Identity {
        Identity::Daemon(self.state)
    }
}

/// The identities a dump has yielded so far.
///
/// Most dumps are a service's few real servers: a linear scan of a short list beats hashing
/// them, so the set is only built once a dump grows past [`Seen::LINEAR`].
#[derive(Default)]
pub(crate) struct Seen {
    few: Vec<Identity>,
    many: HashSet<Identity>,
}

impl Seen {
    const LINEAR: usize = 16;

    /// Records `id`; false if it was already there.
    pub(crate) fn insert(&mut self, id: Identity) -> bool {
        if !self.many.is_empty() {
            return self.many.insert(id);
        }
        if self.few.contains(&id) {
            return false;
        }
        if self.few.len() < Self::LINEAR {
            self.few.push(id);
        } else {
            self.many.extend(self.few.drain(..));
            self.many.insert(id);
        }
        true
    }
}

/// Turns one dump message (from its generic-netlink header on) into an item; the family is the
/// dumped service's.
pub(crate) type Decoder<T> = fn(&[u8], AddressFamily) -> Result<T, DecodeError>;

/// An iterator over a dump, decoding entries as the kernel's datagrams arrive.
///
/// It holds the handle's socket: other requests on the same handle from the same thread fail
/// with [`Error::Busy`] until the dump is finished or dropped; other threads wait. Dropping it
/// early reads and discards the rest of the dump, so the socket is ready again.
///
/// IPVS dumps carry no consistency marker and resume by position in a table that every
/// network namespace shares, so a dump racing with writers (in any namespace) can repeat or miss
/// entries. This iterator drops repeats (it never yields the same object twice); it cannot
/// recover an entry the kernel skipped. Read again, or re-check single objects, when that
/// matters.
pub struct Dump<'h, T> {
    guard: Option<ConnGuard<'h>>,
    seq: u32,
    cmd: IpvsCmd,
    family: AddressFamily,
    decode: Decoder<T>,
    seen: Seen,
}

impl<'h, T> Dump<'h, T> {
    pub(crate) fn new(
        guard: ConnGuard<'h>,
        seq: u32,
        cmd: IpvsCmd,
        family: AddressFamily,
        decode: Decoder<T>,
    ) -> Self {
        Dump {
            guard: Some(guard),
            seq,
            cmd,
            family,
            decode,
            seen: Seen::default(),
        }
    }
}

impl<T: Dumped> Iterator for Dump<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        let guard = self.guard.as_mut()?;
        let (decode, family) = (self.decode, self.family);
        loop {
            match guard.next_reply_with(&mut |genl| decode(genl, family)) {
                Ok(Reply::Message { seq, msg }) if seq == self.seq => {
                    if self.seen.insert(msg.identity()) {
                        return Some(Ok(msg));
                    }
                }
                Ok(Reply::Done { seq, errno }) if seq == self.seq => {
                    self.guard = None;
                    return (errno != 0)
                        .then(|| Err(Error::from_kernel(self.cmd, errno, None, None)));
                }
                Ok(Reply::Ack {
                    seq,
                    errno,
                    message,
                }) if seq == self.seq => {
                    self.guard = None;
                    return (errno != 0)
                        .then(|| Err(Error::from_kernel(self.cmd, errno, message, None)));
                }
                Ok(_) => {}
                Err(e) => {
                    self.guard = None;
                    return Some(Err(e));
                }
            }
        }
    }
}

impl<T> Drop for Dump<'_, T> {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.as_mut() {
            loop {
                match guard.next_reply() {
                    Ok(Reply::Done { seq, .. } | Reply::Ack { seq, .. }) if seq == self.seq => {
                        break
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repeats are caught before and after the set switches from a list to a hash set.
    #[test]
    fn seen_reports_each_identity_once() {
        let id =
            |i: u8| Identity::Destination(IpAddr::from([10, 0, 0, i]), 80, AddressFamily::Inet);
        let mut seen = Seen::default();
        for i in 0..40 {
            assert!(seen.insert(id(i)), "first sight of {i}");
            assert!(!seen.insert(id(i)), "repeat of {i}");
            assert!(!seen.insert(id(i / 2)), "older repeat of {}", i / 2);
        }
        assert!(seen.few.is_empty() && seen.many.len() == 40);
    }
}
