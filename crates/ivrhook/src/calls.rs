//! Realistic IVR calls, the same for the same seed: what a voice platform reports.

use ivrhook_protocol::{
    AppId, CallId, CallStatus, Command, Entry, Hangup, HangupNotice, Report, Timestamp, UtcOffset,
};

/// A small seeded generator (splitmix64): reproducible traffic needs no more.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

const DATA: [&str; 5] = [
    "订单 20240131-7781",
    "回访: 满意度调查",
    "café order #42",
    "用户按键确认",
    "appointment Tue 10:30",
];

/// Generates calls for one app: a few playback and DTMF commands each, some hung up early.
#[derive(Debug)]
pub struct CallGenerator {
    rng: Rng,
    app: AppId,
    hangup_ratio: f64,
    /// Start of the simulated day, in platform-local milliseconds.
    clock_ms: i64,
    serial: u64,
    /// Where hung-up calls' recordings are (`simulate --recordings`); a placeholder otherwise.
    recordings: Option<crate::recording_server::RecordingServer>,
    /// The menu tree calls walk (`simulate --ivr-flow`); random commands otherwise.
    flow: Option<crate::flow::Flow>,
}

impl CallGenerator {
    pub fn new(app: AppId, seed: u64, hangup_ratio: f64) -> CallGenerator {
        CallGenerator {
            rng: Rng::new(seed),
            app,
            hangup_ratio,
            clock_ms: 1_767_225_600_000, // 2026-01-01T00:00:00 platform time
            serial: 0,
            recordings: None,
            flow: None,
        }
    }

    /// Calls walk `flow`.
    pub fn walking(mut self, flow: crate::flow::Flow) -> Self {
        self.flow = Some(flow);
        self
    }

    /// Hung-up calls' recordings are at `server`.
    pub fn recordings_at(mut self, server: crate::recording_server::RecordingServer) -> Self {
        self.recordings = Some(server);
        self
    }

    fn stamp(&self, ms: i64) -> Timestamp {
        let t = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .naive_utc();
        let text = t.format("%Y%m%d%H%M%S%3f").to_string();
        Timestamp::parse(&text, UtcOffset::default()).expect("formatted as 17 digits")
    }

    /// The next call's report.
    pub fn next_report(&mut self) -> Report {
        self.serial += 1;
        self.clock_ms += self.rng.range(50, 2_000) as i64;
        let start_text = self.stamp(self.clock_ms).text()[..14].to_owned();
        let r = &mut self.rng;
        let call_id = format!(
            "88-{start_text}{:011}-{:016x}-out",
            self.serial % 100_000_000_000,
            r.next_u64()
        );
        let flow = self.flow.take();
        let (entries, hung_up, at) = match &flow {
            Some(flow) => self.walked(flow),
            None => self.random_commands(),
        };
        self.flow = flow;
        let hangup = hung_up.then(|| {
            Hangup::Notice(HangupNotice {
                event: Some(String::new()),
                call_id: Some(call_id.clone()),
                app_id: Some(self.app.to_string()),
                direction: Some("1".into()),
                recording_url: Some(match &self.recordings {
                    Some(server) => server.link(&call_id),
                    None => format!("https://records.example/{}/{call_id}.wav", self.app),
                }),
                reason: Some(self.rng.range(0, 3).to_string()),
                time: Some(self.stamp(at)),
                extra: Default::default(),
            })
        });
        Report {
            app_id: self.app.clone(),
            call_id: CallId::try_from(call_id).expect("generated call ids are valid"),
            event: "multrpt".into(),
            status: Some(if hung_up {
                CallStatus::HungUp
            } else {
                CallStatus::Completed
            }),
            data: Some(DATA[self.rng.range(0, DATA.len() as u64 - 1) as usize].into()),
            entries,
            hangup,
            extra: Default::default(),
        }
    }
}

impl CallGenerator {
    /// One to five commands, some DTMF, hung up during one with `hangup_ratio`: the
    /// commands, whether hung up, and when the call ended.
    fn random_commands(&mut self) -> (Vec<Entry>, bool, i64) {
        let r = &mut self.rng;
        let planned = r.range(1, 5) as usize;
        let hung_up = r.chance(self.hangup_ratio);
        let executed = if hung_up {
            r.range(1, planned as u64) as usize
        } else {
            planned
        };
        let mut at = self.clock_ms;
        let mut entries = Vec::with_capacity(executed);
        for i in 0..executed {
            let dtmf = self.rng.chance(0.4);
            let took = if dtmf {
                self.rng.range(1_000, 8_000)
            } else {
                self.rng.range(2_000, 15_000)
            } as i64;
            let last = i + 1 == executed;
            let keys = (dtmf && last && !hung_up).then(|| format!("{}#", self.rng.range(0, 9)));
            entries.push(self.command(dtmf, at, at + took, keys, format!("step {}", i + 1)));
            at += took + self.rng.range(50, 400) as i64;
        }
        (entries, hung_up, at)
    }

    /// The commands of one walk through `flow`, as `random_commands`.
    fn walked(&mut self, flow: &crate::flow::Flow) -> (Vec<Entry>, bool, i64) {
        let steps = flow.walk(&mut self.rng);
        let mut at = self.clock_ms;
        let (mut entries, mut hung_up) = (Vec::with_capacity(steps.len()), false);
        for s in steps {
            let took = s.hung_up_after_ms.unwrap_or(s.took_ms);
            entries.push(self.command(s.dtmf, at, at + took, s.keys, s.prompt));
            at += took;
            if s.hung_up_after_ms.is_some() {
                hung_up = true;
                break;
            }
            at += self.rng.range(50, 400) as i64;
        }
        (entries, hung_up, at)
    }

    fn command(&self, dtmf: bool, from: i64, to: i64, keys: Option<String>, data: String) -> Entry {
        Entry::Command(Command {
            event: Some(if dtmf { "ivrreportdtmf" } else { "playoverrpt" }.into()),
            code: Some("0".into()),
            start: Some(self.stamp(from)),
            end: Some(self.stamp(to)),
            dtmf: keys,
            data: Some(data),
            extra: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivrhook_protocol::{decode, DecodeOptions};

    fn generator(seed: u64) -> CallGenerator {
        CallGenerator::new(
            AppId::try_from("247e35ff320a4142a105024055c367cf").unwrap(),
            seed,
            0.3,
        )
    }

    #[test]
    fn the_same_seed_gives_the_same_calls() {
        let (mut a, mut b, mut c) = (generator(7), generator(7), generator(8));
        let first: Vec<Report> = (0..20).map(|_| a.next_report()).collect();
        let again: Vec<Report> = (0..20).map(|_| b.next_report()).collect();
        assert_eq!(first, again);
        assert_ne!(first[0], c.next_report());
    }

    #[test]
    fn generated_calls_meet_the_contract_strictly() {
        let mut g = generator(1);
        let mut hung_up = 0;
        for _ in 0..500 {
            let r = g.next_report();
            let decoded = decode(
                &r.to_bytes(),
                &DecodeOptions {
                    strict: true,
                    ..Default::default()
                },
            )
            .expect("strictly valid");
            assert_eq!(decoded.report, r);
            assert!(r.call_id.as_str().starts_with("88-") && r.call_id.as_str().ends_with("-out"));
            if r.status == Some(CallStatus::HungUp) {
                hung_up += 1;
                assert!(matches!(r.hangup, Some(Hangup::Notice(_))));
            }
            // DTMF keys only ever on the last command.
            let keyed: Vec<usize> = r
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| matches!(e, Entry::Command(c) if c.dtmf.is_some()))
                .map(|(i, _)| i)
                .collect();
            assert!(keyed.iter().all(|i| *i + 1 == r.entries.len()));
        }
        assert!(
            (100..200).contains(&hung_up),
            "about 30 % hung up: {hung_up}"
        );
    }
}
