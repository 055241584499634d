//! `cargo xtask bench`: the release binary on SQLite and on PostgreSQL under a real HTTP load
//! generator (Debian's `wrk`) and the xtask's own client threads for orders and webhooks, every
//! figure beside its baseline measured in the same run, as a ratio — the machine is shared and
//! noisy, so absolute numbers mean little and ratios a lot. Writes `docs/benchmarks.md` and
//! `docs/benchmarks.svg`, and fails when a target does not hold.

mod catalogue;
mod load;
mod orders;
mod server;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use load::{memory, script, sign_ins, wrk, wrk_with};
use orders::{PURCHASES, analyze, history, million_sessions, settle_outbox, webhooks};
pub(crate) use server::{Running, agent, member_session, serve, sign_in};
use server::{session, start};

/// Where the server under test keeps its data.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite,
    /// A PostgreSQL server's URL with the database part left for the run's own database.
    Postgres(String),
}

impl Backend {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }
}

/// One row of the results.
struct Row {
    backend: &'static str,
    what: String,
    figure: String,
    target: String,
    holds: bool,
}

/// Throughputs for the plot: (backend, endpoint, requests per second).
type Bar = (&'static str, String, f64);

/// Every benchmark on one backend.
#[allow(clippy::too_many_lines, reason = "one run, step by step")]
fn run(
    binary: &Path,
    backend: &Backend,
    seconds: u32,
    webhooks_only: bool,
    rows: &mut Vec<Row>,
    bars: &mut Vec<Bar>,
) -> Result<(), String> {
    let name = backend.name();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut row = |what: &str, figure: String, target: &str, holds: bool| {
        rows.push(Row {
            backend: name,
            what: what.to_owned(),
            figure,
            target: target.to_owned(),
            holds,
        });
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;

    let server = start(binary, backend, true)?;
    let pid = server.child.id();
    std::thread::sleep(Duration::from_secs(1));
    let (idle, _) = memory(pid);
    let cookie = session(&server)?;
    let base = server.base.clone();
    if webhooks_only {
        catalogue::import(binary, &server, PURCHASES)?;
        return webhooks(name, &server, &cookie, &mut row, bars);
    }

    // Statistics on (this server) and off (a second one), measured first, while both servers
    // are equally fresh: once the session-lookup load below has run, the first server's hit
    // table holds hundreds of thousands of rows the second one never saw. One unrecorded
    // warm-up each, then alternating, three rounds each: the machine's drift falls on both alike.
    let without_stats = start(binary, backend, false)?;
    let products = format!("{base}/api/v1/products");
    let products_off = format!("{}/api/v1/products", without_stats.base);
    wrk(&products, 64, 1, None)?;
    wrk(&products_off, 64, 1, None)?;
    let (mut on, mut off) = (0.0, 0.0);
    for _ in 0..3 {
        on += wrk(&products, 64, seconds, None)?.rps / 3.0;
        off += wrk(&products_off, 64, seconds, None)?.rps / 3.0;
    }
    drop(without_stats);
    let stats_ratio = on / off;
    row(
        "`GET /api/v1/products`, statistics on vs off, alternating 3 × 2 runs (`/healthz` is never recorded)",
        format!(
            "{on:.0} vs {off:.0} req/s = {:.1}% (loss {:.1}%)",
            stats_ratio * 100.0,
            (1.0 - stats_ratio) * 100.0
        ),
        "loss < 5%",
        stats_ratio >= 0.95,
    );
    bars.push((name, "GET /api/v1/products".to_owned(), on));
    let health = wrk(&format!("{base}/healthz"), 64, seconds, None)?;
    let me = wrk(&format!("{base}/api/v1/me"), 64, seconds, Some(&cookie))?;
    let ratio = me.rps / health.rps;
    row(
        "`GET /api/v1/me` (session lookup) vs `GET /healthz`",
        format!(
            "{:.0} vs {:.0} req/s = {:.0}% (p50/p99 {:.1}/{:.1} vs {:.1}/{:.1} ms)",
            me.rps,
            health.rps,
            ratio * 100.0,
            me.p50,
            me.p99,
            health.p50,
            health.p99
        ),
        "≥ 50%",
        ratio >= 0.5,
    );
    bars.push((name, "GET /healthz".to_owned(), health.rps));
    bars.push((name, "GET /api/v1/me".to_owned(), me.rps));

    let wide = wrk(&format!("{base}/healthz"), 256, seconds, None)?;

    let (signins, ceiling, health_under_hashing) = sign_ins(&server, cores, seconds)?;
    let share = signins / ceiling;
    row(
        "sign-ins vs the argon2 ceiling (cores ÷ one sign-in alone)",
        format!("{signins:.1} vs {ceiling:.1} per s = {:.0}%", share * 100.0),
        "≥ 80%",
        share >= 0.8,
    );
    row(
        "`GET /healthz` p99 (400 req/s) while sign-ins saturate the CPU",
        format!("{health_under_hashing:.1} ms"),
        "< 20 ms",
        health_under_hashing < 20.0,
    );
    bars.push((name, "POST /api/v1/sessions".to_owned(), signins));

    // 10,000 pieces imported while the service runs, then the catalogue's pages and searches.
    let timings = catalogue::import(binary, &server, PURCHASES)?;
    catalogue::pages(name, binary, &server, seconds, timings, &mut row, bars)?;

    // 10,000 orders of those pieces, 10,000 webhook events: the history and the webhook rate.
    webhooks(name, &server, &cookie, &mut row, bars)?;

    // The postman sends the 10,000 receipts after their events: let it finish first, so the
    // history is measured on its own.
    settle_outbox(&server.data.path().join("outbox"));
    if let Backend::Postgres(_) = backend {
        // 10,000 orders arrived in seconds; autovacuum refreshes the planner's statistics
        // within a minute of such a change, and this does it now.
        analyze(&server)?;
    }
    let (count, deep) = history(&base, &cookie)?;
    if count != PURCHASES {
        return Err(format!(
            "the history holds {count} purchases, not {PURCHASES}"
        ));
    }
    let first = wrk(
        &format!("{base}/api/v1/me/purchases?limit=20"),
        4,
        seconds,
        Some(&cookie),
    )?;
    let deep_page = wrk(
        &format!("{base}/api/v1/me/purchases?limit=20&after={deep}"),
        4,
        seconds,
        Some(&cookie),
    )?;
    row(
        "purchase history of 10,000: first page vs a deep page (≈ 9,900th), 4 connections",
        format!(
            "p99 {:.1} vs {:.1} ms (p50 {:.1} vs {:.1} ms; {:.0} vs {:.0} req/s)",
            first.p99, deep_page.p99, first.p50, deep_page.p50, first.rps, deep_page.rps
        ),
        "both p99 < 5 ms",
        first.p99 < 5.0 && deep_page.p99 < 5.0,
    );
    bars.push((name, "purchases, first page".to_owned(), first.rps));
    bars.push((name, "purchases, deep page".to_owned(), deep_page.rps));

    // A million stored sessions: lookups stay index-bound, the process does not grow.
    let (before, _) = memory(pid);
    let inserted = million_sessions(&server, backend)?;
    let unknown = script(
        dir.path(),
        "unknown.lua",
        "request = function()\n\
           wrk.headers[\"Cookie\"] = \"kikeru_session=\" .. math.random(1, 2147483647) .. \"x\" .. math.random(1, 2147483647)\n\
           return wrk.format()\n\
         end\n",
    )?;
    let misses = wrk_with(
        &format!("{base}/api/v1/me"),
        64,
        seconds,
        None,
        Some(&unknown),
        true,
    )?;
    let me_after = wrk(&format!("{base}/api/v1/me"), 64, seconds, Some(&cookie))?;
    let (after, peak) = memory(pid);
    let growth = after - before;
    row(
        "one million stored sessions: resident memory before vs after (and lookups of unknown tokens)",
        format!(
            "{before:.1} → {after:.1} MiB (+{growth:.1}); inserted in {:.1} s; unknown tokens {:.0} req/s; `/api/v1/me` {:.0} req/s",
            inserted.as_secs_f64(),
            misses.rps,
            me_after.rps
        ),
        "growth < 16 MiB",
        growth < 16.0,
    );
    row(
        "resident memory, idle",
        format!("{idle:.1} MiB"),
        "< 64 MiB",
        idle < 64.0,
    );
    row(
        "peak resident memory over every run (256 connections, the sign-in burst, 10,000 orders)",
        format!(
            "{peak:.1} MiB (p50/p99 at 256 connections {:.1}/{:.1} ms)",
            wide.p50, wide.p99
        ),
        "< 256 MiB",
        peak < 256.0,
    );
    drop(server);
    Ok(())
}

/// A horizontal bar chart of throughput per endpoint and backend, on a log scale.
fn plot(bars: &[Bar]) -> String {
    let height = 28 * bars.len() + 60;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <title>Throughput per endpoint (requests or events per second, log scale)</title>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\">Throughput per endpoint — requests (or events) per second, log scale</text>\n"
    );
    let scale = |v: f64| (v.max(1.0).log10() / 6.0 * 420.0).round();
    for decade in 0..=6 {
        let x = 300.0 + f64::from(decade) / 6.0 * 420.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{x}\" y1=\"32\" x2=\"{x}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">1e{decade}</text>",
            height - 24,
            height - 10
        );
    }
    for (i, (backend, endpoint, value)) in bars.iter().enumerate() {
        let y = 40 + 28 * i;
        let colour = if *backend == "SQLite" {
            "#3b6ea5"
        } else {
            "#c0733a"
        };
        let _ = writeln!(
            svg,
            "<text x=\"290\" y=\"{}\" text-anchor=\"end\">{endpoint} ({backend})</text>\
             <rect x=\"300\" y=\"{y}\" width=\"{}\" height=\"18\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\">{value:.0}</text>",
            y + 13,
            scale(*value),
            305.0 + scale(*value),
            y + 13
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Runs the benchmarks and writes `docs/benchmarks.md` and `docs/benchmarks.svg`.
pub(crate) fn bench(root: &Path, cargo: &mut Command, args: &[String]) -> Result<(), String> {
    let mut seconds = 8;
    let mut postgres = std::env::var("KIKERU_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let mut sqlite_only = false;
    let mut postgres_only = false;
    let mut webhooks_only = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|s| *s >= 3)
                    .ok_or("--seconds needs a number of at least 3")?;
            }
            "--postgres" => {
                args.next()
                    .ok_or(
                        "--postgres needs a server URL, e.g. postgres://postgres@127.0.0.1:5432",
                    )?
                    .clone_into(&mut postgres);
            }
            "--sqlite-only" => sqlite_only = true,
            "--postgres-only" => postgres_only = true,
            "--webhooks-only" => webhooks_only = true,
            other => {
                return Err(format!(
                    "unknown option {other}; usage: cargo xtask bench [--seconds N] [--postgres URL] [--sqlite-only | --postgres-only] [--webhooks-only]"
                ));
            }
        }
    }
    let binary = crate::kikeru_binary(root, cargo, true)?;
    if sqlite_only && postgres_only {
        return Err("--sqlite-only and --postgres-only exclude each other".to_owned());
    }
    let mut backends = Vec::new();
    if !postgres_only {
        backends.push(Backend::Sqlite);
    }
    if !sqlite_only {
        backends.push(Backend::Postgres(postgres.trim_end_matches('/').to_owned()));
    }
    let mut rows = Vec::new();
    let mut bars = Vec::new();
    for backend in &backends {
        run(
            &binary,
            backend,
            seconds,
            webhooks_only,
            &mut rows,
            &mut bars,
        )?;
    }
    if webhooks_only || postgres_only {
        // A partial run reports its rows and leaves the whole run's report alone.
        for row in &rows {
            #[allow(clippy::print_stdout, reason = "the command's report")]
            {
                println!(
                    "{}: {}: {} (target {})",
                    row.backend, row.what, row.figure, row.target
                );
            }
        }
        return if rows.iter().all(|r| r.holds) {
            Ok(())
        } else {
            Err("a benchmark target does not hold".to_owned())
        };
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);

    let mut report = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench`: the release binary on SQLite (embedded \
         defaults) and on PostgreSQL, logs at `warn`, loaded with Debian's `wrk` (2 threads, 64 \
         connections, {seconds} s each, unless a row says otherwise) and, for orders and webhooks, \
         8 client threads of the xtask itself, all on the same machine. Figures are ratios against \
         a baseline measured in the same run, because the machine is shared and noisy.\n\n"
    );
    let _ = writeln!(
        report,
        "Run on {} — machine: {cores} cores; `{}`. Command: `cargo xtask bench`.\n",
        today(),
        uname()
    );
    report.push_str(
        "| backend | measure | figure | target | holds |\n| --- | --- | --- | --- | --- |\n",
    );
    for row in &rows {
        let _ = writeln!(
            report,
            "| {} | {} | {} | {} | {} |",
            row.backend,
            row.what,
            row.figure,
            row.target,
            if row.holds { "yes" } else { "**no**" }
        );
    }
    report.push_str(
        "\nThroughput per endpoint: ![throughput per endpoint](benchmarks.svg)\n\n\
         How the figures are made: statistics on and off are measured first, on two servers \
         started alike and given one unrecorded warm-up each, alternating; the session lookup \
         is compared with `/healthz` of the same binary; sign-ins are compared with the argon2 ceiling, the number of cores divided by \
         the mean time of one sign-in alone; `/healthz` is probed at a steady 400 requests per \
         second while sign-ins saturate the CPU; the catalogue of 10,000 pieces (titles and \
         descriptions in both languages, 100 creators, tags) is imported by `kikeru catalog \
         import` while the service runs, timed until the API lists every piece, and its pages \
         and searches are compared with `/healthz` measured just before them; \
         the purchase history belongs to a member with \
         10,000 paid orders, placed through the API and paid by 10,000 signed webhook events, \
         all delivered a second time to prove each applies once; the million sessions are \
         inserted straight into the database while the server runs. On PostgreSQL the planner's \
         statistics are refreshed (`ANALYZE`) after the 10,000 orders, as autovacuum does within \
         a minute of such a change.\n",
    );
    std::fs::write(root.join("docs/benchmarks.md"), &report).map_err(|e| e.to_string())?;
    std::fs::write(root.join("docs/benchmarks.svg"), plot(&bars)).map_err(|e| e.to_string())?;
    #[allow(clippy::print_stdout, reason = "the command's report")]
    {
        println!("{report}");
    }
    if rows.iter().all(|r| r.holds) {
        Ok(())
    } else {
        Err("a benchmark target does not hold (see docs/benchmarks.md)".to_owned())
    }
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn uname() -> String {
    Command::new("uname")
        .arg("-srm")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
