//! Subjects and routing keys with placeholders: `ivr.{app}.{status}`. A value is one token of
//! the subject: a `.`, `*`, `>` or whitespace in it becomes `_`, so a call id can never add
//! tokens or wildcards.

use ivrhook_store::outbox::Payload;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    App,
    Event,
    Status,
    Call,
}

/// A parsed template; a placeholder it does not know is refused when it is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    text: String,
}

impl Template {
    /// A template such as `calls.{app}.{status}`; refuses an unknown placeholder by name.
    pub fn parse(text: &str) -> Result<Template, String> {
        if text.is_empty() {
            return Err("must not be empty".into());
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("{text:?} has a {{ without its }}"))?;
            parts.push(match &rest[open + 1..open + close] {
                "app" => Part::App,
                "event" => Part::Event,
                "status" => Part::Status,
                "call" => Part::Call,
                other => {
                    return Err(format!(
                        "{{{other}}} is not a placeholder; use {{app}}, {{event}}, {{status}} or {{call}}"
                    ))
                }
            });
            rest = &rest[open + close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("{text:?} has a }} without its {{"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template {
            parts,
            text: text.to_owned(),
        })
    }

    /// The template as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The subject for one delivery.
    pub fn render(&self, payload: &Payload, call_id: &str) -> String {
        let (app, event, status) = match payload {
            Payload::Report(r) => (
                r.app_id.as_str(),
                r.event.as_str(),
                match r.status {
                    Some(0) => "completed",
                    Some(1) => "hungup",
                    _ => "none",
                },
            ),
            Payload::Event { .. } => ("unknown", "unknown", "none"),
        };
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::App => push_token(&mut out, app),
                Part::Event => push_token(&mut out, event),
                Part::Status => push_token(&mut out, status),
                Part::Call => push_token(&mut out, call_id),
            }
        }
        out
    }

    /// The template with each placeholder as a one-token wildcard: the subjects a stream made
    /// for it listens on.
    pub fn wildcard(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.as_str(),
                _ => "*",
            })
            .collect()
    }
}

fn push_token(out: &mut String, value: &str) {
    let token = value.chars().map(|c| match c {
        '.' | '*' | '>' => '_',
        c if c.is_whitespace() => '_',
        c => c,
    });
    out.extend(token);
    if value.is_empty() {
        out.push('_');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivrhook_store::outbox::ReceivedReport;

    fn report(status: Option<i64>) -> Payload {
        Payload::Report(ReceivedReport {
            id: 1,
            app_id: "a1".into(),
            event: "multrpt".into(),
            status,
            received_at_ms: 0,
            raw: Vec::new(),
            utc_offset: None,
            warnings: "[]".into(),
        })
    }

    #[test]
    fn placeholders_are_filled_one_token_each() {
        let t = Template::parse("ivr.{app}.{status}.{call}").unwrap();
        assert_eq!(
            t.render(&report(Some(1)), "88-x-out"),
            "ivr.a1.hungup.88-x-out"
        );
        assert_eq!(
            t.render(&report(Some(0)), "a.b *>"),
            "ivr.a1.completed.a_b___"
        );
        assert_eq!(t.render(&report(None), ""), "ivr.a1.none._");
        assert_eq!(t.wildcard(), "ivr.*.*.*");
        let plain = Template::parse("{event}").unwrap();
        assert_eq!(plain.render(&report(None), "c"), "multrpt");
    }

    #[test]
    fn unknown_or_broken_placeholders_are_refused_by_name() {
        assert!(Template::parse("ivr.{ap}")
            .unwrap_err()
            .contains("{ap} is not a placeholder"));
        assert!(Template::parse("ivr.{app")
            .unwrap_err()
            .contains("without its }"));
        assert!(Template::parse("ivr.app}")
            .unwrap_err()
            .contains("without its {"));
        assert!(Template::parse("").is_err());
    }
}
