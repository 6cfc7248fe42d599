//! Typed query strings. [`GrafanaQuery<T>`] reads the query into a struct and answers a bad one
//! with Grafana's `{"message": …}` 400; the same struct documents the route's query parameters
//! (`Op::query::<T>()`: names, types and descriptions from its `JsonSchema`), so that the
//! parameters a handler reads and those the OpenAPI document lists cannot drift apart.
//!
//! Values are read as the `HashMap<String, String>` the routes used before read them: a name
//! given more than once keeps its last value (paging names given twice are refused before,
//! `refuse_repeated_paging`) and unknown names are ignored; a `Vec<String>` field receives every
//! value of its name (`tag=a&tag=b`).
//! Where Grafana ignores garbage and uses a default, fields stay `Option<String>` and are parsed
//! by the route with the same rule as before (`crate::domain::Paging`, Go's `strconv.ParseBool`).

use std::collections::BTreeMap;
use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject};
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde_json::json;

use crate::domain::{MAX_PAGE, MAX_PER_PAGE};
use crate::error::ApiError;

/// The query string as `T`; a value `T` cannot take is a 400 with `{"message"}`.
pub struct GrafanaQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for GrafanaQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        from_query(parts.uri.query().unwrap_or("")).map(Self)
    }
}

/// Deserialises a raw (percent-encoded) query string into `T`.
pub fn from_query<T: DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        values
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    T::deserialize(MapDeserializer::new(
        values.into_iter().map(|(name, v)| (name, Values(v))),
    ))
    .map_err(|QueryError(message)| ApiError::bad_request(message))
}

/// Why a query string could not be read: the 400's message.
#[derive(Debug)]
pub struct QueryError(String);

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

impl de::Error for QueryError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        QueryError(msg.to_string())
    }
}

/// Every value given for one name, in order (never empty).
struct Values(Vec<String>);

impl Values {
    fn last(mut self) -> String {
        self.0.pop().unwrap_or_default()
    }
}

impl<'de> IntoDeserializer<'de, QueryError> for Values {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

macro_rules! parsed {
    ($($method:ident => $visit:ident,)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
            let raw = self.last();
            match raw.trim().parse() {
                Ok(v) => visitor.$visit(v),
                Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(&raw), &visitor)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Values {
    type Error = QueryError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_string(self.last())
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_seq(SeqDeserializer::new(self.0.into_iter()))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, QueryError> {
        visitor.visit_enum(self.last().into_deserializer())
    }

    parsed! {
        deserialize_bool => visit_bool,
        deserialize_i8 => visit_i8,
        deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64,
        deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32,
        deserialize_u64 => visit_u64,
        deserialize_f32 => visit_f32,
        deserialize_f64 => visit_f64,
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// The query parameters `T` declares, for the OpenAPI document: its object schema, every
/// subschema inlined (a parameter's schema stands alone) and optional values without
/// `nullable` (an absent parameter is how a query says "none").
pub(super) fn params_schema<T: schemars::JsonSchema>(_: &mut SchemaGenerator) -> Schema {
    let mut generator = schemars::gen::SchemaSettings::openapi3()
        .with(|s| {
            s.option_nullable = false;
            s.inline_subschemas = true;
        })
        .into_generator();
    T::json_schema(&mut generator)
}

// --- Schemas of values parsed by the route (`#[schemars(schema_with = "…")]`) ---

fn from_json(value: serde_json::Value) -> Schema {
    serde_json::from_value(value).unwrap_or(Schema::Bool(true))
}

/// `page`: a whole number from 0 to [`MAX_PAGE`], empty as absent (Grafana's `QueryInt`), given
/// once (`crate::domain::Paging`).
pub fn page_schema(_: &mut SchemaGenerator) -> Schema {
    from_json(json!({ "anyOf": [
        { "type": "integer", "minimum": 0, "maximum": MAX_PAGE },
        { "type": "string", "maxLength": 0 },
    ] }))
}

/// `perpage`, `limit`: a whole number from 0 (the route's default) to [`MAX_PER_PAGE`], empty
/// as absent, given once.
pub fn page_size_schema(_: &mut SchemaGenerator) -> Schema {
    from_json(json!({ "anyOf": [
        { "type": "integer", "minimum": 0, "maximum": MAX_PER_PAGE },
        { "type": "string", "maxLength": 0 },
    ] }))
}

/// A comma-separated list of sort options (blank: the route's order).
pub fn sort_list_schema(options: &[&str]) -> Schema {
    let one = format!("({})", options.join("|"));
    let mut schema = SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        ..Default::default()
    };
    schema.string().pattern = Some(format!(r"^ *$|^ *{one} *(, *{one} *)*$"));
    Schema::Object(schema)
}

/// For `#[serde(deserialize_with = "first_value")]`: the first value of a name given more than
/// once, where a route reads the first (`/api/search`).
pub fn first_value<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(<Vec<String> as serde::Deserialize>::deserialize(d)?
        .into_iter()
        .next())
}

/// Go's `strconv.ParseBool` true values (anything else is false, as Grafana's `QueryBool`).
pub fn go_bool(v: Option<&str>) -> bool {
    matches!(v, Some("1" | "t" | "T" | "true" | "TRUE" | "True"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Q {
        query: Option<String>,
        tag: Vec<String>,
        count: Option<i64>,
        flag: bool,
    }

    #[test]
    fn last_value_wins_and_lists_take_every_value() {
        let q: Q = from_query("query=a&tag=x&query=b&tag=y&other=z").unwrap();
        assert_eq!(q.query.as_deref(), Some("b"));
        assert_eq!(q.tag, ["x", "y"]);
        assert_eq!(q.count, None);
        let q: Q = from_query("count=%2012&flag=true").unwrap();
        assert_eq!((q.count, q.flag), (Some(12), true));
    }

    #[test]
    fn a_value_the_type_cannot_take_is_a_400() {
        let err = from_query::<Q>("count=ten").err().unwrap();
        assert!(matches!(err, ApiError::BadRequest(m) if m.contains("ten")));
    }
}
