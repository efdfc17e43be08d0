//! Dumps read as a stream.

use crate::handle::ConnGuard;
use crate::socket::Reply;
use crate::wire::{IpvsCmd, IpvsMessage};
use crate::{AddressFamily, Error, Result};

/// Turns one dump message into an item; the family is the dumped service's.
pub(crate) type Decoder<T> = fn(&IpvsMessage, AddressFamily) -> Result<T>;

/// An iterator over a dump, decoding entries as the kernel's datagrams arrive.
///
/// It holds the handle's socket: other requests on the same handle from the same thread fail
/// with [`Error::Busy`] until the dump is finished or dropped; other threads wait. Dropping it
/// early reads and discards the rest of the dump, so the socket is ready again.
///
/// IPVS dumps carry no consistency marker: a dump racing with writers may miss or repeat
/// entries.
pub struct Dump<'h, T> {
    guard: Option<ConnGuard<'h>>,
    seq: u32,
    cmd: IpvsCmd,
    family: AddressFamily,
    decode: Decoder<T>,
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
        }
    }
}

impl<T> Iterator for Dump<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        let guard = self.guard.as_mut()?;
        loop {
            match guard.next_reply() {
                Ok(Reply::Message { seq, msg }) if seq == self.seq => {
                    return Some((self.decode)(&msg, self.family));
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
