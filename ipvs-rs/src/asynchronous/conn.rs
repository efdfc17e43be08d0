//! The handle's sockets registered with tokio's reactor, and the exchange a dropped future
//! left unfinished.

use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use netlink_packet_core::DecodeError;
use tokio::io::unix::AsyncFd;

use crate::socket::{decode_message, Channel, Conn, Reply};
use crate::wire::IpvsMessage;
use crate::{Error, Result};

/// A descriptor [`Conn`] owns, watched by the reactor.
pub(crate) struct Fd(RawFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// The sockets and their reactor registrations.
pub(crate) struct AsyncConn {
    // Declared (so dropped) before `conn`: the registrations go before the sockets close.
    requests: AsyncFd<Fd>,
    bulk: AsyncFd<Fd>,
    pub(crate) conn: Conn,
    pub(crate) timeout: Option<Duration>,
    /// The channel and the sequence number ending the exchange a dropped future left
    /// unfinished: the next user reads up to it first.
    pub(crate) unfinished: Option<(Channel, u32)>,
}

impl AsyncConn {
    /// Registers `conn`'s sockets with the current runtime's reactor.
    pub(crate) fn new(mut conn: Conn, timeout: Option<Duration>) -> Result<Self> {
        conn.set_nonblocking()?;
        // SAFETY: `conn` owns both descriptors and lives in the same struct, declared after
        // the registrations: they are dropped, and deregistered, before it closes them.
        let (requests, bulk) = unsafe {
            (
                AsyncFd::register(Fd(conn.raw_fd(Channel::Requests)))
                    .map_err(std::io::Error::from)?,
                AsyncFd::register(Fd(conn.raw_fd(Channel::Bulk))).map_err(std::io::Error::from)?,
            )
        };
        Ok(AsyncConn {
            requests,
            bulk,
            conn,
            timeout,
            unfinished: None,
        })
    }

    /// Sends `bytes` on `channel`, remembering that the exchange ending with `end_seq` is
    /// under way until [`AsyncConn::finished`].
    pub(crate) async fn send(
        &mut self,
        channel: Channel,
        bytes: &[u8],
        end_seq: u32,
    ) -> Result<()> {
        loop {
            match self.conn.send_on(channel, bytes) {
                Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let fd = match channel {
                        Channel::Requests => &self.requests,
                        Channel::Bulk => &self.bulk,
                    };
                    fd.writable().await?.clear_ready();
                }
                Err(e) => return Err(e),
                Ok(()) => {
                    self.unfinished = Some((channel, end_seq));
                    return Ok(());
                }
            }
        }
    }

    /// The exchange under way ended (its last reply was read).
    pub(crate) fn finished(&mut self) {
        self.unfinished = None;
    }

    /// Reads the rest of an exchange a dropped future left, so that neither a dump still
    /// running in the kernel (a second dump on a socket is `EBUSY`) nor stale replies meet
    /// the next request.
    pub(crate) async fn settle(&mut self) -> Result<()> {
        let Some((_, end)) = self.unfinished else {
            return Ok(());
        };
        let drained = async {
            loop {
                match self.next_reply_with(&mut |_| Ok(())).await? {
                    Reply::Done { seq, .. } | Reply::Ack { seq, .. } if seq == end => return Ok(()),
                    _ => {}
                }
            }
        }
        .await;
        // Whatever happened, the old exchange is given up: sequence numbers keep its late
        // replies apart from the next one's.
        self.unfinished = None;
        drained
    }

    /// The next reply, decoding IPVS messages whole.
    pub(crate) async fn next_reply(&mut self) -> Result<Reply> {
        self.next_reply_with(&mut decode_message).await
    }

    /// The next reply, waiting for the reactor between datagrams; [`Error::Timeout`] when
    /// no datagram comes within the timeout.
    pub(crate) async fn next_reply_with<T, F>(&mut self, decode: &mut F) -> Result<Reply<T>>
    where
        F: FnMut(&[u8]) -> Result<T, DecodeError>,
    {
        loop {
            if let Some(reply) = self.conn.buffered_reply_with(decode)? {
                return Ok(reply);
            }
            match self.timeout {
                Some(t) => tokio::time::timeout(t, self.fill())
                    .await
                    .map_err(|_| Error::Timeout)??,
                None => self.fill().await?,
            }
            // The kernel prepares the next datagram of a dump during the receive, so the
            // socket is ready again at once: let other tasks run between datagrams.
            tokio::task::yield_now().await;
        }
    }

    /// Waits until the socket being read has a datagram, and reads it.
    async fn fill(&mut self) -> Result<()> {
        let fd = match self.conn.reading() {
            Channel::Requests => &self.requests,
            Channel::Bulk => &self.bulk,
        };
        loop {
            let mut ready = fd.readable().await?;
            if self.conn.try_fill()? {
                return Ok(());
            }
            ready.clear_ready();
        }
    }

    /// Polls for a datagram of the socket being read: the step of a dump stream.
    pub(crate) fn poll_fill(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        use std::task::Poll;
        let fd = match self.conn.reading() {
            Channel::Requests => &self.requests,
            Channel::Bulk => &self.bulk,
        };
        loop {
            let mut ready = match fd.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Ready(Ok(ready)) => ready,
            };
            match self.conn.try_fill() {
                Ok(true) => return Poll::Ready(Ok(())),
                Ok(false) => ready.clear_ready(),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Sends one request and the probe closing its exchange, and returns the request's
    /// replies.
    pub(crate) async fn transact(
        &mut self,
        msg: &IpvsMessage,
        names: Option<(&str, Option<&str>)>,
    ) -> Result<Vec<IpvsMessage>> {
        let mut out = Vec::new();
        let mut exchange = self.conn.encode_exchange(msg, &mut out);
        self.send(Channel::Requests, &out, exchange.end()).await?;
        loop {
            if let Some(outcome) = exchange.take(self.next_reply().await?) {
                self.finished();
                return outcome.map_err(|(errno, message)| {
                    Error::from_kernel(msg.cmd, errno, message, names)
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::socket::open_sockets;

    /// A kernel that never answers (a generic-netlink socket with no request sent, which any
    /// Linux host has): the receive gives up with `Timeout`, and a runtime with one thread
    /// runs another task meanwhile.
    #[test]
    fn a_silent_kernel_is_a_timeout_and_the_runtime_keeps_running() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let conn = Conn::unresolved(open_sockets().unwrap(), None).unwrap();
            let mut conn = AsyncConn::new(conn, Some(Duration::from_millis(200))).unwrap();
            let ticks = Arc::new(AtomicU32::new(0));
            let ticker = tokio::spawn({
                let ticks = ticks.clone();
                async move {
                    loop {
                        ticks.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            });
            let started = Instant::now();
            assert!(matches!(conn.next_reply().await, Err(Error::Timeout)));
            assert!(started.elapsed() >= Duration::from_millis(150));
            assert!(
                ticks.load(Ordering::Relaxed) > 0,
                "the other task never ran"
            );
            ticker.abort();
        });
    }
}
