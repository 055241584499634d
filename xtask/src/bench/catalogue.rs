//! The catalogue side of the benchmark: 10,000 pieces with Japanese and English titles and
//! descriptions, creators and tags, imported by the binary's own command while the service runs;
//! how long until every node shows them; then catalogue pages, a product page and searches,
//! each against `/healthz` of the same binary measured just before, and the resident memory.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Bar;
use super::load::{memory, wrk};
use super::server::{Running, agent, call, free_port};

/// Words the titles are made of: a search for one of the second list finds one piece in ten.
const SCENES: [&str; 10] = [
    "夕凪の",
    "朝霧の",
    "雨音の",
    "星空の",
    "森の",
    "海辺の",
    "月夜の",
    "木漏れ日の",
    "雪の",
    "風の",
];
const THINGS: [&str; 10] = [
    "子守唄",
    "ララバイ",
    "散歩道",
    "記憶",
    "ささやき",
    "ワルツ",
    "物語",
    "祈り",
    "鐘",
    "旅",
];
const THINGS_EN: [&str; 10] = [
    "Lullaby", "Lullaby", "Path", "Memory", "Whisper", "Waltz", "Tale", "Prayer", "Bell", "Journey",
];

/// The catalogue file of `count` pieces (CSV, as operators write it).
pub(super) fn file(count: usize) -> String {
    let mut csv = String::from(
        "sku,title_ja,title_en,description_ja,description_en,price,audio,creator_key,creator_ja,creator_en,tags\n",
    );
    for n in 0..count {
        let (scene, thing) = (SCENES[n % 10], THINGS[(n / 10) % 10]);
        let creator = n % 100;
        let _ = writeln!(
            csv,
            "BENCH-{n:05},{scene}{thing} 第{n}番,{} {n},\
             {scene}情景を{thing}にした、静かな夜に聴きたい約三十分の作品です。録音は日本各地で行いました。,\
             A quiet piece of about thirty minutes for the night; recorded across Japan.,\
             {},demo/demo-001.wav,creator-{creator:02},作家{creator:02},Creator {creator:02},{}|夜",
            THINGS_EN[(n / 10) % 10],
            330 + (n % 20) * 110,
            if n % 2 == 0 { "睡眠" } else { "自然音" },
        );
    }
    csv
}

/// How many pieces the API lists.
fn listed(server: &Running) -> Result<u64, String> {
    let (_, page) = call(
        &agent(),
        "GET",
        &format!("{}/api/v1/products?limit=1", server.base),
        &[],
        None,
    )?;
    page["total"]
        .as_u64()
        .ok_or_else(|| format!("no total in {page}"))
}

/// Waits until the API lists `expected` pieces; how long that took.
fn visible(server: &Running, expected: u64) -> Result<Duration, String> {
    let began = Instant::now();
    loop {
        let total = listed(server)?;
        if total == expected {
            return Ok(began.elapsed());
        }
        if began.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "the import was not visible after a minute: {total} of {expected} listed"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Imports `count` pieces with `kikeru catalog import` while the service runs: the import's own
/// time, and the time from its end until the running service lists every piece.
pub(super) fn import(
    binary: &Path,
    server: &Running,
    count: usize,
) -> Result<(Duration, Duration), String> {
    let before = listed(server)?;
    let path = server.data.path().join("bench-catalogue.csv");
    std::fs::write(&path, file(count)).map_err(|e| e.to_string())?;
    let began = Instant::now();
    let status = Command::new(binary)
        .args(["catalog", "import"])
        .arg(&path)
        .env_clear()
        .envs(server.env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("the catalogue import failed".to_owned());
    }
    let imported = began.elapsed();
    let expected = before + u64::try_from(count).map_err(|e| e.to_string())?;
    Ok((imported, visible(server, expected)?))
}

/// The catalogue's pages against `/healthz`, with 10,000 pieces on the shelf.
pub(super) fn pages(
    name: &'static str,
    binary: &Path,
    server: &Running,
    seconds: u32,
    timings: (Duration, Duration),
    row: &mut impl FnMut(&str, String, &str, bool),
    bars: &mut Vec<Bar>,
) -> Result<(), String> {
    let base = &server.base;
    let (imported, shown) = timings;
    row(
        "10,000 pieces imported by `kikeru catalog import` while the service runs: until the API lists them all",
        format!(
            "{:.2} s after the import ended (the import itself {:.1} s)",
            shown.as_secs_f64(),
            imported.as_secs_f64()
        ),
        "< 5 s",
        shown < Duration::from_secs(5),
    );
    let (_, first) = call(
        &agent(),
        "GET",
        &format!("{base}/api/v1/products?limit=1"),
        &[],
        None,
    )?;
    let product = first["items"][0]["id"]
        .as_str()
        .ok_or("no product listed")?
        .to_owned();
    let health = wrk(&format!("{base}/healthz"), 64, seconds, None)?;
    bars.push((name, "GET /healthz (catalogue run)".to_owned(), health.rps));
    let search_words = "%E5%AD%90%E5%AE%88%E5%94%84"; // 子守唄: one piece in ten
    let cases = [
        (
            "`GET /api/v1/products` (first page)",
            "/api/v1/products".to_owned(),
            0.5,
            None,
        ),
        (
            "the site's `/` (first page of 24)",
            "/".to_owned(),
            0.5,
            None,
        ),
        ("a product page", format!("/products/{product}"), 0.5, None),
        (
            "a search on the API (`?q=子守唄`, 1,000 of 10,000 match)",
            format!("/api/v1/products?q={search_words}"),
            0.25,
            Some(10.0),
        ),
        (
            "a search on the site (`/?q=子守唄`)",
            format!("/?q={search_words}"),
            0.25,
            Some(10.0),
        ),
    ];
    for (what, path, share, p99_limit) in cases {
        let load = wrk(&format!("{base}{path}"), 64, seconds, None)?;
        let ratio = load.rps / health.rps;
        let holds = ratio >= share && p99_limit.is_none_or(|limit| load.p99 < limit);
        let target = match p99_limit {
            Some(limit) => format!("≥ {:.0}%, p99 < {limit:.0} ms", share * 100.0),
            None => format!("≥ {:.0}%", share * 100.0),
        };
        row(
            &format!("10,000 pieces: {what} vs `GET /healthz`"),
            format!(
                "{:.0} vs {:.0} req/s = {:.0}% (p50/p99 {:.1}/{:.1} ms)",
                load.rps,
                health.rps,
                ratio * 100.0,
                load.p50,
                load.p99
            ),
            &target,
            holds,
        );
        bars.push((name, what.replace('`', ""), load.rps));
    }
    // The memory a node needs for such a catalogue: a second node of the same database,
    // started now, serving the same pages and searches.
    let node = Node::start(binary, server)?;
    let paths = [
        "/".to_owned(),
        "/api/v1/products".to_owned(),
        format!("/products/{product}"),
        format!("/?q={search_words}&page=2"),
        format!("/api/v1/products?q={search_words}&sort=price"),
        "/?sort=title".to_owned(),
    ];
    for path in &paths {
        wrk(&format!("{}{path}", node.base), 64, 2, None)?;
    }
    let (resident, _) = memory(node.child.id());
    row(
        "resident memory of a node serving 10,000 pieces (a second node of the same database, after its pages and searches were loaded)",
        format!("{resident:.1} MiB"),
        "< 128 MiB",
        resident < 128.0,
    );
    Ok(())
}

/// A second node of the bench server's database, stopped when dropped.
struct Node {
    child: std::process::Child,
    base: String,
}

impl Node {
    fn start(binary: &Path, server: &Running) -> Result<Self, String> {
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .envs(
                server
                    .env
                    .iter()
                    .filter(|(k, _)| k != "KIKERU_LISTEN")
                    .map(|(k, v)| (k, v)),
            )
            .env("KIKERU_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let node = Self { child, base };
        let began = Instant::now();
        while call(&agent(), "GET", &format!("{}/readyz", node.base), &[], None)
            .map(|(status, _)| status)
            .ok()
            != Some(200)
        {
            if began.elapsed() > Duration::from_secs(30) {
                return Err("the second node did not start".to_owned());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(node)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
