//! Captured frames to and from pcap files (Ethernet, nanosecond timestamps), written with
//! the `pcap-file` crate so Wireshark and tcpdump read them.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};

use crate::capture::RawCaptured;
use crate::error::{Error, Object, Place, Result};

fn error(action: &'static str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::from_io(
        action,
        Object::File(path.to_path_buf()),
        Place::Filesystem,
        std::io::Error::other(e.to_string()),
    )
}

/// Writes `frames` to `path` as a pcap file.
pub(crate) fn write(path: &Path, frames: &[RawCaptured]) -> Result<()> {
    let file = File::create(path).map_err(|e| error("create", path, e))?;
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ts_resolution: TsResolution::NanoSecond,
        // What tcpdump writes on the machines the labs run on.
        endianness: Endianness::Little,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(BufWriter::new(file), header)
        .map_err(|e| error("write", path, e))?;
    for frame in frames {
        let packet = PcapPacket::new(
            Duration::from_nanos(frame.time_ns),
            frame.bytes.len() as u32,
            &frame.bytes,
        );
        writer
            .write_packet(&packet)
            .map_err(|e| error("write", path, e))?;
    }
    Ok(())
}

/// Reads the frames of a pcap file: (time in ns since the epoch, bytes).
pub(crate) fn read(path: &Path) -> Result<Vec<(u64, Vec<u8>)>> {
    let file = File::open(path).map_err(|e| error("open", path, e))?;
    let mut reader = PcapReader::new(BufReader::new(file)).map_err(|e| error("read", path, e))?;
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.map_err(|e| error("read", path, e))?;
        frames.push((packet.timestamp.as_nanos() as u64, packet.data.into_owned()));
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Direction;

    #[test]
    fn frames_round_trip_with_their_nanoseconds() {
        let dir = std::env::temp_dir().join(format!("rtsetup-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.pcap");
        let frames = vec![
            RawCaptured {
                direction: Direction::In,
                time_ns: 1_796_227_735_123_456_789,
                bytes: vec![0xff; 60],
            },
            RawCaptured {
                direction: Direction::Out,
                time_ns: 1_796_227_736_000_000_001,
                bytes: (0..64).collect(),
            },
        ];
        write(&path, &frames).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // The nanosecond pcap magic, as tcpdump and Wireshark expect it.
        assert_eq!(&bytes[..4], &0xa1b2_3c4du32.to_le_bytes());
        let back = read(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], (frames[0].time_ns, frames[0].bytes.clone()));
        assert_eq!(back[1], (frames[1].time_ns, frames[1].bytes.clone()));
    }
}
