//! An IVR menu tree for `simulate --ivr-flow`: prompts with how long they play, how often
//! callers hang up during them, and for DTMF prompts which keys lead where. A call walks it
//! from `start`; the analytics page then shows the funnel and hang-ups the tree implies.

use crate::calls::Rng;
use serde::Deserialize;

/// The built-in tree (`--ivr-flow example`).
pub const EXAMPLE: &str = include_str!("flow_example.toml");
/// Prompts a call runs at most (a tree may loop back to a menu).
const MAX_STEPS: usize = 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    start: String,
    prompts: Vec<Prompt>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Prompt {
    name: String,
    #[serde(default)]
    dtmf: bool,
    seconds: [f64; 2],
    #[serde(default)]
    hang_up: f64,
    #[serde(default)]
    no_key: f64,
    next: Option<String>,
    #[serde(default)]
    keys: Vec<Key>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Key {
    key: String,
    weight: u32,
    next: Option<String>,
}

/// One prompt a call ran: for how long, the keys entered at a DTMF prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub prompt: String,
    pub dtmf: bool,
    pub took_ms: i64,
    pub keys: Option<String>,
    /// The caller hung up during it, this long after it started.
    pub hung_up_after_ms: Option<i64>,
}

impl Flow {
    /// `text` (TOML) read and checked; the error names the key.
    pub fn parse(text: &str) -> Result<Flow, String> {
        let flow: Flow = toml::from_str(text).map_err(|e| e.to_string())?;
        flow.check()?;
        Ok(flow)
    }

    /// `example` (the built-in tree) or a TOML file.
    pub fn load(name: &str) -> Result<Flow, String> {
        if name == "example" {
            return Flow::parse(EXAMPLE);
        }
        let text = std::fs::read_to_string(name).map_err(|e| format!("{name}: {e}"))?;
        Flow::parse(&text).map_err(|e| format!("{name}: {e}"))
    }

    fn check(&self) -> Result<(), String> {
        let known = |name: &str| self.prompts.iter().any(|p| p.name == name);
        if !known(&self.start) {
            return Err(format!("start: {:?} is not a prompt's name", self.start));
        }
        for (i, p) in self.prompts.iter().enumerate() {
            let at = |key: &str| format!("prompts[{i}].{key}");
            let [lo, hi] = p.seconds;
            if !(0.0..=3600.0).contains(&lo) || hi < lo || hi > 3600.0 {
                return Err(format!(
                    "{}: must be [shortest, longest], 0 to 3600",
                    at("seconds")
                ));
            }
            for (key, p) in [("hang_up", p.hang_up), ("no_key", p.no_key)] {
                if !(0.0..=1.0).contains(&p) {
                    return Err(format!("{}: {p} is not a probability (0 to 1)", at(key)));
                }
            }
            let nexts = p
                .next
                .iter()
                .chain(p.keys.iter().filter_map(|k| k.next.as_ref()));
            if let Some(unknown) = nexts.into_iter().find(|n| !known(n)) {
                return Err(format!(
                    "{}: {unknown:?} is not a prompt's name",
                    at("next")
                ));
            }
            if !p.keys.is_empty() && !p.dtmf {
                return Err(format!("{}: only a dtmf prompt has keys", at("keys")));
            }
            if p.keys.iter().any(|k| k.weight == 0 || k.key.is_empty()) {
                return Err(format!(
                    "{}: each needs a key and a weight above 0",
                    at("keys")
                ));
            }
        }
        Ok(())
    }

    /// One call's walk through the tree.
    pub fn walk(&self, rng: &mut Rng) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut at = Some(self.start.as_str());
        while let Some(name) = at.take() {
            let Some(p) = self.prompts.iter().find(|p| p.name == name) else {
                break;
            };
            let [lo, hi] = p.seconds.map(|s| (s * 1000.0) as u64);
            let took_ms = rng.range(lo, hi) as i64;
            if rng.chance(p.hang_up) {
                let after = rng.range(0, took_ms as u64) as i64;
                steps.push(Step::of(p, took_ms, None, Some(after)));
                break;
            }
            let (keys, next) = p.choose(rng);
            steps.push(Step::of(p, took_ms, keys, None));
            at = next.filter(|_| steps.len() < MAX_STEPS);
        }
        steps
    }
}

impl Prompt {
    /// The keys entered and where the call goes next.
    fn choose(&self, rng: &mut Rng) -> (Option<String>, Option<&str>) {
        let total: u64 = self.keys.iter().map(|k| u64::from(k.weight)).sum();
        if !self.dtmf || total == 0 || rng.chance(self.no_key) {
            return (None, self.next.as_deref());
        }
        let mut pick = rng.range(1, total);
        for k in &self.keys {
            if pick <= u64::from(k.weight) {
                return (Some(k.key.clone()), k.next.as_deref());
            }
            pick -= u64::from(k.weight);
        }
        (None, self.next.as_deref())
    }
}

impl Step {
    fn of(p: &Prompt, took_ms: i64, keys: Option<String>, hung_up_after_ms: Option<i64>) -> Step {
        Step {
            prompt: p.name.clone(),
            dtmf: p.dtmf,
            took_ms,
            keys,
            hung_up_after_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_walks_as_its_probabilities_say() {
        let flow = Flow::parse(EXAMPLE).unwrap();
        let mut rng = Rng::new(3);
        let walks: Vec<Vec<Step>> = (0..10_000).map(|_| flow.walk(&mut rng)).collect();
        assert!(walks.iter().all(|w| w[0].prompt == "welcome"));
        let at = |name: &'static str| walks.iter().flatten().filter(move |s| s.prompt == name);
        let (reached, hung_up) = (
            at("welcome").count(),
            at("welcome")
                .filter(|s| s.hung_up_after_ms.is_some())
                .count(),
        );
        assert_eq!(reached, 10_000);
        assert!((300..500).contains(&hung_up), "about 4 %: {hung_up}");
        let ones = at("main menu")
            .filter(|s| s.keys.as_deref() == Some("1"))
            .count();
        let twos = at("main menu")
            .filter(|s| s.keys.as_deref() == Some("2"))
            .count();
        assert!(ones > twos * 3 / 2, "weights 6 and 3: {ones} and {twos}");
        let ended = |w: &&Vec<Step>| w.last().unwrap().hung_up_after_ms.is_none();
        let to_goodbye = walks
            .iter()
            .filter(ended)
            .filter(|w| w.last().unwrap().prompt == "goodbye");
        assert!(to_goodbye.count() > 0);
        let hung = walks
            .iter()
            .flatten()
            .filter(|s| s.hung_up_after_ms.is_some());
        assert!(hung
            .clone()
            .all(|s| s.hung_up_after_ms.unwrap() <= s.took_ms));
    }

    #[test]
    fn a_mistake_is_named_by_its_key() {
        let refused = |text: &str| Flow::parse(text).unwrap_err();
        let one = |extra: &str| {
            format!("start = \"a\"\n[[prompts]]\nname = \"a\"\nseconds = [1, 2]\n{extra}")
        };
        assert_eq!(
            refused(&one("next = \"b\"")),
            "prompts[0].next: \"b\" is not a prompt's name"
        );
        assert_eq!(
            refused(&one("hang_up = 1.5")),
            "prompts[0].hang_up: 1.5 is not a probability (0 to 1)"
        );
        assert_eq!(
            refused(&one("keys = [{ key = \"1\", weight = 1 }]")),
            "prompts[0].keys: only a dtmf prompt has keys"
        );
        assert!(refused(&one("colour = 1")).contains("unknown field `colour`"));
        let looping = Flow::parse(&one("next = \"a\"")).unwrap();
        assert_eq!(
            looping.walk(&mut Rng::new(1)).len(),
            MAX_STEPS,
            "a loop ends"
        );
    }
}
