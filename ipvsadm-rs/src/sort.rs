//! ipvsadm's listing order.
//!
//! ipvsadm sorts with comparisons that subtract 32-bit values and keep the wrapped signed
//! result, so they are not a total order: 10.0.0.1 sorts after 200.0.0.1, and a firewall
//! mark of 2^31 or more sorts before every address service. With such a comparison the
//! order depends on the sorting algorithm too, so this is the C library's: glibc's
//! `qsort` is a top-down merge sort that splits at `n / 2` and takes from the left run
//! while the comparison says `<= 0`.

use crate::entry::{Dest, Service};
use crate::resolve::AF_INET6;

fn word(addr: &[u8; 16], i: usize) -> u32 {
    u32::from_be_bytes([
        addr[4 * i],
        addr[4 * i + 1],
        addr[4 * i + 2],
        addr[4 * i + 3],
    ])
}

fn wrapped(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn compare_addr_port(af: u16, a: &[u8; 16], b: &[u8; 16], pa: u16, pb: u16) -> i32 {
    let words = if af == AF_INET6 { 4 } else { 1 };
    let r = (0..words)
        .map(|i| wrapped(word(a, i), word(b, i)))
        .find(|r| *r != 0)
        .unwrap_or(0);
    if r != 0 {
        return r;
    }
    i32::from(pa) - i32::from(pb)
}

/// ipvsadm's service comparison: fwmark, family, protocol, address, port.
pub fn compare_services(a: &Service, b: &Service) -> i32 {
    let r = wrapped(a.fwmark, b.fwmark);
    if r != 0 {
        return r;
    }
    let r = i32::from(a.af) - i32::from(b.af);
    if r != 0 {
        return r;
    }
    let r = i32::from(a.protocol) - i32::from(b.protocol);
    if r != 0 {
        return r;
    }
    compare_addr_port(a.af, &a.addr, &b.addr, a.port, b.port)
}

/// ipvsadm's real-server comparison: address (as the first one's family), port.
pub fn compare_dests(a: &Dest, b: &Dest) -> i32 {
    compare_addr_port(a.af, &a.addr, &b.addr, a.port, b.port)
}

/// Sorts like glibc's merge sort, calling `cmp` on the same pairs in the same order.
///
/// The merge works on indices and the items are moved once at the end, so sorting large
/// tables copies no rows.
pub fn merge_sort<T>(items: &mut [T], cmp: &impl Fn(&T, &T) -> i32) {
    if items.len() <= 1 {
        return;
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut scratch = Vec::with_capacity(items.len());
    msort(&mut order, &mut scratch, &|a: usize, b: usize| {
        cmp(&items[a], &items[b])
    });
    apply_order(items, &mut order);
}

fn msort(v: &mut [usize], scratch: &mut Vec<usize>, cmp: &impl Fn(usize, usize) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    msort(&mut v[..n1], scratch, cmp);
    msort(&mut v[n1..], scratch, cmp);
    scratch.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(v[i], v[j]) <= 0 {
            scratch.push(v[i]);
            i += 1;
        } else {
            scratch.push(v[j]);
            j += 1;
        }
    }
    scratch.extend_from_slice(&v[i..n1]);
    scratch.extend_from_slice(&v[j..]);
    v.copy_from_slice(scratch);
}

/// Rearranges `items` so that position `i` holds what was at `order[i]`, following the
/// permutation's cycles; a position whose entry is its own index is done.
fn apply_order<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..items.len() {
        let mut cur = start;
        while order[cur] != cur {
            let next = order[cur];
            order[cur] = cur;
            if next == start {
                break;
            }
            items.swap(cur, next);
            cur = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{AF_INET, IPPROTO_TCP, IPPROTO_UDP};

    fn v4(a: [u8; 4], port: u16, protocol: u16) -> Service {
        let mut addr = [0; 16];
        addr[..4].copy_from_slice(&a);
        Service {
            af: AF_INET,
            protocol,
            addr,
            port,
            ..Service::default()
        }
    }

    fn fwm(mark: u32) -> Service {
        let mut s = Service::default();
        s.set_fwmark(mark);
        s
    }

    fn names(list: &[Service]) -> Vec<String> {
        list.iter()
            .map(|s| {
                if s.fwmark != 0 {
                    format!("f{}", s.fwmark)
                } else {
                    format!("{:?}:{}", &s.addr[..4], s.port)
                }
            })
            .collect()
    }

    #[test]
    fn far_apart_addresses_wrap() {
        let mut list = vec![
            v4([10, 0, 0, 1], 80, IPPROTO_TCP),
            v4([200, 0, 0, 1], 80, IPPROTO_TCP),
        ];
        merge_sort(&mut list, &compare_services);
        assert_eq!(names(&list), vec!["[200, 0, 0, 1]:80", "[10, 0, 0, 1]:80"]);
    }

    #[test]
    fn fwmarks_and_protocols() {
        let mut list = vec![
            v4([10, 0, 0, 9], 53, IPPROTO_UDP),
            fwm(5),
            v4([10, 0, 0, 1], 80, IPPROTO_TCP),
            fwm(u32::MAX),
            v4([10, 0, 0, 1], 22, IPPROTO_TCP),
        ];
        merge_sort(&mut list, &compare_services);
        assert_eq!(
            names(&list),
            vec![
                "f4294967295",
                "[10, 0, 0, 1]:22",
                "[10, 0, 0, 1]:80",
                "[10, 0, 0, 9]:53",
                "f5"
            ]
        );
    }

    #[test]
    fn apply_order_follows_cycles() {
        let mut v = vec!['a', 'b', 'c', 'd', 'e', 'f'];
        apply_order(&mut v, &mut [2, 0, 5, 3, 1, 4]);
        assert_eq!(v, vec!['c', 'a', 'f', 'd', 'b', 'e']);
    }

    #[test]
    fn apply_order_applies_any_permutation() {
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        for n in 0..60 {
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                order.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            let want = order.clone();
            let mut items: Vec<usize> = (0..n).collect();
            apply_order(&mut items, &mut order);
            assert_eq!(items, want);
        }
    }

    #[test]
    fn merge_sort_is_stable_and_sorts() {
        let mut v: Vec<(i32, usize)> = [5, 3, 5, 1, 3, 9, 0].iter().copied().zip(0..).collect();
        merge_sort(&mut v, &|a: &(i32, usize), b: &(i32, usize)| a.0 - b.0);
        assert_eq!(
            v,
            vec![(0, 6), (1, 3), (3, 1), (3, 4), (5, 0), (5, 2), (9, 5)]
        );
    }
}
