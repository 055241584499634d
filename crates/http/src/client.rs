//! Who is calling: the client address (for rate limits) and a short browser label (for the
//! session list). Neither is stored raw.

use std::net::IpAddr;

use kikeru_domain::membership::Client;
use poem::Request;

use crate::HttpConfig;

/// The calling client, as the domain sees it.
pub(crate) fn client(req: &Request, config: &HttpConfig) -> Client {
    Client {
        key: address(req, config),
        browser: browser(req),
    }
}

fn address(req: &Request, config: &HttpConfig) -> String {
    if config.trust_forwarded_for {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(ip) = forwarded {
            return ip.to_string();
        }
    }
    req.remote_addr()
        .as_socket_addr()
        .map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string())
}

/// `Firefox 128 / Linux`, from the User-Agent, or `Unknown browser`.
pub(crate) fn browser(req: &Request) -> String {
    let agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match woothee::parser::Parser::new().parse(agent) {
        Some(r) if r.name != "UNKNOWN" => {
            let major = r.version.split('.').next().unwrap_or("");
            let os = if r.os == "UNKNOWN" {
                String::new()
            } else {
                format!(" / {}", r.os)
            };
            format!("{} {major}{os}", r.name).replace("  ", " ")
        }
        _ => "Unknown browser".to_owned(),
    }
}

/// The browser's class for the access statistics: family, major version, OS family and device
/// class from the User-Agent, nothing else of it.
pub(crate) fn browser_class(req: &Request) -> kikeru_domain::stats::BrowserClass {
    let agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match woothee::parser::Parser::new().parse(agent) {
        Some(r) if r.name != "UNKNOWN" => kikeru_domain::stats::BrowserClass {
            family: r.name.to_owned(),
            major: r.version.split('.').next().unwrap_or("").to_owned(),
            os: if r.os == "UNKNOWN" {
                String::new()
            } else {
                r.os.to_owned()
            },
            device: r.category.to_owned(),
        }
        .sanitized(),
        _ => kikeru_domain::stats::BrowserClass::default().sanitized(),
    }
}
