//! Dumps read as a [`Stream`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::MutexGuard;
use tokio::time::{Instant, Sleep};

use super::conn::AsyncConn;
use crate::dump::{Decoder, Dumped, Seen};
use crate::socket::Reply;
use crate::wire::IpvsCmd;
use crate::{AddressFamily, Error, Result};

/// A dump of an [`AsyncHandle`](crate::AsyncHandle), decoding entries as the kernel's
/// datagrams arrive, waiting for them in the reactor.
///
/// Like [`Dump`](crate::Dump) it yields each object once (a dump racing with writers can
/// repeat entries, and can skip some: see there). It holds the handle's lock: other requests
/// on the handle wait until it ends or is dropped, so a task must not await another request
/// on the same handle while it keeps a stream alive.
///
/// Dropping it early is safe: the next request on the handle first reads the rest of the dump
/// (the kernel refuses a second dump on a socket whose dump is unfinished).
pub struct DumpStream<'h, T> {
    guard: Option<MutexGuard<'h, AsyncConn>>,
    seq: u32,
    cmd: IpvsCmd,
    family: AddressFamily,
    decode: Decoder<T>,
    seen: Seen,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<'h, T> DumpStream<'h, T> {
    pub(crate) fn new(
        guard: MutexGuard<'h, AsyncConn>,
        seq: u32,
        cmd: IpvsCmd,
        family: AddressFamily,
        decode: Decoder<T>,
    ) -> Self {
        let deadline = guard.timeout.map(|t| Box::pin(tokio::time::sleep(t)));
        DumpStream {
            guard: Some(guard),
            seq,
            cmd,
            family,
            decode,
            seen: Seen::default(),
            deadline,
        }
    }

    /// Ends the stream with `item`; `done` if the kernel ended the dump.
    fn end(&mut self, done: bool, item: Option<Result<T>>) -> Poll<Option<Result<T>>> {
        if let Some(mut guard) = self.guard.take() {
            if done {
                guard.finished();
            }
        }
        Poll::Ready(item)
    }
}

impl<T: Dumped> Stream for DumpStream<'_, T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        // Every field is Unpin.
        let this = self.get_mut();
        let (decode, family, seq, cmd) = (this.decode, this.family, this.seq, this.cmd);
        loop {
            let Some(guard) = this.guard.as_mut() else {
                return Poll::Ready(None);
            };
            match guard
                .conn
                .buffered_reply_with(&mut |genl| decode(genl, family))
            {
                Ok(Some(Reply::Message { seq: s, msg })) if s == seq => {
                    if this.seen.insert(msg.identity()) {
                        return Poll::Ready(Some(Ok(msg)));
                    }
                }
                Ok(Some(Reply::Done { seq: s, errno })) if s == seq => {
                    let error =
                        (errno != 0).then(|| Err(Error::from_kernel(cmd, errno, None, None)));
                    return this.end(true, error);
                }
                Ok(Some(Reply::Ack {
                    seq: s,
                    errno,
                    message,
                })) if s == seq => {
                    let error =
                        (errno != 0).then(|| Err(Error::from_kernel(cmd, errno, message, None)));
                    return this.end(true, error);
                }
                Ok(Some(_)) => {}
                Ok(None) => match guard.poll_fill(cx) {
                    Poll::Ready(Ok(())) => {
                        if let (Some(sleep), Some(t)) = (this.deadline.as_mut(), guard.timeout) {
                            sleep.as_mut().reset(Instant::now() + t);
                        }
                        // A yield between datagrams (the socket is ready again at once: the
                        // kernel prepares the next one during the receive).
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) => return this.end(false, Some(Err(e))),
                    Poll::Pending => {
                        let expired = this
                            .deadline
                            .as_mut()
                            .is_some_and(|sleep| sleep.as_mut().poll(cx).is_ready());
                        if expired {
                            return this.end(false, Some(Err(Error::Timeout)));
                        }
                        return Poll::Pending;
                    }
                },
                Err(e) => return this.end(false, Some(Err(e))),
            }
        }
    }
}
