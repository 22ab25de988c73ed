//! `ivrhook bench`: measures the two paths the product exists for, on this machine.
//!
//! - `load`: the load generator (hyper's bare HTTP/1 client, N keep-alive connections).
//! - `server`: the server under test as a child process; its CPU and memory from /proc.
//! - `ceiling`: the HTTP stack alone, answering without decoding or storing.
//! - `receive`, `deliver`: the two benches.

pub mod ceiling;
pub mod deliver;
pub mod load;
pub mod receive;
pub mod server;

use crate::stats::table;
use serde_json::Value;

/// A bench's figures, as the JSON the acceptance checks read.
#[derive(Debug)]
pub struct Report {
    pub json: Value,
}

impl Report {
    /// A human table of every figure, with the machine.
    pub fn render(&self) -> String {
        let (cores, mem) = server::machine();
        let mut rows = vec![("machine".to_owned(), format!("{cores} cores, {mem:.1} GiB"))];
        if let Value::Object(m) = &self.json {
            for (k, v) in m {
                let shown = match v {
                    Value::Number(n) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                rows.push((k.clone(), shown));
            }
        }
        table(&rows)
    }
}
