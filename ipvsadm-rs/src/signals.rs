//! SIGINT and SIGTERM while `-R` holds lines it has read but not yet sent.
//!
//! ipvsadm has no signal handlers: a signal kills it between two lines, each line it read
//! before applied. ipvsadm-rs sends `-R` lines in batches, so while a batch is pending
//! ("held") a SIGINT or SIGTERM is only noted; the batch is sent, and the process then dies
//! of that signal as ipvsadm would have (same status, nothing printed, buffered stdout lost).
//! At any other time the handler lets the signal kill the process at once.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static HOLDING: AtomicBool = AtomicBool::new(false);
static CAUGHT: AtomicI32 = AtomicI32::new(0);

const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

extern "C" fn on_signal(sig: libc::c_int) {
    if HOLDING.load(Ordering::SeqCst) {
        CAUGHT.store(sig, Ordering::SeqCst);
    } else {
        // Delivered again once this handler returns, now with the default action.
        reraise(sig);
    }
}

fn reraise(sig: libc::c_int) {
    // SAFETY: signal and raise are async-signal-safe and have no memory preconditions.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Installs the handler for SIGINT and SIGTERM, except where they are ignored (a background
/// job's SIGINT): ignored they stay, as for ipvsadm.
pub fn install() {
    for sig in SIGNALS {
        // SAFETY: both sigaction structs are fully initialised (zeroed, then filled); the
        // handler only touches atomics and async-signal-safe calls.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            // Reads and netlink exchanges resume after the handler: it never ends them early.
            new.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(sig, &new, std::ptr::null_mut());
        }
    }
}

/// Notes that lines are held (`true`) or that none are any longer (`false`); when the last
/// held lines are gone and a signal came meanwhile, dies of it.
pub fn holding(held: bool) {
    HOLDING.store(held, Ordering::SeqCst);
    if !held {
        let sig = CAUGHT.load(Ordering::SeqCst);
        if sig != 0 {
            reraise(sig);
        }
    }
}

/// Whether a signal came while lines were held.
pub fn caught() -> bool {
    CAUGHT.load(Ordering::SeqCst) != 0
}
