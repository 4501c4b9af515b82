//! A real `redis-server` for the integration tests, started on a free loopback port and
//! stopped when dropped. Without `redis-server` on the PATH, [`Server::start`] says so and
//! returns `None` (the test then passes), except under CI (`CI` set), where it fails: CI
//! installs Redis.

// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`, killed (and its directory removed) on drop.
pub struct Server {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    dir: std::path::PathBuf,
    args: Vec<String>,
}

impl Server {
    /// A plain server on a free port, or `None` (outside CI) without `redis-server`.
    pub fn start() -> Option<Server> {
        Server::start_with(|_, port| vec!["--port".into(), port.to_string()])
    }

    /// A server whose port options `args` gives, from its data directory and a free port.
    pub fn start_with(args: impl FnOnce(&std::path::Path, u16) -> Vec<String>) -> Option<Server> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is not installed, and CI must run these tests"
            );
            eprintln!("redis-server not found: skipping");
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("rustocache-redis-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let args = args(&dir, port);
        let child = spawn(&args, &dir, port);
        Some(Server {
            child,
            port,
            dir,
            args,
        })
    }

    /// A server that speaks TLS only, with a self-signed certificate made in its directory
    /// by `openssl`; `None` (outside CI) without `redis-server` or `openssl`.
    pub fn start_tls() -> Option<Server> {
        if Command::new("openssl").arg("version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "openssl is needed under CI"
            );
            return None;
        }
        Server::start_with(|dir, port| {
            let made = Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "1",
                    "-subj",
                    "/CN=127.0.0.1",
                ])
                .args(["-keyout", "key.pem", "-out", "cert.pem"])
                .current_dir(dir)
                .output()
                .unwrap();
            assert!(
                made.status.success(),
                "openssl: {}",
                String::from_utf8_lossy(&made.stderr)
            );
            [
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--tls-cert-file",
                "cert.pem",
                "--tls-key-file",
                "key.pem",
            ]
            .into_iter()
            .chain(["--tls-ca-cert-file", "cert.pem", "--tls-auth-clients", "no"])
            .map(String::from)
            .collect()
        })
    }

    /// Its `rediss://` URL, for a server from [`Server::start_tls`]. `#insecure` skips the
    /// verification of the self-signed certificate (and only that).
    pub fn tls_url(&self) -> String {
        format!("rediss://127.0.0.1:{}/#insecure", self.port)
    }

    /// Kills the server and starts it again on the same port, empty: every client loses
    /// its connection, and connecting is refused until it is back.
    pub fn restart(&mut self, down_for: Duration) {
        self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(down_for);
        self.child = spawn(&self.args, &self.dir, self.port);
    }

    /// Its `redis://` URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Sends `signal` (`-STOP`, `-CONT`, ...) to the server process.
    pub fn signal(&self, signal: &str) {
        Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
    }

    /// Runs one command over a plain connection of its own, ignoring the reply.
    pub fn raw(&self, args: &[&[u8]]) {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_connection().unwrap();
        let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        cmd.query::<redis::Value>(&mut conn).unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on at the moment of asking.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `redis-server` with `args` in `dir` and waits until it accepts connections.
fn spawn(args: &[String], dir: &std::path::Path, port: u16) -> Child {
    let mut child = Command::new("redis-server")
        .args(args)
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-server did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}
