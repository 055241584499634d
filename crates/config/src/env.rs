//! The environment over the file: each `KIKERU_*` variable overrides the file key of the same
//! name. The keys are the file's own — read from the fields of `FileConfig` — and each value is
//! checked against its key's type as a file value would be, so a key is named once, in the
//! struct, and everything is deserialised once, from the file with the environment over it.

use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{self, Visitor};

use super::FileConfig;

/// The keys of the configuration file, which are also the environment's (`KIKERU_` and the
/// key in capitals).
pub fn env_keys() -> &'static [&'static str] {
    static KEYS: LazyLock<&'static [&'static str]> = LazyLock::new(|| {
        let mut names = FieldNames(&[]);
        // The derive hands its field names to `deserialize_struct`, which stops there.
        let _ = FileConfig::deserialize(&mut names);
        names.0
    });
    &KEYS
}

/// A deserializer that only learns the fields of the struct asked for.
struct FieldNames(&'static [&'static str]);

impl<'de> de::Deserializer<'de> for &mut FieldNames {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = fields;
        Err(de::Error::custom("only the field names are read"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The environment's values, as the file's table would hold them; a value its key cannot take
/// is a problem named by its variable.
pub(crate) fn env_table(
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) -> toml::Table {
    let mut table = toml::Table::new();
    for key in env_keys() {
        let variable = format!("KIKERU_{}", key.to_ascii_uppercase());
        let Some(text) = env(&variable) else {
            continue;
        };
        match value_for(key, &text) {
            Some(value) => {
                table.insert((*key).to_owned(), value);
            }
            None => errors.push(format!("{variable}: cannot parse {text:?}")),
        }
    }
    table
}

/// What `text` stands for as the value of `key`: the text itself for a text key, else the
/// number or the truth value it spells — whichever the key takes.
fn value_for(key: &str, text: &str) -> Option<toml::Value> {
    let trimmed = text.trim();
    [
        Some(toml::Value::String(text.to_owned())),
        trimmed.parse::<i64>().ok().map(toml::Value::Integer),
        trimmed.parse::<bool>().ok().map(toml::Value::Boolean),
    ]
    .into_iter()
    .flatten()
    .find(|value| {
        let mut alone = toml::Table::new();
        alone.insert(key.to_owned(), value.clone());
        toml::Value::Table(alone).try_into::<FileConfig>().is_ok()
    })
}
