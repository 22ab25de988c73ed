//! `ivrhook simulate --recordings`: the platform's recording server. It serves a WAV file of a
//! few seconds of tone for every hung-up call it was told of; one call in three answers 404
//! to its first two requests (a recording not ready yet), as platforms do.

use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

/// Requests answered 404 before the file, for the calls that are "not ready".
const NOT_READY_FOR: u32 = 2;

/// The recording server: where it listens, and which links have been fetched.
#[derive(Debug, Clone)]
pub struct RecordingServer {
    addr: SocketAddr,
    seen: Arc<Mutex<HashMap<String, Fetched>>>,
}

/// What a link was asked for.
#[derive(Debug, Clone, Copy, Default)]
struct Fetched {
    requests: u32,
    served: bool,
}

impl RecordingServer {
    /// Listens on `addr` (port 0: any free one) and serves until the process ends.
    pub async fn start(addr: SocketAddr) -> std::io::Result<RecordingServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let server = RecordingServer {
            addr: listener.local_addr()?,
            seen: Arc::clone(&seen),
        };
        let app = Router::new()
            .route("/rec/{file}", get(recording))
            .with_state(seen);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(server)
    }

    /// The link of a call's recording here, which it expects to be fetched.
    pub fn link(&self, call_id: &str) -> String {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.entry(call_id.to_owned()).or_default();
        let file =
            percent_encoding::utf8_percent_encode(call_id, percent_encoding::NON_ALPHANUMERIC);
        format!("http://{}/rec/{file}.wav", self.addr)
    }

    /// Of the links handed out: how many, how many were asked for, how many served whole.
    pub fn fetched(&self) -> (usize, usize, usize) {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let asked = seen.values().filter(|f| f.requests > 0).count();
        (
            seen.len(),
            asked,
            seen.values().filter(|f| f.served).count(),
        )
    }
}

async fn recording(
    State(seen): State<Arc<Mutex<HashMap<String, Fetched>>>>,
    Path(file): Path<String>,
) -> Response {
    let Some(call) = file.strip_suffix(".wav") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let requests = {
        let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        let Some(f) = seen.get_mut(call) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        f.requests += 1;
        let ready = !not_ready(call) || f.requests > NOT_READY_FOR;
        f.served |= ready;
        ready.then_some(f.requests)
    };
    match requests {
        Some(_) => ([(header::CONTENT_TYPE, "audio/wav")], tone(call)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// One call in three, by its id.
fn not_ready(call: &str) -> bool {
    call.bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 3
        == 0
}

/// Three seconds of a tone (16-bit mono at 8 kHz) whose pitch depends on the call: a valid
/// WAV file, 44 bytes of header and the samples.
fn tone(call: &str) -> Vec<u8> {
    const RATE: u32 = 8000;
    let samples = RATE * 3;
    let pitch = 330.0 + f64::from(call.len() as u32 % 7) * 55.0;
    let data = samples * 2;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    for field in [
        16u32.to_le_bytes(),
        [1, 0, 1, 0],
        RATE.to_le_bytes(),
        (RATE * 2).to_le_bytes(),
    ] {
        out.extend_from_slice(&field);
    }
    out.extend_from_slice(&[2, 0, 16, 0]);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for n in 0..samples {
        let t = f64::from(n) / f64::from(RATE);
        let v = (t * pitch * std::f64::consts::TAU).sin() * 8000.0;
        out.extend_from_slice(&(v as i16).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tone_is_a_wav_file_of_three_seconds() {
        let wav = super::tone("c1");
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(
            u32::from_le_bytes(wav[24..28].try_into().unwrap()),
            8000,
            "sample rate"
        );
        assert_eq!(
            u32::from_le_bytes(wav[40..44].try_into().unwrap()),
            48_000,
            "data bytes"
        );
        assert_eq!(wav.len(), 44 + 48_000);
        assert_eq!(
            u32::from_le_bytes(wav[4..8].try_into().unwrap()),
            36 + 48_000
        );
    }
}
