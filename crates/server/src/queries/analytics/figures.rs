//! The analytics' figures, summed from the stored counts of a span (pure).

use super::funnel::{funnel, Path};
use ivrhook_engine::analytics::OTHER;
use ivrhook_store::analytics::{Count, Measure};
use serde::Serialize;
use std::collections::BTreeMap;

/// Key values shown by name per prompt; the rest are summed as `(other)`.
const KEYS_SHOWN: usize = 20;

/// An app's IVR over a span.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Figures {
    pub calls: i64,
    pub completed: i64,
    pub hung_up: i64,
    pub completed_share: Option<f64>,
    pub hung_up_share: Option<f64>,
    pub length_median_ms: Option<i64>,
    pub length_p90_ms: Option<i64>,
    /// By position, then prompt.
    pub prompts: Vec<Prompt>,
    /// The most common sequences, most common first.
    pub funnel: Vec<Path>,
}

/// A prompt at a position.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Prompt {
    pub position: i64,
    pub prompt: String,
    pub played: i64,
    pub to_end: i64,
    pub to_end_share: Option<f64>,
    pub listened_median_ms: Option<i64>,
    pub hung_up: i64,
    pub hung_up_share: Option<f64>,
    /// For a DTMF prompt: what was entered.
    pub dtmf: Option<Dtmf>,
}

/// The keys entered at a DTMF prompt.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Dtmf {
    pub no_key: i64,
    pub no_key_share: Option<f64>,
    /// The most entered first (at most 20, then `(other)`).
    pub keys: Vec<Entered>,
}

/// How many times `keys` were entered.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Entered {
    pub keys: String,
    pub n: i64,
}

/// What the counts of one position and prompt add up to.
#[derive(Debug, Default)]
struct Sums {
    by: BTreeMap<Measure, i64>,
    /// Lengths or listened times, by bucket.
    times: BTreeMap<i64, i64>,
    keys: BTreeMap<String, i64>,
}

/// The figures of `counts`.
pub(crate) fn figures(counts: &[Count]) -> Figures {
    let mut call = Sums::default();
    let (mut statuses, mut paths) = (BTreeMap::new(), BTreeMap::new());
    let mut prompts: BTreeMap<(i64, &str), Sums> = BTreeMap::new();
    for c in counts {
        let k = &c.key;
        match (k.position, k.measure) {
            (0, Measure::Calls) => *statuses.entry(k.label.as_str()).or_insert(0) += c.n,
            (0, Measure::Path) => *paths.entry(k.label.as_str()).or_insert(0) += c.n,
            (0, _) => call.add(k.measure, &k.label, c.n),
            (p, m) => (prompts.entry((p, &k.prompt)).or_default()).add(m, &k.label, c.n),
        }
    }
    let completed = statuses.get("0").copied().unwrap_or(0);
    let hung_up = statuses.get("1").copied().unwrap_or(0);
    let calls = completed + hung_up;
    Figures {
        calls,
        completed,
        hung_up,
        completed_share: share(completed, calls),
        hung_up_share: share(hung_up, calls),
        length_median_ms: quantile(&call.times, 0.5),
        length_p90_ms: quantile(&call.times, 0.9),
        prompts: (prompts.into_iter())
            .map(|((position, prompt), sums)| sums.prompt(position, prompt))
            .collect(),
        funnel: funnel(&paths),
    }
}

impl Sums {
    fn add(&mut self, measure: Measure, label: &str, n: i64) {
        match measure {
            Measure::Listened | Measure::Length => {
                if let Ok(ms) = label.parse() {
                    *self.times.entry(ms).or_default() += n;
                }
            }
            Measure::Keys => *self.keys.entry(label.to_owned()).or_default() += n,
            m => *self.by.entry(m).or_default() += n,
        }
    }

    fn prompt(self, position: i64, prompt: &str) -> Prompt {
        let of = |m| self.by.get(&m).copied().unwrap_or(0);
        let (played, to_end, hung_up) =
            (of(Measure::Played), of(Measure::ToEnd), of(Measure::HungUp));
        let no_key = of(Measure::NoKey);
        let dtmf = (no_key > 0 || !self.keys.is_empty()).then(|| Dtmf {
            no_key,
            no_key_share: share(no_key, played),
            keys: entered(self.keys),
        });
        Prompt {
            position,
            prompt: prompt.to_owned(),
            played,
            to_end,
            to_end_share: share(to_end, played),
            listened_median_ms: quantile(&self.times, 0.5),
            hung_up,
            hung_up_share: share(hung_up, played),
            dtmf,
        }
    }
}

/// The [`KEYS_SHOWN`] most entered, then the rest as `(other)`.
fn entered(keys: BTreeMap<String, i64>) -> Vec<Entered> {
    let mut sorted: Vec<Entered> = (keys.into_iter())
        .map(|(keys, n)| Entered { keys, n })
        .collect();
    sorted.sort_by(|a, b| (b.n, &a.keys).cmp(&(a.n, &b.keys)));
    let (mut shown, mut other) = (Vec::new(), 0);
    for e in sorted {
        match e.keys != OTHER && shown.len() < KEYS_SHOWN {
            true => shown.push(e),
            false => other += e.n,
        }
    }
    if other > 0 {
        shown.push(Entered {
            keys: OTHER.to_owned(),
            n: other,
        });
    }
    shown
}

/// `part / whole`, when there is a whole.
pub(super) fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The nearest-rank `q` quantile of a histogram of buckets: the first bucket at which the
/// running count reaches `q` of the whole.
fn quantile(buckets: &BTreeMap<i64, i64>, q: f64) -> Option<i64> {
    let total: i64 = buckets.values().sum();
    let rank = ((total as f64) * q).ceil().max(1.0) as i64;
    let mut seen = 0;
    buckets.iter().find_map(|(bucket, n)| {
        seen += n;
        (seen >= rank).then_some(*bucket)
    })
}
