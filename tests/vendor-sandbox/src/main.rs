//! `vendor-sandbox --port 0 [--latency-ms N] [--slow-ms N]`
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first stdout line (scripts parse it),
//! then serves until killed. Loopback only.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;
use vendor_sandbox::Options;

const USAGE: &str = "usage: vendor-sandbox [--port N] [--latency-ms N] [--slow-ms N]";

fn parse_args() -> Result<(u16, Options), String> {
    let mut port = 0u16;
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number\n{USAGE}"))
        };
        match arg.as_str() {
            "--port" => {
                port = u16::try_from(value("--port")?).map_err(|_| "--port: 0..65535".to_owned())?
            }
            "--latency-ms" => options.latency = Duration::from_millis(value("--latency-ms")?),
            "--slow-ms" => options.slow = Duration::from_millis(value("--slow-ms")?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok((port, options))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (port, options) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let sandbox = match vendor_sandbox::start(port, options).await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("vendor-sandbox: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {}", sandbox.url());
    let _ = stdout.flush();
    sandbox.wait().await;
    ExitCode::SUCCESS
}
