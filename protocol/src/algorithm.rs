//! How a module describes the algorithms it can train, and how a host asks
//! for one: by name, with values for its parameters.
//!
//! The description is the one source of truth for both sides. A module
//! lists each algorithm with every parameter's kind, default and valid
//! range; a host builds its flags, its training form and its saved-model
//! metadata from that list, and a module written in another language can
//! offer knobs the host has never heard of. Both sides run the same
//! [`AlgorithmInfo::check`], so a value out of range is refused by the host
//! before it is sent, and by the module if another host sends it anyway.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a trained model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Predicts stars: `Predict`, and the `prediction` of a recommendation.
    Rating,
    /// Orders the lists: once trained, `Recommend` ranks by it.
    Ranking,
}

/// One algorithm a module offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlgorithmInfo {
    /// What a [`ModelSpec`] calls it, e.g. `svd`.
    pub name: String,
    pub role: Role,
    /// One line for people.
    pub description: String,
    pub params: Vec<ParamInfo>,
}

/// One knob of an algorithm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    pub name: String,
    /// One line for people.
    pub help: String,
    pub kind: ParamKind,
}

/// A parameter's type, default and valid values (ranges are inclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParamKind {
    Integer { default: i64, min: i64, max: i64 },
    Real { default: f64, min: f64, max: f64 },
    Choice { default: String, choices: Vec<String> },
}

/// A parameter's value. On the wire it is a tagged enum; in JSON (saved
/// model metadata, `--json` reports) it is a bare number or string.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Integer(i64),
    Real(f64),
    Choice(String),
}

/// What to train: an algorithm by name, and values for some or all of its
/// parameters (the ones left out take their defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub algorithm: String,
    /// In JSON, an object `{"factors": 200, …}` in this order.
    #[serde(with = "readable::params")]
    pub params: Vec<(String, Value)>,
}

/// Why a [`ModelSpec`] was refused. Every variant but the first names the
/// parameter, so a message can tell the user which flag to change.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamError {
    UnknownAlgorithm {
        algorithm: String,
        offered: Vec<String>,
    },
    UnknownParam {
        algorithm: String,
        param: String,
        known: Vec<String>,
    },
    Repeated {
        algorithm: String,
        param: String,
    },
    /// A value of the wrong kind, text that does not parse, or a value out of range.
    Invalid {
        algorithm: String,
        param: String,
        expected: String,
        got: String,
    },
}

impl ParamKind {
    pub fn default_value(&self) -> Value {
        match self {
            ParamKind::Integer { default, .. } => Value::Integer(*default),
            ParamKind::Real { default, .. } => Value::Real(*default),
            ParamKind::Choice { default, .. } => Value::Choice(default.clone()),
        }
    }

    /// The valid values in words, e.g. "an integer from 1 to 1024".
    pub fn expected(&self) -> String {
        match self {
            ParamKind::Integer { min, max, .. } => format!("an integer from {min} to {max}"),
            ParamKind::Real { min, max, .. } => format!("a number from {min} to {max}"),
            ParamKind::Choice { choices, .. } => format!("one of {}", choices.join(", ")),
        }
    }

    fn admits(&self, value: &Value) -> bool {
        match (self, value) {
            (ParamKind::Integer { min, max, .. }, Value::Integer(x)) => (min..=max).contains(&x),
            // A NaN is in no range, so it is refused here too.
            (ParamKind::Real { min, max, .. }, Value::Real(x)) => (min..=max).contains(&x),
            (ParamKind::Choice { choices, .. }, Value::Choice(c)) => choices.contains(c),
            _ => false,
        }
    }
}

impl ParamInfo {
    pub fn integer(name: &str, default: i64, min: i64, max: i64, help: &str) -> ParamInfo {
        ParamInfo { name: name.into(), help: help.into(), kind: ParamKind::Integer { default, min, max } }
    }

    pub fn real(name: &str, default: f64, min: f64, max: f64, help: &str) -> ParamInfo {
        ParamInfo { name: name.into(), help: help.into(), kind: ParamKind::Real { default, min, max } }
    }

    pub fn choice(name: &str, default: &str, choices: &[&str], help: &str) -> ParamInfo {
        let kind =
            ParamKind::Choice { default: default.into(), choices: choices.iter().map(|c| c.to_string()).collect() };
        ParamInfo { name: name.into(), help: help.into(), kind }
    }

    /// Reads a value typed by a person (a flag, a form field). The result
    /// still has to pass [`AlgorithmInfo::check`] for its range.
    pub fn parse(&self, text: &str) -> Option<Value> {
        let text = text.trim();
        match &self.kind {
            ParamKind::Integer { .. } => text.parse().ok().map(Value::Integer),
            ParamKind::Real { .. } => text.parse().ok().map(Value::Real),
            ParamKind::Choice { .. } => Some(Value::Choice(text.to_string())),
        }
    }
}

impl AlgorithmInfo {
    /// Every parameter at its default.
    pub fn defaults(&self) -> ModelSpec {
        ModelSpec {
            algorithm: self.name.clone(),
            params: self.params.iter().map(|p| (p.name.clone(), p.kind.default_value())).collect(),
        }
    }

    pub fn param(&self, name: &str) -> Option<&ParamInfo> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The parameter `name` read from `text` (as typed on a command line or
    /// in a form), or why not: an unknown name, or text of the wrong kind.
    /// Ranges are checked by [`Self::check`].
    pub fn value(&self, name: &str, text: &str) -> Result<Value, ParamError> {
        let param = self.param(name).ok_or_else(|| ParamError::UnknownParam {
            algorithm: self.name.clone(),
            param: name.into(),
            known: self.params.iter().map(|p| p.name.clone()).collect(),
        })?;
        param.parse(text).ok_or_else(|| ParamError::Invalid {
            algorithm: self.name.clone(),
            param: name.into(),
            expected: param.kind.expected(),
            got: text.into(),
        })
    }

    /// `spec` checked against this description: the algorithm is this one,
    /// every parameter is known, given once, of the right kind and in range.
    /// The result lists every parameter in the description's order, with
    /// defaults filled in.
    pub fn check(&self, spec: &ModelSpec) -> Result<ModelSpec, ParamError> {
        if spec.algorithm != self.name {
            return Err(ParamError::UnknownAlgorithm {
                algorithm: spec.algorithm.clone(),
                offered: vec![self.name.clone()],
            });
        }
        for (i, (name, _)) in spec.params.iter().enumerate() {
            if self.param(name).is_none() {
                return Err(ParamError::UnknownParam {
                    algorithm: self.name.clone(),
                    param: name.clone(),
                    known: self.params.iter().map(|p| p.name.clone()).collect(),
                });
            }
            if spec.params[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(ParamError::Repeated { algorithm: self.name.clone(), param: name.clone() });
            }
        }
        let mut params = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let value = spec.get(&p.name).cloned().unwrap_or_else(|| p.kind.default_value());
            if !p.kind.admits(&value) {
                return Err(ParamError::Invalid {
                    algorithm: self.name.clone(),
                    param: p.name.clone(),
                    expected: p.kind.expected(),
                    got: value.to_string(),
                });
            }
            params.push((p.name.clone(), value));
        }
        Ok(ModelSpec { algorithm: self.name.clone(), params })
    }
}

impl ModelSpec {
    /// `algorithm` with every parameter left at its default.
    pub fn new(algorithm: &str) -> ModelSpec {
        ModelSpec { algorithm: algorithm.into(), params: Vec::new() }
    }

    /// This spec with `name` set to `value` (replacing an earlier value).
    pub fn with(mut self, name: &str, value: Value) -> ModelSpec {
        self.set(name, value);
        self
    }

    pub fn set(&mut self, name: &str, value: Value) {
        match self.params.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.params.push((name.into(), value)),
        }
    }

    pub fn name(&self) -> &str {
        &self.algorithm
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Value::Integer(x)) => Some(*x),
            _ => None,
        }
    }

    pub fn real(&self, name: &str) -> Option<f64> {
        match self.get(name) {
            Some(Value::Real(x)) => Some(*x),
            _ => None,
        }
    }

    pub fn choice(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Choice(c)) => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer(x) => write!(f, "{x}"),
            Value::Real(x) => write!(f, "{x}"),
            Value::Choice(c) => write!(f, "{c}"),
        }
    }
}

/// `svd(factors=200, epochs=60)`: the parameters as given.
impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<String> = self.params.iter().map(|(n, v)| format!("{n}={v}")).collect();
        write!(f, "{}({})", self.algorithm, params.join(", "))
    }
}

impl ParamError {
    /// The parameter at fault, if the error is about one.
    pub fn param(&self) -> Option<&str> {
        match self {
            ParamError::UnknownAlgorithm { .. } => None,
            ParamError::UnknownParam { param, .. }
            | ParamError::Repeated { param, .. }
            | ParamError::Invalid { param, .. } => Some(param),
        }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::UnknownAlgorithm { algorithm, offered } => {
                write!(f, "no algorithm `{algorithm}` here (this module offers: {})", offered.join(", "))
            }
            ParamError::UnknownParam { algorithm, param, known } => {
                write!(f, "{algorithm} has no parameter `{param}` (its parameters: {})", known.join(", "))
            }
            ParamError::Repeated { algorithm, param } => {
                write!(f, "parameter `{param}` of {algorithm} is given twice")
            }
            ParamError::Invalid { algorithm, param, expected, got } => {
                write!(f, "parameter `{param}` of {algorithm} must be {expected}, not {got}")
            }
        }
    }
}

impl std::error::Error for ParamError {}

/// Serde forms that read well in JSON while postcard keeps the compact,
/// schema-ordered encoding (postcard is not human-readable, JSON is).
mod readable {
    use super::Value;
    use serde::de::{self, Deserializer, MapAccess, Visitor};
    use serde::ser::{SerializeMap, Serializer};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    enum Tagged {
        Integer(i64),
        Real(f64),
        Choice(String),
    }

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Bare {
        Integer(i64),
        Real(f64),
        Choice(String),
    }

    impl Serialize for Value {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match (self.clone(), s.is_human_readable()) {
                (Value::Integer(x), true) => Bare::Integer(x).serialize(s),
                (Value::Real(x), true) => Bare::Real(x).serialize(s),
                (Value::Choice(c), true) => Bare::Choice(c).serialize(s),
                (Value::Integer(x), false) => Tagged::Integer(x).serialize(s),
                (Value::Real(x), false) => Tagged::Real(x).serialize(s),
                (Value::Choice(c), false) => Tagged::Choice(c).serialize(s),
            }
        }
    }

    impl<'de> Deserialize<'de> for Value {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
            Ok(if d.is_human_readable() {
                match Bare::deserialize(d)? {
                    Bare::Integer(x) => Value::Integer(x),
                    Bare::Real(x) => Value::Real(x),
                    Bare::Choice(c) => Value::Choice(c),
                }
            } else {
                match Tagged::deserialize(d)? {
                    Tagged::Integer(x) => Value::Integer(x),
                    Tagged::Real(x) => Value::Real(x),
                    Tagged::Choice(c) => Value::Choice(c),
                }
            })
        }
    }

    pub mod params {
        use super::*;

        pub fn serialize<S: Serializer>(params: &[(String, Value)], s: S) -> Result<S::Ok, S::Error> {
            if !s.is_human_readable() {
                return params.serialize(s);
            }
            let mut map = s.serialize_map(Some(params.len()))?;
            for (name, value) in params {
                map.serialize_entry(name, value)?;
            }
            map.end()
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, Value)>, D::Error> {
            if !d.is_human_readable() {
                return Vec::deserialize(d);
            }
            struct InOrder;
            impl<'de> Visitor<'de> for InOrder {
                type Value = Vec<(String, Value)>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object of parameter values")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    let mut params = Vec::new();
                    while let Some(entry) = map.next_entry()? {
                        params.push(entry);
                    }
                    Ok(params)
                }
            }
            d.deserialize_map(InOrder).map_err(de::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> AlgorithmInfo {
        AlgorithmInfo {
            name: "knn".into(),
            role: Role::Rating,
            description: "item k-nearest neighbours".into(),
            params: vec![
                ParamInfo::integer("k", 40, 1, 500, "neighbours per movie"),
                ParamInfo::real("shrink", 100.0, 0.0, 1e4, "similarity shrinkage"),
                ParamInfo::choice("similarity", "cosine", &["cosine", "pearson"], "how movies are compared"),
            ],
        }
    }

    #[test]
    fn check_fills_defaults_in_description_order() {
        let spec = ModelSpec::new("knn").with("similarity", Value::Choice("pearson".into()));
        let full = info().check(&spec).unwrap();
        assert_eq!(full.to_string(), "knn(k=40, shrink=100, similarity=pearson)");
        assert_eq!(info().check(&full).unwrap(), full, "a checked spec checks to itself");
    }

    #[test]
    fn every_refusal_names_the_parameter_and_what_it_takes() {
        let bad = |name: &str, v: Value| info().check(&ModelSpec::new("knn").with(name, v)).unwrap_err();
        let e = bad("k", Value::Integer(0));
        assert_eq!(e.param(), Some("k"));
        assert_eq!(e.to_string(), "parameter `k` of knn must be an integer from 1 to 500, not 0");
        assert_eq!(bad("k", Value::Real(3.0)).param(), Some("k"), "wrong kind");
        assert_eq!(bad("shrink", Value::Real(f64::NAN)).param(), Some("shrink"), "NaN is in no range");
        assert!(bad("similarity", Value::Choice("jaccard".into())).to_string().contains("one of cosine, pearson"));
        let e = bad("kk", Value::Integer(3));
        assert!(e.to_string().contains("no parameter `kk`") && e.to_string().contains("k, shrink, similarity"));
        let twice = ModelSpec::new("knn").with("k", Value::Integer(3));
        let twice = ModelSpec { params: [twice.params.clone(), twice.params].concat(), ..twice };
        assert!(matches!(info().check(&twice), Err(ParamError::Repeated { .. })));
        assert!(matches!(info().check(&ModelSpec::new("svd")), Err(ParamError::UnknownAlgorithm { .. })));
    }

    #[test]
    fn people_type_values_as_text() {
        let i = info();
        assert_eq!(i.param("k").unwrap().parse(" 12 "), Some(Value::Integer(12)));
        assert_eq!(i.param("k").unwrap().parse("1.5"), None);
        assert_eq!(i.param("shrink").unwrap().parse("7"), Some(Value::Real(7.0)));
    }

    #[test]
    fn json_reads_like_flags_and_postcard_stays_compact() {
        let spec = info().check(&ModelSpec::new("knn")).unwrap();
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(json, r#"{"algorithm":"knn","params":{"k":40,"shrink":100.0,"similarity":"cosine"}}"#);
        assert_eq!(serde_json::from_str::<ModelSpec>(&json).unwrap(), spec);
        let wire = postcard::to_stdvec(&spec).unwrap();
        assert_eq!(postcard::from_bytes::<ModelSpec>(&wire).unwrap(), spec);
    }
}
