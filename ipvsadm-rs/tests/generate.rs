//! `--generate` works anywhere: no root, no IPVS (this runs in the host lane).

use std::process::Command;

fn generate(what: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ipvsadm-rs"))
        .args(["--generate", what])
        .output()
        .expect("run ipvsadm-rs")
}

#[test]
fn man_page_and_completions_without_ipvs() {
    let man = generate("man");
    assert!(
        man.status.success(),
        "{}",
        String::from_utf8_lossy(&man.stderr)
    );
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.contains(".TH ipvsadm-rs 8"), "{page}");
    assert!(page.contains("tcp\\-service"));
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = generate(shell);
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("real-server"),
            "{shell}"
        );
    }
    let bad = generate("tcsh");
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        "--generate needs one of: man, bash, zsh, fish, elvish, powershell\n"
    );
}
