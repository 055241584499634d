//! A small HTTP client for the tests: JSON in and out, the session cookie kept by hand, and
//! the `Origin` header every browser would send.

use serde_json::Value;

/// A response: status, headers we care about, and the JSON body (or `Null`).
#[derive(Debug)]
pub(crate) struct Reply {
    /// The status code.
    pub(crate) status: u16,
    /// The `Set-Cookie` header, if any.
    pub(crate) set_cookie: Option<String>,
    /// The `Content-Type` header.
    pub(crate) content_type: String,
    /// The `Location` header of a redirect, if any.
    pub(crate) location: Option<String>,
    /// The `Content-Range` header, if any.
    pub(crate) content_range: Option<String>,
    /// The body as JSON (`Null` when empty or not JSON).
    pub(crate) json: Value,
    /// The body as text.
    pub(crate) text: String,
    /// The body's length in bytes.
    pub(crate) length: usize,
}

/// A client of one server, holding at most one session cookie.
#[derive(Debug)]
pub(crate) struct Client {
    agent: ureq::Agent,
    base: String,
    /// `name=value` of the session cookie.
    pub(crate) cookie: Option<String>,
}

impl Client {
    /// A client of `base` (`http://127.0.0.1:PORT`).
    pub(crate) fn new(base: &str) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        Self {
            agent: config.into(),
            base: base.to_owned(),
            cookie: None,
        }
    }

    /// Sends a request; keeps a new session cookie (or forgets a cleared one).
    pub(crate) fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Reply {
        match body {
            Some(json) => self.send_raw(
                method,
                path,
                &[("content-type", "application/json")],
                json.to_string().into_bytes(),
            ),
            None => self.send_raw(method, path, &[], Vec::new()),
        }
    }

    /// Sends a request with exactly these extra headers and body bytes.
    ///
    /// # Panics
    /// When the server cannot be reached.
    #[allow(clippy::expect_used, reason = "test helper")]
    pub(crate) fn send_raw(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("origin", &self.base);
        if let Some(cookie) = &self.cookie {
            builder = builder.header("cookie", cookie);
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let result = if method == "GET" {
            self.agent.run(builder.body(()).expect("request"))
        } else {
            self.agent.run(builder.body(body).expect("request"))
        };
        let mut response = result.expect("the server answers");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let set_cookie = header("set-cookie");
        let content_type = header("content-type").unwrap_or_default();
        let content_range = header("content-range");
        let location = header("location");
        // The site's form-token and language cookies are not sessions: only a session cookie is kept.
        let session_cookie = set_cookie.as_deref().filter(|set| {
            let name = set.split('=').next().unwrap_or_default();
            !name.ends_with("kikeru_csrf") && name != "kikeru_lang"
        });
        if let Some(set) = session_cookie {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            self.cookie = if set.contains("Max-Age=0") {
                None
            } else {
                Some(pair)
            };
        }
        let bytes = response.body_mut().read_to_vec().unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status: response.status().as_u16(),
            set_cookie,
            content_type,
            content_range,
            location,
            json,
            text,
            length: bytes.len(),
        }
    }

    /// `GET`.
    pub(crate) fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, None)
    }

    /// `POST` with a JSON body.
    pub(crate) fn post(&mut self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(body))
    }

    /// `PUT` with a JSON body.
    pub(crate) fn put(&mut self, path: &str, body: Value) -> Reply {
        self.send("PUT", path, Some(body))
    }

    /// `DELETE`.
    pub(crate) fn delete(&mut self, path: &str) -> Reply {
        self.send("DELETE", path, None)
    }

    /// Posts a site form as a browser would: the form token in a cookie and in the body
    /// (double submit), the fields URL-encoded.
    pub(crate) fn submit_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        const TOKEN: &str = "0123456789abcdef0123456789abcdef";
        let session = self.cookie.take();
        self.cookie = Some(match &session {
            Some(pair) => format!("{pair}; kikeru_csrf={TOKEN}"),
            None => format!("kikeru_csrf={TOKEN}"),
        });
        let encode = |text: &str| -> String {
            text.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        let body: Vec<String> = std::iter::once(("csrf", TOKEN))
            .chain(fields.iter().copied())
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect();
        let reply = self.send_raw(
            "POST",
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            body.join("&").into_bytes(),
        );
        // A reply that set a new session (or ended it) has already replaced the cookie.
        if self
            .cookie
            .as_deref()
            .is_some_and(|c| c.contains("kikeru_csrf="))
        {
            self.cookie = session;
        }
        reply
    }
}
