//! [`JsonString`]: a request field that is a JSON string and nothing else. poem-openapi's `String`
//! also takes a number or a boolean and turns it into text (`false` becomes `"false"`), so a body
//! that breaks the spec would be accepted; every string of a request body is a `JsonString` instead.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// A JSON string (see the module's documentation). Validators see the inner `String`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct JsonString(pub(crate) String);

impl std::ops::Deref for JsonString {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for JsonString {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<JsonString> for String {
    fn from(text: JsonString) -> Self {
        text.0
    }
}

impl Type for JsonString {
    const IS_REQUIRED: bool = true;

    type RawValueType = String;

    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    /// A string without NUL. A field's own `pattern` replaces this one, so every such pattern
    /// excludes NUL itself (a test walks the spec for it).
    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(NO_NUL.to_owned()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl ParseFromJSON for JsonString {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) if text.contains('\0') => Err(ParseError::custom(
                "the text holds a NUL character (U+0000): remove it and send again",
            )),
            Value::String(text) => Ok(Self(text)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

/// What the schema allows: any string without NUL (U+0000), which no person's text holds and
/// not every database stores.
const NO_NUL: &str = r"^[^\x00]*$";

impl ToJSON for JsonString {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_json_string_is_text() {
        assert_eq!(
            JsonString::parse_from_json(Some(Value::String("あ".to_owned()))).unwrap(),
            JsonString("あ".to_owned())
        );
        for other in [
            Value::Bool(false),
            serde_json::json!(12),
            Value::Null,
            serde_json::json!([]),
            serde_json::json!({}),
        ] {
            assert!(JsonString::parse_from_json(Some(other)).is_err());
        }
        assert!(JsonString::parse_from_json(None).is_err());
        assert!(
            JsonString::parse_from_json(Some(Value::String("a\u{0}b".to_owned()))).is_err(),
            "PostgreSQL cannot store it: refused as the sender's mistake"
        );
    }
}
