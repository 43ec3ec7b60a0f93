//! The container image's binary, checked without a container engine: `docker/build-static.sh`
//! (the script the Dockerfile runs) builds it, here in the dev profile without debug info to
//! save time (the Dockerfile builds release with the same flags), into its own target folder
//! (`target/static-check`: the outer `cargo test` holds the lock of the usual one). Then:
//! its ELF has no interpreter and needs no shared library, it serves and answers its own
//! `--healthcheck` (the image's HEALTHCHECK), and, when run as root, it does all that inside
//! an empty chroot holding nothing but itself and an `/etc/hosts`, as in a `FROM scratch` image.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// ELF program header and dynamic section values (System V gABI).
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;

fn static_check_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .join("static-check")
}

fn build_static(output: &Path) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new("sh")
        .arg(manifest.join("docker/build-static.sh"))
        .arg(output)
        .env("PROFILE", "dev")
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env("CARGO_TARGET_DIR", static_check_dir())
        .env("CARGO", cargo)
        .stdin(Stdio::null())
        .status()
        .expect("running docker/build-static.sh");
    assert!(status.success(), "docker/build-static.sh failed: {status}");
}

fn u16_at(bytes: &[u8], at: usize) -> usize {
    u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// Why an ELF file would need a dynamic loader or shared libraries; empty when it needs none.
/// (A static-pie has a dynamic section for its own relocations, but no `DT_NEEDED`.)
fn dynamic_needs(elf: &[u8]) -> Vec<String> {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not a 64-bit ELF");
    assert_eq!(elf[5], 1, "not little-endian");
    let phoff = u64_at(elf, 0x20) as usize;
    let phentsize = u16_at(elf, 0x36);
    let phnum = u16_at(elf, 0x38);
    let mut needs = Vec::new();
    for i in 0..phnum {
        let header = phoff + i * phentsize;
        let kind = u32_at(elf, header);
        let offset = u64_at(elf, header + 8) as usize;
        let size = u64_at(elf, header + 32) as usize;
        match kind {
            PT_INTERP => {
                let path = String::from_utf8_lossy(&elf[offset..offset + size]);
                needs.push(format!("interpreter {}", path.trim_end_matches('\0')));
            }
            PT_DYNAMIC => {
                for entry in elf[offset..offset + size].chunks_exact(16) {
                    match u64_at(entry, 0) {
                        DT_NULL => break,
                        DT_NEEDED => needs.push("a DT_NEEDED shared library".to_string()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    needs
}

/// A server process; killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` and reads the port from its startup line.
fn serve(mut cmd: Command) -> (Server, u16) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let server = Server(child);
    let port = line
        .split_once("http://")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|addr| addr.rsplit_once(':'))
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no address in the startup line {line:?}"));
    (server, port)
}

fn healthy(mut cmd: Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

#[test]
fn the_image_binary_is_static_and_answers_its_health_check() {
    let dir = static_check_dir();
    let binary = dir.join("eventbridge-local");
    build_static(&binary);

    let elf = std::fs::read(&binary).unwrap();
    let needs = dynamic_needs(&elf);
    assert!(
        needs.is_empty(),
        "{} is not static: {needs:?}",
        binary.display()
    );
    // The binary the other tests run is dynamic: the check can tell them apart.
    let dynamic = std::fs::read(env!("CARGO_BIN_EXE_eventbridge-local")).unwrap();
    assert!(!dynamic_needs(&dynamic).is_empty());

    let mut cmd = Command::new(&binary);
    cmd.args(["--host", "127.0.0.1", "--port", "0", "--in-memory"]);
    let (server, port) = serve(cmd);
    let mut check = Command::new(&binary);
    check.args(["--port", &port.to_string(), "--healthcheck"]);
    healthy(check);
    drop(server);

    if !is_root() || Command::new("chroot").arg("--version").output().is_err() {
        eprintln!("not root (or no chroot): the empty-root run is left out");
        return;
    }
    // An empty root as in the image: the binary, /data, /tmp and the /etc/hosts that a
    // container engine mounts. Names resolve through it without any NSS library.
    let jail = dir.join("jail");
    let _ = std::fs::remove_dir_all(&jail);
    for sub in ["data", "tmp", "etc"] {
        std::fs::create_dir_all(jail.join(sub)).unwrap();
    }
    std::fs::copy(&binary, jail.join("eventbridge-local")).unwrap();
    // `localhost` resolves only through this file here (there is no resolver library); it is
    // also a host name the server accepts on loopback (others are refused as DNS rebinding).
    std::fs::write(jail.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
    let mut cmd = Command::new("chroot");
    cmd.arg(&jail).args([
        "/eventbridge-local",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        "/data",
    ]);
    let (server, port) = serve(cmd);
    let mut check = Command::new("chroot");
    check.arg(&jail).args([
        "/eventbridge-local",
        "--healthcheck",
        &format!("http://localhost:{port}/_local/health"),
    ]);
    healthy(check);
    drop(server);
    assert!(
        jail.join("data/archive-log").is_dir(),
        "the data folder was not used"
    );
}
