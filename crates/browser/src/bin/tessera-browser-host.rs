//! `tessera-browser-host`: the native-messaging host the browser starts for
//! the KeePassXC-Browser extension. It relays sealed frames between the
//! browser and the running Tessera app; see `tessera_browser::host`.
//!
//! The browser passes the manifest's path and the extension's id (Firefox)
//! or origin (Chromium) as arguments; the host needs neither.

#![forbid(unsafe_code)]

fn main() {
    // It relays sealed frames only, but a core dump or a same-user reader
    // should not even get those.
    tessera_hardening::harden_process();
    if std::env::args().nth(1).as_deref().is_some_and(|a| a == "--help" || a == "-h") {
        println!(
            "tessera-browser-host: started by the browser for the KeePassXC-Browser extension; \
             relays its messages to the Tessera app ({}). Install it with `tessera browser install`.",
            tessera_browser::socket_path().display()
        );
        return;
    }
    let path = tessera_browser::socket_path();
    let ended = tessera_browser::host::relay(std::io::stdin().lock(), std::io::stdout(), &path);
    // Either way the conversation is over; the browser restarts the host
    // when the extension reconnects.
    let _ = ended;
}
