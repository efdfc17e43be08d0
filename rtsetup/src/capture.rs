//! Frame capture on one interface with an AF_PACKET socket, like `tcpdump -i LINK -e`.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, Object, Place, Result};
use crate::frame::Frame;
use crate::netns::{within, Netns, NetnsExt};
use crate::rtnl::Rtnl;

/// Which way a captured frame went through the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Sent by this host.
    Out,
    /// Received by this host (addressed to it, broadcast, multicast or, in promiscuous
    /// mode, to another host).
    In,
}

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Captured {
    /// Which way it went.
    pub direction: Direction,
    /// The decoded frame.
    pub frame: Frame,
}

/// One frame as it was on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCaptured {
    /// Which way it went.
    pub direction: Direction,
    /// When the kernel received or sent it, in nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// The Ethernet frame, header included.
    pub bytes: Vec<u8>,
}

/// `SIOCGSTAMPNS` (linux/sockios.h): the timestamp of the last packet read.
const SIOCGSTAMPNS: libc::c_ulong = 0x8907;

/// An AF_PACKET socket bound to one interface of one namespace.
#[derive(Debug)]
pub struct Capture {
    fd: OwnedFd,
    index: u32,
    link: String,
    place: Place,
}

impl Capture {
    /// Starts capturing every frame on `link` in `netns`.
    ///
    /// ```no_run
    /// use rtsetup::NetnsExt;
    /// use std::time::Duration;
    /// let lb = rtsetup::Netns::open("lb")?;
    /// let capture = rtsetup::capture::Capture::open(&lb, "lb-veth0")?;
    /// for captured in capture.drain(Duration::from_millis(200))? {
    ///     println!("{:?} {}", captured.direction, captured.frame);
    /// }
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn open(netns: &Netns, link: &str) -> Result<Capture> {
        let index = Rtnl::open(netns)?.link(link)?.index;
        let place = netns.place();
        let fail =
            |action, e| Error::from_io(action, Object::Capture(link.into()), place.clone(), e);
        // Protocol 0 receives nothing until bind names the protocol and interface, so no
        // frame from another interface slips in between socket() and bind().
        let fd = within(netns, || {
            // SAFETY: plain socket(2); the descriptor is owned right below.
            let raw =
                unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: raw is a fresh descriptor nobody else owns.
            Ok(unsafe { OwnedFd::from_raw_fd(raw) })
        })?
        .map_err(|e| fail("open", e))?;
        let address = link_address(index);
        // SAFETY: address is a valid sockaddr_ll of the size passed.
        let bound = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&address as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if bound != 0 {
            return Err(fail("bind", io::Error::last_os_error()));
        }
        Ok(Capture {
            fd,
            index,
            link: link.into(),
            place,
        })
    }

    /// The next frame, waiting at most `timeout`. Frames that do not decode are skipped.
    pub fn next(&self, timeout: Duration) -> Result<Option<Captured>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(raw) = self.next_raw(left)? else {
                return Ok(None);
            };
            if let Some(frame) = Frame::parse(&raw.bytes) {
                return Ok(Some(Captured {
                    direction: raw.direction,
                    frame,
                }));
            }
        }
    }

    /// The next frame as it was on the wire, with the kernel's receive timestamp, waiting at
    /// most `timeout`.
    pub fn next_raw(&self, timeout: Duration) -> Result<Option<RawCaptured>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut poll = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let millis = left.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd.
            let ready = unsafe { libc::poll(&mut poll, 1, millis) };
            if ready < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(self.error("read", e));
            }
            if ready == 0 {
                return Ok(None);
            }
            let mut buffer = vec![0u8; 65536];
            // SAFETY: all-zero is a valid sockaddr_ll.
            let mut from: libc::sockaddr_ll = unsafe { mem::zeroed() };
            let mut from_len = mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: buffer and from are valid for the sizes passed.
            let length = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                    libc::MSG_DONTWAIT,
                    (&mut from as *mut libc::sockaddr_ll).cast(),
                    &mut from_len,
                )
            };
            if length < 0 {
                let e = io::Error::last_os_error();
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) {
                    continue;
                }
                return Err(self.error("read", e));
            }
            let direction = if from.sll_pkttype == libc::PACKET_OUTGOING {
                Direction::Out
            } else {
                Direction::In
            };
            buffer.truncate(length as usize);
            return Ok(Some(RawCaptured {
                direction,
                time_ns: self.last_timestamp(),
                bytes: buffer,
            }));
        }
    }

    /// The kernel's timestamp of the frame read last (ns since the epoch), so times stay
    /// right when this process is scheduled late; the clock now if the kernel has none.
    fn last_timestamp(&self) -> u64 {
        // SAFETY: all-zero is a valid timespec.
        let mut stamp: libc::timespec = unsafe { mem::zeroed() };
        // SAFETY: SIOCGSTAMPNS writes one timespec.
        let done = unsafe { libc::ioctl(self.fd.as_raw_fd(), SIOCGSTAMPNS, &mut stamp) };
        if done == 0 && stamp.tv_sec > 0 {
            stamp.tv_sec as u64 * 1_000_000_000 + stamp.tv_nsec as u64
        } else {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        }
    }

    /// Every frame until none has arrived for `quiet` or `limit` has passed, whichever comes
    /// first: on a link with endless traffic (a lab's long-lived connections) the quiet
    /// moment never comes.
    pub fn drain_within(&self, quiet: Duration, limit: Duration) -> Result<Vec<Captured>> {
        let deadline = Instant::now() + limit;
        let mut frames = Vec::new();
        while Instant::now() < deadline {
            match self.next(quiet)? {
                Some(captured) => frames.push(captured),
                None => break,
            }
        }
        Ok(frames)
    }

    /// Every frame until none has arrived for `quiet`.
    pub fn drain(&self, quiet: Duration) -> Result<Vec<Captured>> {
        let mut frames = Vec::new();
        while let Some(captured) = self.next(quiet)? {
            frames.push(captured);
        }
        Ok(frames)
    }

    /// Sends a raw Ethernet frame (header included) out of the interface.
    pub fn send(&self, frame: &[u8]) -> Result<()> {
        let address = link_address(self.index);
        // SAFETY: frame and address are valid for the sizes passed.
        let sent = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&address as *const libc::sockaddr_ll).cast(),
                mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if sent < 0 {
            return Err(self.error("send on", io::Error::last_os_error()));
        }
        Ok(())
    }

    /// The interface's name.
    pub fn link(&self) -> &str {
        &self.link
    }

    fn error(&self, action: &'static str, e: io::Error) -> Error {
        Error::from_io(
            action,
            Object::Capture(self.link.clone()),
            self.place.clone(),
            e,
        )
    }
}

fn link_address(index: u32) -> libc::sockaddr_ll {
    // SAFETY: all-zero is a valid sockaddr_ll.
    let mut address: libc::sockaddr_ll = unsafe { mem::zeroed() };
    address.sll_family = libc::AF_PACKET as u16;
    address.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    address.sll_ifindex = index as i32;
    address
}
