//! A headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`), for
//! the site's journeys: a small client of the W3C WebDriver protocol on ureq, plus axe-core
//! (from npm) for accessibility checks and screenshots for the README.
//!
//! Without Chromium the journeys say so and pass, unless `CI` is set: CI must run them
//! (`.ci/run` installs the packages).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const DRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where axe-core's script is (`KIKERU_AXE`, or where `.ci/run` installs it).
pub(crate) fn axe_script() -> Option<PathBuf> {
    let path = std::env::var_os("KIKERU_AXE").map_or_else(
        || PathBuf::from("/var/tmp/kikeru-npm/node_modules/axe-core/axe.min.js"),
        PathBuf::from,
    );
    path.exists().then_some(path)
}

/// How the browser is set up.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// The browser's preferred language (`ja`, `en`).
    pub(crate) language: &'static str,
    /// Whether cookies are allowed.
    pub(crate) cookies: bool,
    /// The window's size.
    pub(crate) size: (u32, u32),
}

impl Default for Options {
    fn default() -> Self {
        Self {
            language: "ja",
            cookies: true,
            size: (1280, 900),
        }
    }
}

/// A browser session.
#[derive(Debug)]
pub(crate) struct Browser {
    agent: ureq::Agent,
    driver: Child,
    endpoint: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .agent
            .delete(format!("{}/session/{}", self.endpoint, self.session))
            .call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Whether the browser can run here; panics under CI when it cannot.
///
/// # Panics
/// Under `CI` without Chromium and its driver.
pub(crate) fn available() -> bool {
    let found = Path::new(CHROMIUM).exists() && Path::new(DRIVER).exists();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser tests: apt-get install chromium chromium-driver"
        );
        #[allow(
            clippy::print_stderr,
            reason = "say loudly that the journey did not run"
        )]
        {
            let test = std::thread::current().name().unwrap_or("a test").to_owned();
            eprintln!("SKIPPED {test}: chromium and chromium-driver are not installed");
        }
    }
    found
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    ///
    /// # Panics
    /// When the driver does not start.
    #[allow(clippy::expect_used, clippy::panic, reason = "test helper")]
    pub(crate) fn start(options: &Options) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("address")
            .port();
        let driver = Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        let endpoint = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(format!("{endpoint}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("a profile folder");
        let cookies = if options.cookies { 1 } else { 2 };
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--autoplay-policy=no-user-gesture-required", "--hide-scrollbars",
                    format!("--window-size={},{}", options.size.0, options.size.1),
                    format!("--lang={}", options.language),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "intl.accept_languages": options.language,
                    "profile.default_content_setting_values.cookies": cookies,
                },
            },
        }}});
        let mut response = agent
            .post(format!("{endpoint}/session"))
            .header("content-type", "application/json")
            .send(capabilities.to_string())
            .expect("a new session");
        let body: Value =
            serde_json::from_slice(&response.body_mut().read_to_vec().unwrap_or_default())
                .unwrap_or(Value::Null);
        let Some(session) = body["value"]["sessionId"].as_str() else {
            panic!("no browser session: {body}");
        };
        Self {
            session: session.to_owned(),
            agent,
            driver,
            endpoint,
            _profile: profile,
        }
    }

    /// One WebDriver command; its `value`.
    ///
    /// # Panics
    /// When the command fails.
    #[allow(clippy::expect_used, clippy::panic, reason = "test helper")]
    pub(crate) fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.endpoint, self.session);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("content-type", "application/json");
        let result = match body {
            Some(body) => self
                .agent
                .run(request.body(body.to_string()).expect("request")),
            None if method == "GET" => self.agent.run(request.body(()).expect("request")),
            None => self
                .agent
                .run(request.body("{}".to_owned()).expect("request")),
        };
        let mut response = result.expect("chromedriver answers");
        let status = response.status().as_u16();
        let body: Value =
            serde_json::from_slice(&response.body_mut().read_to_vec().unwrap_or_default())
                .unwrap_or(Value::Null);
        if status >= 400 {
            panic!("WebDriver {method} {path}: {status} {body}");
        }
        body["value"].clone()
    }

    /// Opens a URL.
    pub(crate) fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    /// The current URL.
    pub(crate) fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML.
    pub(crate) fn source(&self) -> String {
        self.command("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching `css`, waiting up to 10 seconds for it.
    ///
    /// # Panics
    /// When none appears.
    #[allow(clippy::panic, reason = "test helper")]
    pub(crate) fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.command(
                "POST",
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            );
            if let Some(id) = found
                .as_array()
                .and_then(|list| list.first())
                .and_then(|e| e[ELEMENT].as_str())
            {
                return id.to_owned();
            }
            if Instant::now() > deadline {
                let source: String = self.source().chars().take(3000).collect();
                panic!("no element {css} on {}:\n{source}", self.url());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks the element matching `css` (a link or a form's button) and waits until the next
    /// page has loaded.
    ///
    /// # Panics
    /// When no new page loads within 10 seconds.
    #[allow(clippy::panic, reason = "test helper")]
    pub(crate) fn click(&self, css: &str) {
        let id = self.find(css);
        self.execute("window.__kikeruOldPage = true;");
        self.command("POST", &format!("/element/{id}/click"), None);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let loaded = self.execute(
                "return window.__kikeruOldPage === undefined && document.readyState === 'complete';",
            );
            if loaded == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                panic!("clicking {css} loaded no new page (at {})", self.url());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Types `text` into the element matching `css`, replacing what it held.
    pub(crate) fn fill(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/clear"), None);
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        );
    }

    /// The visible text of the element matching `css`.
    pub(crate) fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.command("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs a script in the page; its result.
    pub(crate) fn execute(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Runs an asynchronous script, which calls `arguments[0]` with its result.
    pub(crate) fn execute_async(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Resizes the window.
    pub(crate) fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// Saves a PNG of the viewport to `path`.
    ///
    /// # Panics
    /// When the picture cannot be decoded or written.
    #[allow(clippy::expect_used, reason = "test helper")]
    pub(crate) fn screenshot(&self, path: &Path) {
        let encoded = self.command("GET", "/screenshot", None);
        let png = data_encoding::BASE64
            .decode(encoded.as_str().unwrap_or_default().as_bytes())
            .expect("a base64 PNG");
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the screenshot folder");
        }
        std::fs::write(path, png).expect("the screenshot");
    }

    /// The serious and critical accessibility violations axe-core finds on the page (WCAG 2.0,
    /// 2.1 and 2.2, levels A and AA), as `rule: count` lines.
    ///
    /// # Panics
    /// When axe-core cannot be read or run.
    #[allow(clippy::expect_used, reason = "test helper")]
    pub(crate) fn accessibility_problems(&self, axe: &Path) -> Vec<String> {
        let source = std::fs::read_to_string(axe).expect("axe-core");
        self.execute(&source);
        let result = self.execute_async(
            "const done = arguments[0];\
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})\
               .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
                 .map(v => v.id + ': ' + v.nodes.length + ' (' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')')))\
               .catch(e => done(['axe failed: ' + e]));",
        );
        result
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}
