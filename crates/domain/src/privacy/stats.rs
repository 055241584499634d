//! Anonymous access statistics — the policy's "non-personally identifiable, statistical
//! information": for each request the path (no query, no fragment, identifiers masked), the
//! method, the status, the time and a coarse browser class. Never an address, a cookie, a member
//! ID, a referrer or the raw User-Agent. Reports count completed days and suppress small cells,
//! so that they can be given to third parties.

use std::collections::BTreeMap;

use time::Date;

use crate::Timestamp;

/// The browser, as a class many people share.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BrowserClass {
    /// The family (`Chrome`, `Safari`, `Firefox`…, or `other`).
    pub family: String,
    /// Its major version (`128`), or empty.
    pub major: String,
    /// The OS family (`Windows`, `iOS`…, or `other`).
    pub os: String,
    /// `pc`, `smartphone`, `mobilephone`, `appliance`, `crawler` or `misc`.
    pub device: String,
}

impl BrowserClass {
    /// Keeps only short, plain values (a parser's answers), so that nothing unusual — an
    /// address typed into a User-Agent, say — can pass through.
    pub fn sanitized(self) -> Self {
        fn plain(value: String, fallback: &str) -> String {
            let ok = !value.is_empty()
                && value.len() <= 24
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '_'));
            if ok { value } else { fallback.to_owned() }
        }
        Self {
            family: plain(self.family, "other"),
            major: plain(self.major, ""),
            os: plain(self.os, "other"),
            device: plain(self.device, "misc"),
        }
    }
}

/// One request, anonymous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// When.
    pub at: Timestamp,
    /// `GET`, `POST`…
    pub method: String,
    /// The path, normalised by [`normalize_path`].
    pub path: String,
    /// The response's status.
    pub status: u16,
    /// The browser's class.
    pub browser: BrowserClass,
    /// How many requests this record stands for (see [`tally`]).
    pub count: u64,
}

/// The path recorded for a request that named nothing of ours (404): whatever its words were
/// (`/hanako.yamada`), they are not kept.
pub const UNMATCHED: &str = "(unmatched)";

impl Hit {
    /// A hit with its path normalised (or [`UNMATCHED`] for a 404), its method checked and its
    /// browser sanitized.
    pub fn new(
        at: Timestamp,
        method: &str,
        raw_path: &str,
        status: u16,
        browser: BrowserClass,
    ) -> Self {
        let method = if method.len() <= 10 && method.bytes().all(|b| b.is_ascii_uppercase()) {
            method.to_owned()
        } else {
            "OTHER".to_owned()
        };
        Self {
            at,
            method,
            path: if status == 404 {
                UNMATCHED.to_owned()
            } else {
                normalize_path(raw_path)
            },
            status,
            browser: browser.sanitized(),
            count: 1,
        }
    }
}

/// Merges records of the same minute, method, path, status and browser class into one with
/// their count: fewer writes under load, and times no finer than a minute.
pub fn tally(hits: Vec<Hit>) -> Vec<Hit> {
    /// Minute, method, path, status, browser.
    type Key = (i64, String, String, u16, BrowserClass);
    let mut merged: BTreeMap<Key, Hit> = BTreeMap::new();
    for mut hit in hits {
        let minute = hit.at.unix_timestamp().div_euclid(60) * 60;
        hit.at = Timestamp::from_unix_timestamp(minute).unwrap_or(hit.at);
        let key = (
            minute,
            hit.method.clone(),
            hit.path.clone(),
            hit.status,
            hit.browser.clone(),
        );
        match merged.get_mut(&key) {
            Some(kept) => kept.count += hit.count,
            None => {
                merged.insert(key, hit);
            }
        }
    }
    merged.into_values().collect()
}

/// The path as statistics keep it: without query or fragment, and with every segment that could
/// identify something (a UUID, a long token, a number, an address, anything unusual) replaced by
/// `{id}`, at most 8 segments and 200 characters.
pub fn normalize_path(raw: &str) -> String {
    let path = raw.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut kept: Vec<String> = segments
        .iter()
        .take(8)
        .map(|segment| {
            // A word of the site's own vocabulary: short, lowercase, a letter or more, at most
            // two digits (`v1` stays; numbers, hex tokens and UUIDs go).
            let bytes = segment.as_bytes();
            let word = bytes.len() <= 32
                && bytes.iter().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
                })
                && bytes.iter().any(u8::is_ascii_lowercase)
                && bytes.iter().filter(|b| b.is_ascii_digit()).count() <= 2;
            if word {
                (*segment).to_owned()
            } else {
                "{id}".to_owned()
            }
        })
        .collect();
    if segments.len() > 8 {
        kept.push("…".to_owned());
    }
    let joined = format!("/{}", kept.join("/"));
    joined.chars().take(200).collect()
}

/// Requests of one day with the same path, method, status and browser class.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DailyCount {
    /// The day (UTC).
    pub day: Date,
    /// The method.
    pub method: String,
    /// The normalised path.
    pub path: String,
    /// The status.
    pub status: u16,
    /// The browser class (without its version).
    pub family: String,
    /// The OS family.
    pub os: String,
    /// The device class.
    pub device: String,
    /// How many.
    pub count: u64,
}

/// A report: page views by path and day, browsers, status codes. Cells counting fewer than `k`
/// requests are left out and counted in `suppressed`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// (day, method, path) → requests.
    pub page_views: Vec<(Date, String, String, u64)>,
    /// (family, OS, device) → requests.
    pub browsers: Vec<(String, String, String, u64)>,
    /// status → requests.
    pub statuses: Vec<(u16, u64)>,
    /// The smallest count shown.
    pub k: u64,
    /// How many cells were too small to show.
    pub suppressed: u64,
}

/// Builds a report from daily counts, suppressing every cell under `k`.
pub fn report(counts: &[DailyCount], k: u64) -> Report {
    let mut views: BTreeMap<(Date, String, String), u64> = BTreeMap::new();
    let mut browsers: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for c in counts {
        *views
            .entry((c.day, c.method.clone(), c.path.clone()))
            .or_default() += c.count;
        *browsers
            .entry((c.family.clone(), c.os.clone(), c.device.clone()))
            .or_default() += c.count;
        *statuses.entry(c.status).or_default() += c.count;
    }
    let mut suppressed = 0;
    let mut keep = |n: u64| {
        if n < k {
            suppressed += 1;
            false
        } else {
            true
        }
    };
    let page_views = views
        .into_iter()
        .filter(|(_, n)| keep(*n))
        .map(|((day, method, path), n)| (day, method, path, n))
        .collect();
    let browsers = browsers
        .into_iter()
        .filter(|(_, n)| keep(*n))
        .map(|((family, os, device), n)| (family, os, device, n))
        .collect();
    let statuses = statuses.into_iter().filter(|(_, n)| keep(*n)).collect();
    Report {
        page_views,
        browsers,
        statuses,
        k,
        suppressed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_path_that_names_nothing_of_ours_keeps_none_of_its_words() {
        let at = time::macros::datetime!(2026-04-01 09:00 UTC);
        let lost = Hit::new(at, "GET", "/hanako.yamada", 404, BrowserClass::default());
        assert_eq!(lost.path, UNMATCHED);
        let found = Hit::new(at, "GET", "/lang/en", 303, BrowserClass::default());
        assert_eq!(found.path, "/lang/en");
    }

    #[test]
    fn paths_keep_their_shape_and_lose_what_could_identify() {
        let cases = [
            ("/", "/"),
            (
                "/products/0190b1c2-7d3e-7000-8000-000000000001",
                "/products/{id}",
            ),
            (
                "/verify-email?token=abc&email=hanako@example.jp",
                "/verify-email",
            ),
            ("/me#library", "/me"),
            (
                "/api/v1/me/library/0190b1c2-7d3e-7000-8000-000000000001/audio",
                "/api/v1/me/library/{id}/audio",
            ),
            (
                "/sandbox/checkout/cs_test_9f8e7d6c5b4a39281706f5e4d3c2b1a0",
                "/sandbox/checkout/{id}",
            ),
            ("/members/hanako@example.jp", "/members/{id}"),
            ("/orders/12345", "/orders/{id}"),
            ("/api/v1/me", "/api/v1/me"),
            ("/lang/en", "/lang/en"),
            ("/x/ab12cd34ef", "/x/{id}"),
            ("/Hanako", "/{id}"),
            ("/a/b/c/d/e/f/g/h/i/j", "/a/b/c/d/e/f/g/h/…"),
        ];
        for (raw, kept) in cases {
            assert_eq!(normalize_path(raw), kept, "{raw}");
        }
    }

    #[test]
    fn browser_classes_keep_only_plain_short_values() {
        let odd = BrowserClass {
            family: "hanako@example.jp".into(),
            major: "1; rm -rf".into(),
            os: "Linux".into(),
            device: "pc".into(),
        }
        .sanitized();
        assert_eq!(
            (odd.family.as_str(), odd.major.as_str(), odd.os.as_str()),
            ("other", "", "Linux")
        );
        let hit = Hit::new(
            datetime!(2026-04-01 09:00 UTC),
            "get<script>",
            "/x?y",
            200,
            odd,
        );
        assert_eq!((hit.method.as_str(), hit.path.as_str()), ("OTHER", "/x"));
    }

    #[test]
    fn equal_records_of_a_minute_become_one_with_their_count() {
        let browser = BrowserClass {
            family: "Firefox".into(),
            major: "128".into(),
            os: "Linux".into(),
            device: "pc".into(),
        };
        let hit = |at, path: &str| Hit::new(at, "GET", path, 200, browser.clone());
        let tallied = tally(vec![
            hit(datetime!(2026-04-01 09:00:05 UTC), "/"),
            hit(datetime!(2026-04-01 09:00:59 UTC), "/"),
            hit(datetime!(2026-04-01 09:01:00 UTC), "/"),
            hit(datetime!(2026-04-01 09:00:30 UTC), "/me"),
        ]);
        let summary: Vec<_> = tallied
            .iter()
            .map(|h| (h.at, h.path.as_str(), h.count))
            .collect();
        assert_eq!(
            summary,
            [
                (datetime!(2026-04-01 09:00 UTC), "/", 2),
                (datetime!(2026-04-01 09:00 UTC), "/me", 1),
                (datetime!(2026-04-01 09:01 UTC), "/", 1),
            ]
        );
    }

    #[test]
    fn small_cells_are_suppressed() {
        let count = |path: &str, family: &str, status: u16, count: u64| DailyCount {
            day: date!(2026 - 04 - 01),
            method: "GET".into(),
            path: path.into(),
            status,
            family: family.into(),
            os: "iOS".into(),
            device: "smartphone".into(),
            count,
        };
        let counts = [
            count("/", "Safari", 200, 40),
            count("/", "Chrome", 200, 3),
            count("/rare", "Safari", 404, 2),
        ];
        let r = report(&counts, 5);
        assert_eq!(
            r.page_views,
            vec![(date!(2026 - 04 - 01), "GET".into(), "/".into(), 43)]
        );
        assert_eq!(
            r.browsers,
            vec![("Safari".into(), "iOS".into(), "smartphone".into(), 42)]
        );
        assert_eq!(r.statuses, vec![(200, 43)]);
        assert_eq!(r.suppressed, 3, "/rare, Chrome and 404");
    }
}
