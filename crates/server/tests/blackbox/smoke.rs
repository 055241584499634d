//! The binary starts and answers its health checks.

use crate::support::Server;

#[test]
fn the_binary_starts_on_its_defaults_and_is_healthy() {
    let server = Server::start(None);
    let health = ureq::get(format!("{}/healthz", server.base))
        .call()
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = ureq::get(format!("{}/readyz", server.base)).call().unwrap();
    assert_eq!(ready.status(), 200);
}
