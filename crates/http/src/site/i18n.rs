//! The site's languages, from the service's one catalogue (`kikeru-i18n`): the site, the
//! sandbox's checkout page and the mail read the same messages and the same `Accept-Language`.

pub(crate) use kikeru_i18n::{negotiate, t};

#[cfg(test)]
pub(crate) use kikeru_i18n::MISSING;
