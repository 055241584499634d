//! Stripe's own request schemas, checked against every form the adapter sends.
//!
//! `request-forms.json` is an extract of Stripe's published OpenAPI document (repository
//! `stripe/openapi`, `openapi/spec3.yaml`, `info.version` 2023-08-16): the request bodies of
//! `POST /v1/checkout/sessions` and `POST /v1/refunds`, with property names at every depth,
//! `type`, `enum`, `maxLength`, `required` and array `items`; `additionalProperties: true`
//! where Stripe allows free keys (`metadata`); `anyOf`/`oneOf` kept as `{"alts": [...]}`.
//! The adapter pins a later API version; the parameters it sends are unchanged since.

use std::collections::BTreeMap;

use serde_json::Value;

/// The extract, parsed once per check (a test server: simplicity over speed).
fn schema(operation: &str) -> Value {
    let all: Value = serde_json::from_str(include_str!("request-forms.json"))
        .expect("the checked-in extract is JSON");
    all[operation].clone()
}

/// A form as the tree its bracketed keys describe.
#[derive(Debug)]
enum Node {
    Leaf(String),
    Branch(BTreeMap<String, Node>),
}

fn tree(form: &[(String, String)]) -> Result<Node, String> {
    let mut root = BTreeMap::new();
    for (key, value) in form {
        let (head, rest) = key.split_once('[').unwrap_or((key, ""));
        let mut parts = vec![head.to_owned()];
        for part in rest.split('[').filter(|p| !p.is_empty()) {
            let part = part
                .strip_suffix(']')
                .ok_or_else(|| format!("Invalid parameter name: {key}"))?;
            parts.push(part.to_owned());
        }
        let mut at = &mut root;
        let (last, path) = parts.split_last().ok_or("an empty parameter name")?;
        for part in path {
            let next = at
                .entry(part.clone())
                .or_insert_with(|| Node::Branch(BTreeMap::new()));
            at = match next {
                Node::Branch(children) => children,
                Node::Leaf(_) => return Err(format!("Invalid parameter: {key}")),
            };
        }
        if at.insert(last.clone(), Node::Leaf(value.clone())).is_some() {
            return Err(format!("Repeated parameter: {key}"));
        }
    }
    Ok(Node::Branch(root))
}

/// Checks `form` against the schema of `operation` (`"POST /v1/refunds"`), as Stripe refuses
/// a request: the first problem, worded like Stripe's `invalid_request_error`.
pub(crate) fn check(operation: &str, form: &[(String, String)]) -> Result<(), String> {
    let schema = schema(operation);
    assert!(schema.is_object(), "no schema for {operation}");
    matches(&tree(form)?, &schema, "")
}

fn name(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}[{key}]")
    }
}

fn matches(node: &Node, schema: &Value, path: &str) -> Result<(), String> {
    if let Some(alts) = schema.get("alts").and_then(Value::as_array) {
        let mut first = None;
        for alt in alts {
            match matches(node, alt, path) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        return Err(first.unwrap_or_else(|| format!("Invalid {path}")));
    }
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object");
    match (node, kind) {
        (Node::Branch(children), "array") => {
            for (index, child) in children {
                if index.parse::<usize>().is_err() {
                    return Err(format!("Invalid array index: {}", name(path, index)));
                }
                matches(child, &schema["items"], &name(path, index))?;
            }
            Ok(())
        }
        (Node::Branch(children), "object") => {
            let free = schema.get("additionalProperties") == Some(&Value::Bool(true));
            for (key, child) in children {
                match schema.get("properties").and_then(|p| p.get(key)) {
                    Some(property) => matches(child, property, &name(path, key))?,
                    None if free => {}
                    None => {
                        return Err(format!("Received unknown parameter: {}", name(path, key)));
                    }
                }
            }
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !children.contains_key(required) {
                    return Err(format!("Missing required param: {}", name(path, required)));
                }
            }
            Ok(())
        }
        (Node::Leaf(value), _) => leaf(value, schema, kind, path),
        (Node::Branch(_), _) => Err(format!("Invalid {kind}: {path} is not one")),
    }
}

fn leaf(value: &str, schema: &Value, kind: &str, path: &str) -> Result<(), String> {
    let fits = match kind {
        "integer" => value.parse::<i64>().is_ok(),
        "number" => value.parse::<f64>().is_ok(),
        "boolean" => value == "true" || value == "false",
        "string" => true,
        // An object or array sent as a plain value.
        _ => false,
    };
    if !fits {
        return Err(format!("Invalid {kind}: {path}={value}"));
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.iter().any(|a| a.as_str() == Some(value))
    {
        return Err(format!("Invalid {path}: must be one of {allowed:?}"));
    }
    if let Some(most) = schema.get("maxLength").and_then(Value::as_u64)
        && value.chars().count() as u64 > most
    {
        return Err(format!("{path} must be at most {most} characters"));
    }
    Ok(())
}
