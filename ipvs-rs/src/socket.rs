//! One generic-netlink socket speaking the IPVS family: framing, sequence numbers, acks.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use netlink_packet_core::{
    DecodeError, NetlinkHeader, NetlinkMessage, NetlinkPayload, ParseableParametrized, NLM_F_ACK,
    NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlHeader, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket};

use crate::wire::{IpvsMessage, FAMILY_NAME};
use crate::{Error, Request, Result};

const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;

/// The kernel sizes a dump's datagrams by the largest read its socket ever asked for, up to
/// just under 32 KiB; this takes any datagram.
const BULK_RECV: usize = 32 * 1024;
/// The read size of the request socket: at least the kernel's smallest dump datagram
/// (`NLMSG_GOODSIZE`, a page less the skb overhead, at most 8 KiB less it), so nothing is cut.
const REQUEST_RECV_MIN: usize = 4096;
const REQUEST_RECV_MAX: usize = 8192;
/// Room for the acks of a full batch chunk (each ack costs about a kilobyte of socket memory).
const SOCKET_RCVBUF: libc::c_int = 4 * 1024 * 1024;
/// The default time to wait for the kernel before reporting [`Error::Timeout`].
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the kernel sent back, attributed by sequence number.
pub(crate) enum Reply<T = IpvsMessage> {
    /// A message of the IPVS family (a dump entry or a get reply), decoded.
    Message { seq: u32, msg: T },
    /// An ack (`errno` 0) or an error for the request `seq`.
    Ack {
        seq: u32,
        errno: i32,
        message: Option<String>,
    },
    /// The end of a dump (`errno` non-zero if the dump failed).
    Done { seq: u32, errno: i32 },
}

/// What the kernel said of one request: its replies, or its errno and extended-ack text.
pub(crate) type Outcome = std::result::Result<Vec<IpvsMessage>, (i32, Option<String>)>;

/// One request on its way: the replies and the failure the kernel sent for it so far, until
/// the ack of the probe that closes it (see [`Conn::encode_probe`]).
pub(crate) struct Exchange {
    seq: u32,
    end: u32,
    replies: Vec<IpvsMessage>,
    failure: Option<(i32, Option<String>)>,
}

impl Exchange {
    /// The sequence number whose ack ends the exchange.
    #[cfg(feature = "tokio")]
    pub(crate) fn end(&self) -> u32 {
        self.end
    }

    /// Takes one reply; once the probe's ack has come, the request's replies or its failure
    /// (errno and extended-ack text). Replies to other exchanges are stale and ignored.
    pub(crate) fn take(&mut self, reply: Reply) -> Option<Outcome> {
        match reply {
            Reply::Message { seq, msg } if seq == self.seq => self.replies.push(msg),
            Reply::Ack {
                seq,
                errno,
                message,
            } if seq == self.seq && errno != 0 => {
                self.failure.get_or_insert((errno, message));
            }
            Reply::Ack { seq, .. } if seq == self.end => {
                return Some(match self.failure.take() {
                    Some(failure) => Err(failure),
                    None => Ok(std::mem::take(&mut self.replies)),
                });
            }
            _ => {}
        }
        None
    }
}

/// `IP_VS_SO_GET_INFO`: the socket option that reports a namespace's number of services.
const IP_VS_SO_GET_INFO: libc::c_int = 64 + 1024 + 64 + 1;

/// Which of a handle's generic-netlink sockets an exchange uses.
///
/// The kernel allocates (and, on most distribution kernels, zeroes) every dump datagram at the
/// largest read size its socket has ever used. A destination dump of a few real servers, one
/// per service in a listing, would pay for two such datagrams (entries, then the end marker),
/// so requests and destination dumps read page-sized datagrams. The service dump instead
/// rescans the kernel's service table from its start for every datagram it fills, so small
/// datagrams would make it quadratic: it reads the largest ones, on a socket of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// Requests, acks, and every dump but the service table's.
    Requests,
    /// Dumps of the whole service table.
    Bulk,
}

/// The sockets of a handle, made in the handle's network namespace.
///
/// Only the first is required: a process short of file descriptors (`ulimit -n 4`, where
/// ipvsadm, which opens one socket at a time, still works) gets a handle without the others.
pub(crate) struct Sockets {
    /// Generic netlink, for [`Channel::Requests`] (and for [`Channel::Bulk`] without `bulk`).
    pub(crate) netlink: Socket,
    /// Generic netlink, for [`Channel::Bulk`].
    pub(crate) bulk: Option<Socket>,
    /// An inet socket, only for the service count (generic netlink has no command for it).
    pub(crate) inet: Option<OwnedFd>,
}

/// The sockets, the IPVS family id and the receive state.
pub(crate) struct Conn {
    sock: Socket,
    bulk: Option<Socket>,
    inet: Option<OwnedFd>,
    family: u16,
    seq: u32,
    /// The socket the current exchange reads from.
    reading: Channel,
    request_recv: usize,
    buf: Vec<u8>,
    len: usize,
    pos: usize,
}

/// Creates the handle's sockets in the calling thread's network namespace: the request
/// socket, then the optional ones, left out when the process has no descriptor to spare.
pub(crate) fn open_sockets() -> io::Result<Sockets> {
    let netlink = open_socket()?;
    let bulk = unless_out_of_descriptors(open_socket())?;
    let inet = unless_out_of_descriptors(open_inet_socket())?;
    Ok(Sockets {
        netlink,
        bulk,
        inet,
    })
}

/// `None` for a descriptor limit (the process's or the system's), the error otherwise.
fn unless_out_of_descriptors<T>(opened: io::Result<T>) -> io::Result<Option<T>> {
    match opened {
        Ok(t) => Ok(Some(t)),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn open_inet_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket has no memory-safety preconditions; the fd is owned right away.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a freshly created descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Creates a generic-netlink socket in the calling thread's network namespace.
fn open_socket() -> io::Result<Socket> {
    let mut sock = Socket::new(NETLINK_GENERIC)?;
    sock.bind_auto()?;
    sock.set_ext_ack(true)?;
    sock.set_cap_ack(true)?;
    let fd = sock.as_raw_fd();
    // SO_RCVBUFFORCE needs CAP_NET_ADMIN, which IPVS needs anyway; fall back to the capped one.
    if setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &SOCKET_RCVBUF).is_err() {
        setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &SOCKET_RCVBUF)?;
    }
    Ok(sock)
}

fn setsockopt<T>(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: value points to a live T and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Conn {
    /// Wraps `sock` and resolves the IPVS family on it.
    pub(crate) fn new(sockets: Sockets, timeout: Option<Duration>) -> Result<Self> {
        let mut conn = Conn::unresolved(sockets, timeout)?;
        conn.family = conn.resolve_family()?;
        Ok(conn)
    }

    pub(crate) fn unresolved(sockets: Sockets, timeout: Option<Duration>) -> Result<Self> {
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let mut conn = Conn {
            sock: sockets.netlink,
            bulk: sockets.bulk,
            inet: sockets.inet,
            family: 0,
            seq: 0,
            reading: Channel::Requests,
            request_recv: usize::try_from(page)
                .unwrap_or(REQUEST_RECV_MIN)
                .clamp(REQUEST_RECV_MIN, REQUEST_RECV_MAX),
            buf: vec![0; BULK_RECV],
            len: 0,
            pos: 0,
        };
        conn.set_timeout(timeout)?;
        Ok(conn)
    }

    /// Sets how long a receive may block; `None` waits forever.
    pub(crate) fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        let tv = match timeout {
            Some(t) => libc::timeval {
                tv_sec: t.as_secs().try_into().unwrap_or(libc::time_t::MAX),
                // A zero timeval would mean "forever": round sub-microsecond waits up.
                tv_usec: if t.is_zero() {
                    1
                } else {
                    t.subsec_micros() as libc::suseconds_t
                },
            },
            None => libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
        };
        for sock in std::iter::once(&self.sock).chain(&self.bulk) {
            setsockopt(sock.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)?;
        }
        Ok(())
    }

    /// The number of services in the handle's namespace, from the kernel's counter.
    ///
    /// A handle opened without its inet socket opens one for the call; that fails with
    /// [`Error::Io`] (`EMFILE`) while the process is still short of descriptors.
    pub(crate) fn num_services(&self) -> Result<u32> {
        let opened;
        let inet = match &self.inet {
            Some(fd) => fd,
            None => {
                opened = open_inet_socket()?;
                &opened
            }
        };
        // struct ip_vs_getinfo: version, conn table size, number of services.
        let mut info = [0u32; 3];
        let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
        // SAFETY: info is a writable buffer of len bytes.
        let rc = unsafe {
            libc::getsockopt(
                inet.as_raw_fd(),
                libc::IPPROTO_IP,
                IP_VS_SO_GET_INFO,
                info.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::EPERM) => Error::PermissionDenied,
                Some(libc::ENOPROTOOPT) => Error::NotAvailable,
                _ => Error::Io(err),
            });
        }
        Ok(info[2])
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn resolve_family(&mut self) -> Result<u16> {
        let seq = self.next_seq();
        let mut msg = NetlinkMessage::from(GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(FAMILY_NAME.to_owned())],
        }));
        msg.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        msg.header.sequence_number = seq;
        msg.finalize();
        let mut out = vec![0; msg.buffer_len()];
        msg.serialize(&mut out);
        // On the bulk socket: reading the reply with the large receive makes the kernel size
        // even the first datagram of the next service dump large (it sizes dump datagrams by
        // the largest read so far). A first datagram of a page would end the dump's first
        // pass after a few services, one more resume for writers elsewhere to shift.
        self.send_on(Channel::Bulk, &out)?;
        let mut family = None;
        loop {
            let (hdr, range) = self.next_raw()?;
            let bytes = &self.buf[range];
            if hdr.sequence_number != seq {
                continue;
            }
            match hdr.message_type {
                NLMSG_ERROR => {
                    let (errno, _) = parse_error(bytes, hdr.flags)?;
                    return match (errno, family) {
                        (0, Some(id)) => Ok(id),
                        (libc::ENOENT, _) | (0, None) => Err(Error::NotAvailable),
                        (errno, _) => Err(io::Error::from_raw_os_error(errno).into()),
                    };
                }
                _ => {
                    let parsed = NetlinkMessage::<GenlMessage<GenlCtrl>>::deserialize(bytes)
                        .map_err(|e| Error::Decode(e.to_string()))?;
                    if let NetlinkPayload::InnerMessage(m) = parsed.payload {
                        family = m.payload.nlas.iter().find_map(|a| match a {
                            GenlCtrlAttrs::FamilyId(id) => Some(*id),
                            _ => None,
                        });
                    }
                }
            }
        }
    }

    /// Serializes `msg` with a fresh sequence number and the given flags into `out`.
    pub(crate) fn encode(&mut self, msg: &IpvsMessage, flags: u16, out: &mut Vec<u8>) -> u32 {
        let seq = self.next_seq();
        msg.write_frame(self.family, flags, seq, out);
        seq
    }

    /// Serializes `request` with a fresh sequence number and the given flags into `out`.
    pub(crate) fn encode_request(
        &mut self,
        request: &Request,
        flags: u16,
        out: &mut Vec<u8>,
    ) -> u32 {
        let seq = self.next_seq();
        request.encode(self.family, flags, seq, out);
        seq
    }

    /// Appends the message that closes an exchange, an `NLMSG_NOOP` asking for an ack, and
    /// returns its sequence number.
    ///
    /// The kernel handles a `sendmsg`'s messages in order and reports every failure, but sends
    /// nothing at all for a request whose handler returns `EINTR` (`netlink_rcv_skb` skips the
    /// ack even with `NLM_F_ACK`). IPVS does that when a sync daemon is stopped before its
    /// kernel thread first ran (`kthread_stop`), with the daemon stopped all the same. A reader
    /// waiting for that request's own ack would wait forever; the probe's ack always comes,
    /// once every message before it was handled.
    pub(crate) fn encode_probe(&mut self, out: &mut Vec<u8>) -> u32 {
        let seq = self.next_seq();
        out.extend_from_slice(&(NLMSG_HDRLEN as u32).to_ne_bytes());
        out.extend_from_slice(&NLMSG_NOOP.to_ne_bytes());
        out.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        out.extend_from_slice(&seq.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        seq
    }

    /// Frames one request (without an ack of its own: a failure is reported anyway) and the
    /// probe that closes its exchange (see [`Conn::encode_probe`]).
    pub(crate) fn encode_exchange(&mut self, msg: &IpvsMessage, out: &mut Vec<u8>) -> Exchange {
        let seq = self.encode(msg, NLM_F_REQUEST, out);
        let end = self.encode_probe(out);
        Exchange {
            seq,
            end,
            replies: Vec::new(),
            failure: None,
        }
    }

    /// Sends one request and the probe closing its exchange.
    pub(crate) fn send_request(&mut self, msg: &IpvsMessage) -> Result<Exchange> {
        let mut out = Vec::new();
        let exchange = self.encode_exchange(msg, &mut out);
        self.send(&out)?;
        Ok(exchange)
    }

    /// Starts a dump on `channel`; the replies are read from there until the next send.
    pub(crate) fn send_dump(&mut self, msg: IpvsMessage, channel: Channel) -> Result<u32> {
        let mut out = Vec::new();
        let seq = self.encode(&msg, NLM_F_REQUEST | NLM_F_DUMP, &mut out);
        self.send_on(channel, &out)?;
        Ok(seq)
    }

    /// Sends already framed messages in one `sendmsg` on the request socket.
    pub(crate) fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.send_on(Channel::Requests, bytes)
    }

    pub(crate) fn send_on(&mut self, channel: Channel, bytes: &[u8]) -> Result<()> {
        // Replies to an abandoned exchange are stale: drop what is buffered.
        self.pos = self.len;
        self.reading = channel;
        let sock = match (channel, &self.bulk) {
            (Channel::Bulk, Some(bulk)) => bulk,
            _ => &self.sock,
        };
        let sent = sock.send(bytes, 0)?;
        if sent != bytes.len() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::WriteZero,
                "short netlink send",
            )));
        }
        Ok(())
    }

    /// The next message from the kernel, reading a datagram when the buffer is used up.
    /// The bytes are `self.buf[range]`.
    fn next_raw(&mut self) -> Result<(NetlinkHeader, std::ops::Range<usize>)> {
        loop {
            if let Some(raw) = self.buffered_raw()? {
                return Ok(raw);
            }
            self.fill()?;
        }
    }

    /// The next message left in the buffer, `None` when it is used up.
    fn buffered_raw(&mut self) -> Result<Option<(NetlinkHeader, std::ops::Range<usize>)>> {
        if self.pos >= self.len {
            return Ok(None);
        }
        let rest = &self.buf[self.pos..self.len];
        if rest.len() < NLMSG_HDRLEN {
            self.pos = self.len;
            return Err(Error::Decode("truncated netlink header".into()));
        }
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            self.pos = self.len;
            return Err(Error::Decode(format!("bad netlink message length {len}")));
        }
        let mut hdr = NetlinkHeader::default();
        hdr.length = len as u32;
        hdr.message_type = u16::from_ne_bytes([rest[4], rest[5]]);
        hdr.flags = u16::from_ne_bytes([rest[6], rest[7]]);
        hdr.sequence_number = u32::from_ne_bytes([rest[8], rest[9], rest[10], rest[11]]);
        let range = self.pos..self.pos + len;
        self.pos += (len + 3) & !3;
        Ok(Some((hdr, range)))
    }

    /// Waits for the next datagram; on a blocking socket `EAGAIN` is the receive timeout.
    fn fill(&mut self) -> Result<()> {
        if self.try_fill()? {
            Ok(())
        } else {
            Err(Error::Timeout)
        }
    }

    /// Reads one datagram of the socket being read into the buffer; false if none is there
    /// (`EAGAIN`: a non-blocking socket with nothing queued, or a blocking one timed out).
    pub(crate) fn try_fill(&mut self) -> Result<bool> {
        // One socket serving both channels gets large dump datagrams after its first bulk read
        // (the kernel sizes them by the largest read so far): it always reads large.
        let (fd, want) = match (self.reading, &self.bulk) {
            (Channel::Requests, Some(_)) => (self.sock.as_raw_fd(), self.request_recv),
            (Channel::Bulk, Some(bulk)) => (bulk.as_raw_fd(), BULK_RECV),
            (_, None) => (self.sock.as_raw_fd(), BULK_RECV),
        };
        let n = loop {
            // SAFETY: buf is a live, writable allocation of at least `want` bytes.
            let n = unsafe { libc::recv(fd, self.buf.as_mut_ptr().cast(), want, libc::MSG_TRUNC) };
            if n >= 0 {
                break n;
            }
            let err = io::Error::last_os_error();
            // A socket with a receive timeout is not restarted after a signal handler even
            // with SA_RESTART; the exchange is not over, so wait on.
            match err.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EAGAIN) => return Ok(false),
                _ => return Err(Error::Io(err)),
            }
        };
        let n = n as usize;
        if n > want {
            return Err(Error::Decode(format!(
                "netlink datagram of {n} bytes truncated"
            )));
        }
        self.len = n;
        self.pos = 0;
        Ok(true)
    }

    /// The socket the current exchange reads from.
    #[cfg(feature = "tokio")]
    pub(crate) fn reading(&self) -> Channel {
        self.reading
    }

    /// The descriptor of a channel's socket, to wait for it in a reactor.
    #[cfg(feature = "tokio")]
    pub(crate) fn raw_fd(&self, channel: Channel) -> std::os::fd::RawFd {
        match channel {
            Channel::Bulk => match &self.bulk {
                Some(bulk) => bulk.as_raw_fd(),
                None => self.sock.as_raw_fd(),
            },
            Channel::Requests => self.sock.as_raw_fd(),
        }
    }

    /// Makes both netlink sockets non-blocking, for a reactor to drive them.
    #[cfg(feature = "tokio")]
    pub(crate) fn set_nonblocking(&mut self) -> Result<()> {
        self.sock.set_non_blocking(true)?;
        if let Some(bulk) = &self.bulk {
            bulk.set_non_blocking(true)?;
        }
        Ok(())
    }

    /// The next reply of the IPVS family, an ack or a dump end.
    pub(crate) fn next_reply(&mut self) -> Result<Reply> {
        self.next_reply_with(&mut decode_message)
    }

    /// The next reply, with a message of the IPVS family decoded by `decode` straight from the
    /// receive buffer (it gets the bytes from the generic-netlink header on).
    pub(crate) fn next_reply_with<T>(
        &mut self,
        decode: &mut dyn FnMut(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<Reply<T>> {
        loop {
            if let Some(reply) = self.buffered_reply_with(decode)? {
                return Ok(reply);
            }
            self.fill()?;
        }
    }

    /// The next reply left in the buffer, `None` once the buffer is used up: the step a
    /// reactor-driven reader takes between datagrams.
    pub(crate) fn buffered_reply_with<T>(
        &mut self,
        decode: &mut dyn FnMut(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<Option<Reply<T>>> {
        while let Some((hdr, range)) = self.buffered_raw()? {
            let bytes = &self.buf[range];
            let seq = hdr.sequence_number;
            match hdr.message_type {
                NLMSG_ERROR => {
                    let (errno, message) = parse_error(bytes, hdr.flags)?;
                    return Ok(Some(Reply::Ack {
                        seq,
                        errno,
                        message,
                    }));
                }
                NLMSG_DONE => {
                    let code = bytes
                        .get(NLMSG_HDRLEN..NLMSG_HDRLEN + 4)
                        .map_or(0, |b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                    return Ok(Some(Reply::Done { seq, errno: -code }));
                }
                t if t == self.family => {
                    let msg =
                        decode(&bytes[NLMSG_HDRLEN..]).map_err(|e| Error::Decode(e.to_string()))?;
                    return Ok(Some(Reply::Message { seq, msg }));
                }
                _ => {}
            }
        }
        Ok(None)
    }
}

/// Decodes a message of the IPVS family from its generic-netlink header on.
pub(crate) fn decode_message(genl: &[u8]) -> Result<IpvsMessage, DecodeError> {
    let header = GenlHeader::parse(genl)?;
    IpvsMessage::parse_with_param(&genl[GENL_HDRLEN..], header)
}

/// The errno (positive, 0 for an ack) and extended-ack text of an `NLMSG_ERROR` message.
fn parse_error(bytes: &[u8], flags: u16) -> Result<(i32, Option<String>)> {
    let body = &bytes[NLMSG_HDRLEN..];
    let code: [u8; 4] = body
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Decode("truncated netlink error".into()))?;
    let errno = -i32::from_ne_bytes(code);
    if flags & NLM_F_ACK_TLVS == 0 {
        return Ok((errno, None));
    }
    // The echoed request: its header only when capped, otherwise all of it.
    let echoed = body.get(4..).unwrap_or(&[]);
    let skip = if flags & NLM_F_CAPPED != 0 || echoed.len() < 4 {
        NLMSG_HDRLEN
    } else {
        u32::from_ne_bytes([echoed[0], echoed[1], echoed[2], echoed[3]]) as usize
    };
    let tlvs = echoed.get((skip + 3) & !3..).unwrap_or(&[]);
    let message = netlink_packet_core::NlasIterator::new(tlvs).find_map(|nla| {
        let nla = nla.ok()?;
        (nla.kind() == NLMSGERR_ATTR_MSG)
            .then(|| nul_terminated(nla.value()))
            .filter(|m| !m.is_empty())
    });
    Ok((errno, message))
}

fn nul_terminated(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kernel that never answers: the receive gives up with [`Error::Timeout`].
    #[test]
    fn silent_kernel_is_a_timeout() {
        let sockets = open_sockets().expect("sockets");
        let mut conn = Conn::unresolved(sockets, Some(Duration::from_millis(50))).unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(conn.next_reply(), Err(Error::Timeout)));
        assert!(started.elapsed() >= Duration::from_millis(40));
    }

    fn ack(seq: u32, errno: i32) -> Reply {
        Reply::Ack {
            seq,
            errno,
            message: None,
        }
    }

    /// Only the probe's ack ends an exchange: a request the kernel never answers (its handler
    /// returned `EINTR`) succeeded, a failure waits for the probe, stale replies are ignored.
    #[test]
    fn an_exchange_ends_at_the_probe_ack() {
        let exchange = || Exchange {
            seq: 7,
            end: 8,
            replies: Vec::new(),
            failure: None,
        };
        let mut unanswered = exchange();
        assert!(unanswered.take(ack(6, libc::EEXIST)).is_none(), "stale");
        assert!(matches!(unanswered.take(ack(8, 0)), Some(Ok(r)) if r.is_empty()));

        let mut failed = exchange();
        assert!(failed.take(ack(7, libc::ESRCH)).is_none());
        assert!(matches!(
            failed.take(ack(8, 0)),
            Some(Err((libc::ESRCH, None)))
        ));

        let mut answered = exchange();
        let info = IpvsMessage::new(crate::wire::IpvsCmd::GetInfo, vec![]);
        let reply = |seq| Reply::Message {
            seq,
            msg: info.clone(),
        };
        assert!(answered.take(reply(7)).is_none());
        assert!(answered.take(reply(5)).is_none(), "stale");
        assert!(matches!(answered.take(ack(8, 0)), Some(Ok(r)) if r.len() == 1));
    }

    /// The host kernel's generic netlink (no IPVS needed) answers as an exchange relies on: a
    /// request without `NLM_F_ACK` that fails is reported, and the probe after it is acked.
    #[test]
    fn the_kernel_reports_a_failure_and_then_acks_the_probe() {
        let sockets = open_sockets().expect("sockets");
        let mut conn = Conn::unresolved(sockets, Some(Duration::from_secs(5))).unwrap();
        // nlctrl's own id: the IPVS command number of GET_INFO is no command of it.
        conn.family = libc::GENL_ID_CTRL as u16;
        let msg = IpvsMessage::new(crate::wire::IpvsCmd::GetInfo, vec![]);
        let mut exchange = conn.send_request(&msg).unwrap();
        let outcome = loop {
            if let Some(outcome) = exchange.take(conn.next_reply().unwrap()) {
                break outcome;
            }
        };
        assert!(
            matches!(outcome, Err((libc::EOPNOTSUPP, _))),
            "{:?}",
            outcome.err()
        );

        let mut out = Vec::new();
        let probe = conn.encode_probe(&mut out);
        assert_eq!(out.len(), NLMSG_HDRLEN);
        conn.send(&out).unwrap();
        assert!(
            matches!(conn.next_reply().unwrap(), Reply::Ack { seq, errno: 0, .. } if seq == probe)
        );
    }

    #[test]
    fn extended_ack_text_is_read() {
        // An NLMSG_ERROR for EINVAL with NLM_F_CAPPED | NLM_F_ACK_TLVS and an NLMSGERR_ATTR_MSG.
        let mut msg = vec![0u8; 16];
        msg.extend_from_slice(&(-libc::EINVAL).to_ne_bytes());
        msg.extend_from_slice(&[0; 16]);
        msg.extend_from_slice(&[9, 0, 1, 0, b'b', b'a', b'd', b'!', 0, 0, 0, 0]);
        let (errno, text) = parse_error(&msg, NLM_F_CAPPED | NLM_F_ACK_TLVS).unwrap();
        assert_eq!((errno, text.as_deref()), (libc::EINVAL, Some("bad!")));
        assert_eq!(parse_error(&msg, 0).unwrap(), (libc::EINVAL, None));
        assert!(parse_error(&msg[..18], 0).is_err());
    }
}
