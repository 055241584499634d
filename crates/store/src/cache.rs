//! A short-lived read cache for the two reads every signed-in request makes: the session behind
//! a token hash and the member behind it. Without it a session lookup costs two queries; with it
//! a live session costs a map lookup.
//!
//! Correctness first:
//! - Every write this store makes to a session or a member forgets the affected entries once the
//!   write is done (committed or not), so a change made through this process is seen by its very
//!   next request: a signed-out session is refused at once.
//! - A read that raced with such a write is not cached: reads note the cache's generation before
//!   they query, and an entry is kept only when no write happened meanwhile.
//! - Writes made by another process (a second node on PostgreSQL, the `kikeru` command line) are
//!   seen within `ttl`, after which every entry is read again. `ttl` zero turns the cache off.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kikeru_domain::{Member, MemberId, Session, SessionId, TokenHash};

/// The entry under `key` if it has not expired.
fn fresh<K: Eq + Hash, V: Clone>(map: &HashMap<K, (V, Instant)>, key: &K) -> Option<V> {
    let now = Instant::now();
    map.get(key)
        .filter(|(_, until)| *until > now)
        .map(|(value, _)| value.clone())
}

/// The most entries of each kind; past it, expired entries go and new ones wait.
const CAPACITY: usize = 16_384;

/// The cache (see the module's documentation).
#[derive(Debug)]
pub(crate) struct ReadCache {
    ttl: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    generation: u64,
    sessions: HashMap<[u8; 32], (Session, Instant)>,
    members: HashMap<MemberId, (Member, Instant)>,
}

/// The generation a read started in; an entry it found is kept only if it is still current.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(Option<u64>);

impl ReadCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The maps stay consistent even if a holder panicked: every update is one insert or
        // one removal.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// A ticket for a read about to be made.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.enabled().then(|| self.lock().generation))
    }

    pub(crate) fn session(&self, hash: &TokenHash) -> Option<Session> {
        if !self.enabled() {
            return None;
        }
        fresh(&self.lock().sessions, hash.as_bytes())
    }

    pub(crate) fn member(&self, id: MemberId) -> Option<Member> {
        if !self.enabled() {
            return None;
        }
        fresh(&self.lock().members, &id)
    }

    pub(crate) fn keep_session(&self, ticket: Ticket, session: &Session) {
        self.keep(
            ticket,
            |inner| &mut inner.sessions,
            *session.token_hash.as_bytes(),
            session,
        );
    }

    pub(crate) fn keep_member(&self, ticket: Ticket, member: &Member) {
        self.keep(ticket, |inner| &mut inner.members, member.id, member);
    }

    /// Keeps `value` under `key` in the map `pick` chooses, unless a write happened since
    /// `ticket` or the map is full of entries still fresh.
    fn keep<K: Eq + Hash, V: Clone>(
        &self,
        ticket: Ticket,
        pick: impl FnOnce(&mut Inner) -> &mut HashMap<K, (V, Instant)>,
        key: K,
        value: &V,
    ) {
        let Some(generation) = ticket.0 else { return };
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        let map = pick(&mut inner);
        if map.len() >= CAPACITY {
            map.retain(|_, (_, until)| *until > now);
            if map.len() >= CAPACITY {
                return;
            }
        }
        map.insert(key, (value.clone(), now + self.ttl));
    }

    /// Forgets one session.
    pub(crate) fn forget_session(&self, id: SessionId) {
        if self.enabled() {
            let mut inner = self.lock();
            inner.generation += 1;
            inner.sessions.retain(|_, (s, _)| s.id != id);
        }
    }

    /// Forgets a member and every session of theirs.
    pub(crate) fn forget_member(&self, member: MemberId) {
        if self.enabled() {
            let mut inner = self.lock();
            inner.generation += 1;
            inner.members.remove(&member);
            inner.sessions.retain(|_, (s, _)| s.member_id != member);
        }
    }

    /// Forgets everything (a write whose reach is not known entry by entry).
    pub(crate) fn forget_all(&self) {
        if self.enabled() {
            let mut inner = self.lock();
            inner.generation += 1;
            inner.members.clear();
            inner.sessions.clear();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use kikeru_domain::{DisplayName, Email, Language, PasswordHashString, Timestamp};
    use uuid::Uuid;

    pub(crate) fn member() -> Member {
        Member {
            id: MemberId::from_uuid(Uuid::from_u128(1)),
            email: Email::parse("a@example.jp").unwrap(),
            email_verified_at: None,
            password_hash: PasswordHashString::parse("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g").unwrap(),
            display_name: DisplayName::parse("A").unwrap(),
            language: Language::Ja,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn session(n: u128) -> Session {
        Session {
            id: SessionId::from_uuid(Uuid::from_u128(n)),
            member_id: member().id,
            token_hash: TokenHash::from_bytes([u8::try_from(n).unwrap(); 32]),
            created_at: Timestamp::UNIX_EPOCH,
            last_seen_at: Timestamp::UNIX_EPOCH,
            expires_at: Timestamp::UNIX_EPOCH,
            browser: String::new(),
            assurance: kikeru_domain::membership::second_factor::Assurance::signed_in(
                kikeru_domain::membership::second_factor::Factor::Password,
                Timestamp::UNIX_EPOCH,
            ),
            second_factor_enrolled: false,
        }
    }

    #[test]
    fn a_kept_entry_is_found_until_forgotten() {
        let cache = ReadCache::new(Duration::from_secs(60));
        let ticket = cache.ticket();
        cache.keep_session(ticket, &session(1));
        cache.keep_session(ticket, &session(2));
        cache.keep_member(ticket, &member());
        assert!(cache.session(&session(1).token_hash).is_some());
        cache.forget_session(session(1).id);
        assert!(cache.session(&session(1).token_hash).is_none());
        assert!(cache.session(&session(2).token_hash).is_some());
        cache.forget_member(member().id);
        assert!(cache.session(&session(2).token_hash).is_none());
        assert!(cache.member(member().id).is_none());
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = ReadCache::new(Duration::from_secs(60));
        let ticket = cache.ticket();
        cache.forget_session(session(9).id);
        cache.keep_session(ticket, &session(1));
        cache.keep_member(ticket, &member());
        assert!(cache.session(&session(1).token_hash).is_none());
        assert!(cache.member(member().id).is_none());
    }

    #[test]
    fn entries_expire_and_a_zero_ttl_keeps_nothing() {
        let cache = ReadCache::new(Duration::from_millis(1));
        cache.keep_session(cache.ticket(), &session(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.session(&session(1).token_hash).is_none());
        let off = ReadCache::new(Duration::ZERO);
        off.keep_session(off.ticket(), &session(1));
        assert!(off.session(&session(1).token_hash).is_none());
    }
}
