//! The catalogue of operator event types, and the `type` filter an alert destination selects
//! them with (a list of types, each exact or a prefix ending in `*`).

/// Every operator event type, in the order the documentation lists them.
pub const TYPES: &[&str] = &[
    "delivery.dead",
    "destination.failing",
    "destination.recovered",
    "app.callback.failing",
    "app.callback.recovered",
    "call.overdue",
    "call.overdue.resolved",
    "backlog.high",
    "backlog.normal",
    "destination.paused",
    "destination.resumed",
    "recording.failed",
];

/// Which operator event types a destination receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeFilter {
    patterns: Vec<String>,
}

impl Default for TypeFilter {
    /// Every type.
    fn default() -> Self {
        TypeFilter {
            patterns: vec!["*".to_owned()],
        }
    }
}

impl TypeFilter {
    /// A filter from its patterns; a pattern that can match no type in the catalogue is
    /// refused, naming it.
    pub fn parse(patterns: &[String]) -> Result<TypeFilter, String> {
        if patterns.is_empty() {
            return Err("is empty: list the types to receive, or remove it for all".into());
        }
        for p in patterns {
            if !TYPES.iter().any(|t| matches(p, t)) {
                return Err(format!(
                    "{p:?} matches no operator event type (types: {}; a trailing * matches \
                     a prefix)",
                    TYPES.join(", ")
                ));
            }
        }
        Ok(TypeFilter {
            patterns: patterns.to_vec(),
        })
    }

    /// Whether an event of type `ty` passes.
    pub fn matches(&self, ty: &str) -> bool {
        self.patterns.iter().any(|p| matches(p, ty))
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

fn matches(pattern: &str, ty: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => ty.starts_with(prefix),
        None => pattern == ty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(patterns: &[&str]) -> Result<TypeFilter, String> {
        TypeFilter::parse(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn exact_types_and_prefixes_select() {
        let f = filter(&["delivery.*", "call.overdue"]).unwrap();
        assert!(f.matches("delivery.dead"));
        assert!(f.matches("call.overdue"));
        assert!(!f.matches("call.overdue.resolved"), "exact, not a prefix");
        assert!(!f.matches("destination.failing"));
        assert!(TypeFilter::default().matches("backlog.high"));
    }

    #[test]
    fn a_pattern_that_matches_nothing_is_refused_by_name() {
        let e = filter(&["delivery.*", "delivery.died"]).unwrap_err();
        assert!(
            e.starts_with("\"delivery.died\" matches no operator event type"),
            "{e}"
        );
        assert!(filter(&[]).unwrap_err().starts_with("is empty"));
        assert!(filter(&["*"]).is_ok());
    }
}
