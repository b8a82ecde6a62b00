//! Whether file notifications can be trusted for a watched directory, and so how often the watcher
//! must still poll ([`Trust::decide`], [`Trust::interval`]).
//!
//! inotify is told about every write that goes through this machine's kernel, so on a local
//! filesystem (ext4, xfs, btrfs, zfs, tmpfs, overlay, ...) a notification arrives for every
//! append. On a filesystem shared with other machines it is told only about *local* writes: a
//! trainer on a compute node appending to a log on NFS, Lustre or GPFS is never heard of on the
//! login node where tmon runs. The same holds for FUSE mounts (sshfs, s3fs, virtiofs, ...), 9p
//! (WSL2's Windows drives, VM shares), SMB/CIFS, Ceph, AFS and the VM host shares (vboxsf,
//! vmhgfs): the data changes behind the kernel's back.
//!
//! [`FsKind::of_path`] asks `statfs(2)` for the filesystem's magic number and looks it up in a list
//! of such filesystems (values from `linux/magic.h` and the filesystems' own sources; the same
//! list coreutils' `tail -f` uses to stop trusting inotify). Anything not on the list is taken as
//! local: if that is wrong, the slow poll ([`super::SourceOptions::local_safety_poll`]) still
//! finds the write, only later. Off Linux the kind is [`FsKind::Unknown`], which is not trusted.

use super::SourceOptions;
use std::path::Path;
use std::time::Duration;

/// What a filesystem is, as far as change notifications go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsKind {
    /// Every write reaches this kernel, so inotify hears of it.
    Local,
    /// Shared with other machines (or a host, or a userspace server): writes made elsewhere are
    /// never notified. The name is the filesystem's.
    Remote(&'static str),
    /// Could not be told (`statfs` failed, or not Linux).
    Unknown,
}

/// Filesystems whose notifications miss writes made elsewhere, by `statfs` magic number.
const REMOTE: &[(u64, &str)] = &[
    (0x0000_6969, "nfs"),
    (0x0000_517B, "smb"),
    (0xFF53_4D42, "cifs"),
    (0xFE53_4D42, "smb2"),
    // sshfs, s3fs, gcsfuse, rclone, JuiceFS, virtiofs, ...: the data lives in a userspace server.
    (0x6573_5546, "fuse"),
    (0x0102_1997, "9p"),
    (0x00C3_6400, "ceph"),
    (0x5346_414F, "afs"),
    (0x6B41_4653, "kafs"),
    (0x0BD0_0BD0, "lustre"),
    (0x4750_4653, "gpfs"),
    (0x1983_0326, "beegfs"),
    (0xAAD7_AAEA, "panfs"),
    (0x0131_11A8, "ibrix"),
    (0x6163_6673, "acfs"),
    (0xBEEF_DEAD, "snfs"),
    (0x0000_564C, "ncp"),
    (0x7375_7245, "coda"),
    // Shared-disk cluster filesystems: other nodes write to the same blocks.
    (0x7461_636F, "ocfs2"),
    (0x0116_1970, "gfs2"),
    (0xA501_FCF5, "vxfs"),
    // Folders shared by a VM host, written by the host.
    (0x786F_4256, "vboxsf"),
    (0xBACB_ACBC, "vmhgfs"),
    (0x7C7C_6673, "prl_fs"),
];

impl FsKind {
    /// The kind of the filesystem with this `statfs` magic number (`f_type`).
    pub fn of_magic(magic: u64) -> FsKind {
        // Only the low 32 bits are a magic number (f_type is a signed word on some targets).
        let magic = magic & 0xFFFF_FFFF;
        REMOTE.iter().find(|(m, _)| *m == magic).map_or(FsKind::Local, |&(_, name)| FsKind::Remote(name))
    }

    /// The kind of the filesystem holding `path` (which must exist).
    pub fn of_path(path: &Path) -> FsKind {
        match statfs_magic(path) {
            Some(m) => FsKind::of_magic(m),
            None => FsKind::Unknown,
        }
    }

    /// True when every write to this filesystem is notified.
    pub fn trusted(self) -> bool {
        self == FsKind::Local
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn statfs_magic(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a valid NUL-terminated string and `buf` a properly sized, writable struct
    // that statfs fills in; it is read only when the call succeeded.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statfs(c.as_ptr(), &mut buf) };
    // f_type's integer type differs between targets; a magic number fits in 32 bits.
    #[allow(clippy::unnecessary_cast)]
    (rc == 0).then_some(buf.f_type as u64)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn statfs_magic(_path: &Path) -> Option<u64> {
    None
}

/// How far notifications can be relied on for every place watched, right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// No notifications at all (`--poll`, or inotify unavailable): the poll is everything.
    PollOnly,
    /// Every watched directory is on a local filesystem and watched, and no event was lost
    /// lately: notifications carry every change and the poll is only a rare safety net.
    Local,
    /// Some change could go unnoticed; why (a network filesystem, a watch that could not be
    /// added, lost events).
    Untrusted(String),
}

impl Trust {
    /// The trust for a watcher: `has_watcher` is false with `--poll` or without inotify; `dirs`
    /// are the watched directories with their kinds; `unwatched` a directory whose watch could
    /// not be added (missing, or the inotify limit reached); `lost_events` is true after a
    /// notification error or queue overflow.
    pub fn decide<'a>(
        opts: &SourceOptions,
        has_watcher: bool,
        mut dirs: impl Iterator<Item = (&'a Path, FsKind)>,
        unwatched: Option<&Path>,
        lost_events: bool,
    ) -> Trust {
        if opts.poll.is_some() || !has_watcher {
            return Trust::PollOnly;
        }
        if opts.distrust_notifications {
            return Trust::Untrusted("notifications distrusted by option".into());
        }
        if let Some(d) = unwatched {
            return Trust::Untrusted(format!("{} is not watched", d.display()));
        }
        if lost_events {
            return Trust::Untrusted("file notifications were lost".into());
        }
        match dirs.find(|(_, k)| !k.trusted()) {
            Some((d, FsKind::Remote(name))) => Trust::Untrusted(format!("{} is on {name}", d.display())),
            Some((d, _)) => Trust::Untrusted(format!("{}: filesystem unknown", d.display())),
            None => Trust::Local,
        }
    }

    /// The interval of the stat poll of every file (and of the directory search) under this trust.
    pub fn interval(&self, opts: &SourceOptions) -> Duration {
        match self {
            Trust::PollOnly => opts.poll.unwrap_or(opts.safety_poll),
            Trust::Local => opts.local_safety_poll.max(opts.safety_poll),
            Trust::Untrusted(_) => opts.safety_poll,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn network_and_shared_filesystems_are_remote() {
        for (magic, name) in [
            (0x6969, "nfs"),
            (0x517B, "smb"),
            (0xFF53_4D42, "cifs"),
            (0xFE53_4D42, "smb2"),
            (0x6573_5546, "fuse"),
            (0x0102_1997, "9p"),
            (0x00C3_6400, "ceph"),
            (0x5346_414F, "afs"),
            (0x0BD0_0BD0, "lustre"),
            (0x4750_4653, "gpfs"),
        ] {
            assert_eq!(FsKind::of_magic(magic), FsKind::Remote(name), "{magic:#x}");
            assert!(!FsKind::of_magic(magic).trusted());
        }
    }

    #[test]
    fn local_filesystems_are_trusted() {
        // ext2/3/4, xfs, btrfs, tmpfs, overlay, zfs
        for magic in [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0x794C_7630, 0x2FC1_2FC1] {
            assert_eq!(FsKind::of_magic(magic), FsKind::Local, "{magic:#x}");
            assert!(FsKind::of_magic(magic).trusted());
        }
        assert!(!FsKind::Unknown.trusted());
    }

    #[test]
    fn a_sign_extended_magic_is_read_as_32_bits() {
        // CIFS's magic in a signed 32-bit f_type, widened with its sign.
        let widened = 0xFF53_4D42_u32 as i32 as i64 as u64;
        assert_eq!(FsKind::of_magic(widened), FsKind::Remote("cifs"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_temporary_directory_here_is_local_and_a_missing_path_unknown() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(FsKind::of_path(dir.path()), FsKind::Local);
        assert_eq!(FsKind::of_path(&dir.path().join("not-there")), FsKind::Unknown);
    }

    fn opts() -> SourceOptions {
        SourceOptions::default()
    }

    #[test]
    fn trust_needs_a_watcher_local_dirs_all_watched_and_no_lost_events() {
        let a = PathBuf::from("a");
        let b = PathBuf::from("b");
        let local = [(a.as_path(), FsKind::Local), (b.as_path(), FsKind::Local)];
        let o = opts();
        assert_eq!(Trust::decide(&o, true, local.into_iter(), None, false), Trust::Local);
        assert_eq!(Trust::decide(&o, false, local.into_iter(), None, false), Trust::PollOnly);
        let nfs = [(a.as_path(), FsKind::Local), (b.as_path(), FsKind::Remote("nfs"))];
        assert_eq!(
            Trust::decide(&o, true, nfs.into_iter(), None, false),
            Trust::Untrusted("b is on nfs".into())
        );
        let unknown = [(a.as_path(), FsKind::Unknown)];
        assert!(matches!(Trust::decide(&o, true, unknown.into_iter(), None, false), Trust::Untrusted(_)));
        assert!(matches!(
            Trust::decide(&o, true, local.into_iter(), Some(Path::new("c")), false),
            Trust::Untrusted(r) if r.contains("not watched")
        ));
        assert!(matches!(Trust::decide(&o, true, local.into_iter(), None, true), Trust::Untrusted(_)));
        let distrust = SourceOptions { distrust_notifications: true, ..opts() };
        assert!(matches!(
            Trust::decide(&distrust, true, local.into_iter(), None, false),
            Trust::Untrusted(_)
        ));
        let poll = SourceOptions::with_poll(Some(Duration::from_millis(250)));
        assert_eq!(Trust::decide(&poll, true, local.into_iter(), None, false), Trust::PollOnly);
    }

    #[test]
    fn only_trusted_notifications_slow_the_poll_down() {
        let o = opts();
        assert_eq!(Trust::Local.interval(&o), o.local_safety_poll);
        assert!(o.local_safety_poll >= Duration::from_secs(10), "the local poll is a rare safety net");
        assert_eq!(Trust::Untrusted("x".into()).interval(&o), Duration::from_secs(1));
        assert_eq!(Trust::PollOnly.interval(&o), Duration::from_secs(1));
        let poll = SourceOptions::with_poll(Some(Duration::from_millis(250)));
        assert_eq!(Trust::PollOnly.interval(&poll), Duration::from_millis(250));
        // A local poll set below the safety poll never makes trusted watching poll faster.
        let fast = SourceOptions { local_safety_poll: Duration::from_millis(10), ..opts() };
        assert_eq!(Trust::Local.interval(&fast), fast.safety_poll);
    }
}
