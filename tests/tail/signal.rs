//! Ctrl-C and SIGTERM stop following (exit 0) instead of killing tmon. The signals go to this
//! whole test process: harmless to the other tests, since the handler is installed before each is
//! raised and only sets a flag (handlers stay installed once registered).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[test]
fn sigterm_and_sigint_set_the_stop_flag() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let stop = tmon::follow::stop_on_signals().expect("register");
        assert!(!stop.load(Ordering::SeqCst));
        // SAFETY: raise(3) sends a signal to this process; the handler registered above turns it
        // into a flag store.
        assert_eq!(unsafe { libc::raise(sig) }, 0);
        let t0 = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            assert!(t0.elapsed() < Duration::from_secs(5), "signal {sig} did not set the flag");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
