//! Load and its measures: `wrk` runs (optionally scripted), concurrent sign-ins against the
//! argon2 ceiling, and the resident memory of a process.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::server::{PASSWORD, Running, SIGN_IN_PEOPLE, sign_in_people};

/// One `wrk` run's figures.
#[derive(Debug, Clone, Copy)]
pub(super) struct Load {
    pub(super) rps: f64,
    pub(super) p50: f64,
    pub(super) p99: f64,
    pub(super) mean: f64,
}

/// `wrk` for `seconds` with `connections`; every answer must be a success.
pub(super) fn wrk(
    url: &str,
    connections: u32,
    seconds: u32,
    cookie: Option<&str>,
) -> Result<Load, String> {
    wrk_with(url, connections, seconds, cookie, None, false)
}

/// `wrk`, optionally driven by a Lua script, optionally accepting error answers.
pub(super) fn wrk_with(
    url: &str,
    connections: u32,
    seconds: u32,
    cookie: Option<&str>,
    script: Option<&Path>,
    errors_expected: bool,
) -> Result<Load, String> {
    let mut command = Command::new("wrk");
    let threads = if connections == 1 { "-t1" } else { "-t2" };
    command.args([
        threads,
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(cookie) = cookie {
        command.args(["-H", &format!("Cookie: {cookie}")]);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command
        .arg(url)
        .output()
        .map_err(|e| format!("wrk (apt-get install wrk): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no throughput in wrk's output:\n{text}"))?;
    let percentile = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(str::trim)
            .and_then(millis)
    };
    let p50 = percentile("50%").ok_or_else(|| format!("no p50 in wrk's output:\n{text}"))?;
    let p99 = percentile("99%").ok_or_else(|| format!("no p99 in wrk's output:\n{text}"))?;
    if text.contains("Non-2xx") && !errors_expected {
        return Err(format!("{url} answered errors under load:\n{text}"));
    }
    let mean = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Latency"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(millis)
        .ok_or_else(|| format!("no mean latency in wrk's output:\n{text}"))?;
    Ok(Load {
        rps,
        p50,
        p99,
        mean,
    })
}

pub(super) fn script(dir: &Path, name: &str, text: &str) -> Result<std::path::PathBuf, String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

/// Sign-ins as fast as they go, from many made-up client addresses (the per-client limit
/// stays on), against the argon2 ceiling — cores ÷ one sign-in's time alone; then, while
/// sign-ins saturate the CPU again, `/healthz` at a steady 400 requests per second (a probe's
/// load, not a second saturating load competing for the same cores): its p99.
pub(super) fn sign_ins(
    server: &Running,
    cores: usize,
    seconds: u32,
) -> Result<(f64, f64, f64), String> {
    sign_in_people(server)?;
    let base = server.base.as_str();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sign_in = script(
        dir.path(),
        "sign-in.lua",
        &format!(
            "wrk.method = \"POST\"\n\
             wrk.headers[\"Content-Type\"] = \"application/json\"\n\
             wrk.headers[\"Origin\"] = \"{base}\"\n\
             local threads = 0\n\
             setup = function(thread)\n\
               threads = threads + 1\n\
               thread:set(\"id\", threads)\n\
             end\n\
             init = function(args)\n\
               math.randomseed(os.time() * 1000 + id)\n\
             end\n\
             request = function()\n\
               wrk.headers[\"X-Forwarded-For\"] = \"10.\" .. math.random(0, 255) .. \".\" .. math.random(0, 255) .. \".\" .. math.random(1, 254)\n\
               wrk.body = '{{\"email\":\"sign-in-' .. math.random(1, {SIGN_IN_PEOPLE}) .. '@example.jp\",\"password\":\"{PASSWORD}\"}}'\n\
               return wrk.format()\n\
             end\n"
        ),
    )?;
    let paced = script(
        dir.path(),
        "paced.lua",
        "delay = function() return 10 end\n",
    )?;
    let url = format!("{base}/api/v1/sessions");
    let alone = wrk_with(&url, 1, 5, None, Some(&sign_in), false)?;
    let ceiling = cores as f64 * 1000.0 / alone.mean;
    let loaded = wrk_with(&url, 16, seconds, None, Some(&sign_in), false)?;
    let health_url = format!("{base}/healthz");
    let probe_seconds = seconds.saturating_sub(2).max(2);
    let health = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        wrk_with(&health_url, 4, probe_seconds, None, Some(&paced), false)
    });
    wrk_with(&url, 16, seconds, None, Some(&sign_in), false)?;
    let health = health
        .join()
        .map_err(|_| "the /healthz load failed".to_owned())??;
    Ok((loaded.rps, ceiling, health.p99))
}

pub(super) fn millis(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(v) = text.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = text.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = text.strip_suffix('s') {
        (v, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// The process's resident memory now and at its peak, in MiB.
pub(super) fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
