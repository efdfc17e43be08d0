//! The texts of `-h` and `-v`.
//!
//! `-h` is ipvsadm 1.31's usage text to the byte (scripts and people compare it), headed
//! by ipvsadm's version line; `-v` says what this program is and what it mirrors.

/// The ipvsadm release this program mirrors.
pub const IPVSADM_VERSION: &str = "v1.31 2019/12/24";

/// The IPVS protocol version ipvsadm 1.31 was compiled against.
pub const IPVS_VERSION: &str = "1.2.1";

/// ipvsadm's own version line, which heads its usage text.
pub fn ipvsadm_version_line() -> String {
    format!("ipvsadm {IPVSADM_VERSION} (compiled with popt and IPVS v{IPVS_VERSION})\n")
}

/// What `-v` prints: this program's name and version and the ipvsadm it mirrors.
pub fn version_text() -> String {
    format!(
        "ipvsadm-rs v{} (a clone of ipvsadm {IPVSADM_VERSION}, compiled with popt and IPVS v{IPVS_VERSION})\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// What `-h` prints, with `program` standing where ipvsadm puts its `argv[0]`.
pub fn usage_text(program: &str) -> String {
    let p = program;
    let mut s = ipvsadm_version_line();
    s.push_str(&format!(
        "Usage:
  {p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  {p} -D virtual-service
  {p} -C
  {p} -R
  {p} -S [-n]
  {p} -a|e virtual-service -r server-address [options]
  {p} -d virtual-service -r server-address
  {p} -L|l [virtual-service] [options]
  {p} -Z [virtual-service]
  {p} --set tcp tcpfin udp
  {p} --start-daemon {{master|backup}} [daemon-options]
  {p} --stop-daemon {{master|backup}}
  {p} -h

"
    ));
    s.push_str(
        "Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is wlc.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=255)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync
  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)
",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_names_the_program_everywhere() {
        let text = usage_text("/usr/sbin/ipvsadm");
        assert!(text.starts_with(
            "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nUsage:\n"
        ));
        assert_eq!(text.matches("/usr/sbin/ipvsadm -").count(), 13);
        assert!(
            text.contains("  /usr/sbin/ipvsadm --start-daemon {master|backup} [daemon-options]\n")
        );
        assert!(text.ends_with("Multicast TTL (default=1)\n"));
    }

    #[test]
    fn version_names_both_programs() {
        let v = version_text();
        assert!(v.starts_with("ipvsadm-rs v"));
        assert!(v.contains("ipvsadm v1.31"));
    }
}
