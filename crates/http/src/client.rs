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

/// The rate-limit key of the caller: its IPv4 address, or its IPv6 /64 (one subscriber's
/// network gets a /64 or more, and can pick any address in it).
fn address(req: &Request, config: &HttpConfig) -> String {
    caller(req, config).map_or_else(|| "unknown".to_owned(), limit_key)
}

fn limit_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
        },
    }
}

fn caller(req: &Request, config: &HttpConfig) -> Option<IpAddr> {
    if config.trust_forwarded_for {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.remote_addr().as_socket_addr().map(|addr| addr.ip())
}

/// The longest User-Agent read: real ones are a few hundred bytes, and the parser's work grows
/// with its input.
const MAX_USER_AGENT: usize = 512;

fn user_agent(req: &Request) -> &str {
    let agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // `to_str` admits visible ASCII only, so any byte is a character boundary.
    agent.get(..MAX_USER_AGENT).unwrap_or(agent)
}

/// `Firefox 128 / Linux`, from the User-Agent, or `Unknown browser`.
pub(crate) fn browser(req: &Request) -> String {
    let agent = user_agent(req);
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
pub(crate) fn browser_class(req: &Request) -> kikeru_domain::privacy::stats::BrowserClass {
    let agent = user_agent(req);
    match woothee::parser::Parser::new().parse(agent) {
        Some(r) if r.name != "UNKNOWN" => kikeru_domain::privacy::stats::BrowserClass {
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
        _ => kikeru_domain::privacy::stats::BrowserClass::default().sanitized(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_callers_are_limited_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_key(a), "2001:db8:1:2::/64");
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(other));
        assert_eq!(limit_key("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(limit_key("192.0.2.7".parse().unwrap()), "192.0.2.7");
    }

    #[test]
    fn a_huge_user_agent_is_read_only_in_part() {
        let req = Request::builder()
            .header("user-agent", format!("Mozilla/5.0 {}", "x".repeat(100_000)))
            .finish();
        assert_eq!(user_agent(&req).len(), MAX_USER_AGENT);
        assert_eq!(browser(&req), "Unknown browser");
    }
}
