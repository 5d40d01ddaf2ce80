//! Starting again in the tray, as the same process.
//!
//! Destroying the last web view ends WebKit's web process, but not what
//! WebKit loaded into the app's own process (its UI side, JavaScriptCore,
//! Mesa's software GL) nor its network process: about 100 MiB that no API
//! gives back. So when the vault is locked with the window closed to the
//! tray, the app executes its own binary again: same process id, arguments,
//! environment and standard streams, plus [`IN_TRAY_FLAG`]. All of that
//! memory goes back to the system, and with it every page the unlocked
//! session touched. The new image starts in the tray with no window and
//! builds one when asked (DESIGN §6).

use std::ffi::OsString;

use tauri::{AppHandle, Manager};

/// The flag the app starts again with; also for starting it in the tray at
/// login.
pub const IN_TRAY_FLAG: &str = "--in-tray";

/// Whether the app was started with [`IN_TRAY_FLAG`].
pub fn started_in_tray() -> bool {
    std::env::args_os().skip(1).any(|a| a == IN_TRAY_FLAG)
}

/// The arguments to start again with: this process's own, once
/// [`IN_TRAY_FLAG`].
fn arguments_in_tray(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.filter(|a| a != IN_TRAY_FLAG).collect();
    args.push(IN_TRAY_FLAG.into());
    args
}

/// Executes the app again in the tray. Returns only if that failed (the
/// error), or if the vault was unlocked meanwhile (`None`).
#[cfg(target_os = "linux")]
pub fn exec_in_tray(app: &AppHandle) -> Option<std::io::Error> {
    use std::os::unix::process::CommandExt;
    let desktop = app.state::<crate::desktop::Desktop>();
    // Nothing half done goes with the old image: a sync round trip ends,
    // and no command is writing the vault (both locks held through exec).
    let _network = desktop.sync.hold_network();
    let _vault = desktop.hold_locked()?;
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| "tessera-desktop".into());
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    Some(std::process::Command::new(exe).arg0(argv0).args(arguments_in_tray(args)).exec())
}

/// WebKit's processes outlive the image that started them by a moment: they
/// end when they find it gone, and are this process's children. Nothing in
/// the new image waits for them, so a thread does, lest they stay zombies.
/// Call it first, before this image starts any process of its own.
#[cfg(target_os = "linux")]
pub fn reap_inherited_children() {
    let me = std::process::id();
    let children: Vec<rustix::process::Pid> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let pid = entry.ok()?.file_name().to_str()?.parse::<i32>().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name is in parentheses and may hold spaces.
            let ppid: u32 = stat.rsplit_once(") ")?.1.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == me).then(|| rustix::process::Pid::from_raw(pid)).flatten()
        })
        .collect();
    if children.is_empty() {
        return;
    }
    let _ = std::thread::Builder::new().name("reap-inherited".into()).spawn(move || {
        for child in children {
            let _ = rustix::process::waitpid(Some(child), rustix::process::WaitOptions::empty());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_added_once_and_the_other_arguments_kept() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(arguments_in_tray(args(&[]).into_iter()), args(&["--in-tray"]));
        assert_eq!(arguments_in_tray(args(&["--in-tray", "x"]).into_iter()), args(&["x", "--in-tray"]));
        assert_eq!(arguments_in_tray(args(&["a", "--in-tray", "--in-tray"]).into_iter()), args(&["a", "--in-tray"]));
    }
}
