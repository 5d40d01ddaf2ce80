//! Who is asking: the process on the other end of an agent connection, read
//! from `/proc` by the pid `SO_PEERCRED` gives, and the `ssh`/`git`
//! command above it where there is one — what an approval dialog names.

use std::path::Path;

/// Commands worth naming when they started the process that asks.
const NOTABLE: &[&str] = &["git", "ssh", "scp", "sftp", "rsync", "ssh-keygen", "ssh-add", "mosh", "ansible", "code"];
/// Longest command line shown.
const MAX_COMMAND: usize = 240;

/// A process, as a person should see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// Its id.
    pub pid: i32,
    /// Its executable's path (`/usr/bin/ssh`), or `?` when unreadable.
    pub exe: String,
    /// Its command line, shortened.
    pub command: String,
    /// When it started (clock ticks after boot): with the pid, names this
    /// process and no later one that reuses the pid.
    pub start_time: u64,
    /// The nearest ancestor that is `git`, `ssh`, … (pid and command line).
    pub parent: Option<(i32, String)>,
}

impl Process {
    /// Reads process `pid` from `/proc`.
    pub fn of(pid: i32) -> Process {
        let dir = Path::new("/proc").join(pid.to_string());
        let exe = std::fs::read_link(dir.join("exe")).map(|p| p.display().to_string()).unwrap_or_else(|_| "?".into());
        let (ppid, start_time) = stat(pid).unwrap_or((0, 0));
        let mut parent = None;
        let mut next = ppid;
        for _ in 0..8 {
            if next <= 1 {
                break;
            }
            let line = command_line(next);
            if is_notable(&line) {
                parent = Some((next, line));
                break;
            }
            next = stat(next).map_or(0, |(p, _)| p);
        }
        Process { pid, exe, command: command_line(pid), start_time, parent }
    }

    /// The process that started process `pid` (for `tessera mcp`: the AI
    /// tool that runs it), if it can be read.
    pub fn parent_of(pid: i32) -> Option<Process> {
        let (ppid, _) = stat(pid)?;
        (ppid > 1).then(|| Process::of(ppid))
    }

    /// One line for a dialog or a log: `ssh -T git@github.com (pid 4242),
    /// started by git push (pid 4200)`. The executable's path is added when
    /// the command line does not start with it (`ssh` run from `PATH`:
    /// `… (pid 4242, /usr/bin/ssh)`), since a process can name itself
    /// anything in its command line but not its executable.
    pub fn describe(&self) -> String {
        let mut out = if self.command.is_empty() {
            format!("{} (pid {})", self.exe, self.pid)
        } else if self.command.split(' ').next() == Some(self.exe.as_str()) || self.exe == "?" {
            format!("{} (pid {})", self.command, self.pid)
        } else {
            format!("{} (pid {}, {})", self.command, self.pid, self.exe)
        };
        if let Some((pid, command)) = &self.parent {
            out.push_str(&format!(", started by {command} (pid {pid})"));
        }
        out
    }
}

/// (parent pid, start time) from `/proc/PID/stat`.
fn stat(pid: i32) -> Option<(i32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the comm: state(0) ppid(1) … starttime is field 22 of the
    // whole line, 20 after the comm.
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

fn command_line(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let mut line: String = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    if line.chars().count() > MAX_COMMAND {
        line = line.chars().take(MAX_COMMAND).collect::<String>() + "…";
    }
    line.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn is_notable(command: &str) -> bool {
    let program = command.split_whitespace().next().unwrap_or_default();
    let name = program.rsplit('/').next().unwrap_or(program);
    NOTABLE.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_described_from_proc() {
        let me = Process::of(std::process::id() as i32);
        assert!(me.exe.contains("tessera_agent") || me.exe.contains("deps"), "{}", me.exe);
        assert!(me.start_time > 0);
        assert!(me.describe().contains(&format!("(pid {}", std::process::id())));
    }

    #[test]
    fn the_executable_is_named_when_the_command_line_does_not_start_with_it() {
        let p = |command: &str| Process {
            pid: 7,
            exe: "/usr/bin/ssh".into(),
            command: command.into(),
            start_time: 1,
            parent: Some((6, "git push".into())),
        };
        assert_eq!(p("ssh -T host").describe(), "ssh -T host (pid 7, /usr/bin/ssh), started by git push (pid 6)");
        assert_eq!(p("/usr/bin/ssh -T host").describe(), "/usr/bin/ssh -T host (pid 7), started by git push (pid 6)");
        assert_eq!(p("").describe(), "/usr/bin/ssh (pid 7), started by git push (pid 6)");
    }

    #[test]
    fn a_git_parent_is_found() {
        assert!(is_notable("/usr/bin/git push origin main"));
        assert!(is_notable("ssh -T git@github.com"));
        assert!(!is_notable("bash"));
    }
}
