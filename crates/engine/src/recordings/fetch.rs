//! One link streamed into the recordings store: never the whole file in memory, the size
//! limit enforced as the bytes come, every redirect's target checked as the link itself.

use super::{
    answer::{answered, content_length, content_type, failed, retry, Answer},
    client::Fetcher,
    key::hex,
    upload::Upload,
    vault::Vault,
};
use crate::{
    classify::Failure,
    kinds::{http, Reach},
    transport::Outcome,
};
use http_body_util::{BodyExt, Empty};
use hyper::{body::Incoming, header};
use reqwest::Url;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Redirects followed at most, each target checked as the link.
const MAX_REDIRECTS: usize = 5;

/// A recording stored whole.
#[derive(Debug)]
pub(crate) struct Stored {
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
}

/// What a fetch needs besides the link.
pub(crate) struct Fetch<'a> {
    pub client: &'a Fetcher,
    pub reach: Reach,
    pub max_bytes: u64,
    pub vault: &'a Vault,
    pub key: &'a str,
    pub timeout: Duration,
}

impl Fetch<'_> {
    /// Fetches `link` into the store under the key. A failure is the attempt's outcome:
    /// retried (the link not ready, the platform or the store unreachable) or final.
    pub async fn run(&self, link: Url) -> Result<Stored, Outcome> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let response = tokio::time::timeout_at(deadline, self.follow(link))
            .await
            .map_err(|_| retry(format!("no answer within {:?}", self.timeout)))??;
        self.vault.clear_staged(self.key).await;
        let mut upload = (self.vault.upload(self.key).await).map_err(store_failed)?;
        let streamed = tokio::time::timeout_at(deadline, self.stream(response, &mut upload)).await;
        let streamed = streamed.unwrap_or_else(|_| {
            Err(retry(format!(
                "not received whole within {:?}",
                self.timeout
            )))
        });
        match streamed {
            Ok(stored) => {
                upload.finish().await.map_err(store_failed)?;
                Ok(stored)
            }
            Err(outcome) => {
                if let Err(e) = upload.abort().await {
                    tracing::warn!(key = self.key, error = %e, "a refused recording's upload could not be aborted");
                }
                Err(outcome)
            }
        }
    }

    /// The answer with the recording, after at most [`MAX_REDIRECTS`] redirects.
    async fn follow(&self, mut url: Url) -> Result<Answer, Outcome> {
        for _ in 0..=MAX_REDIRECTS {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(Outcome::dead(format!(
                    "{} is not an http(s) URL",
                    shown(&url)
                )));
            }
            if let Some(refusal) = http::url_refused(&url, self.reach) {
                return Err(Outcome::dead(refusal.replace("not sent", "not fetched")));
            }
            let response = self.get(&url).await?;
            let status = response.status();
            if !status.is_redirection() {
                return answered(Answer::new(response, url));
            }
            let location = (response.headers().get(header::LOCATION))
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok());
            url = location.ok_or_else(|| {
                Outcome::dead(format!(
                    "the platform answered {status} without a usable Location"
                ))
            })?;
        }
        Err(Outcome::dead(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }

    /// One request, without following a redirect.
    async fn get(&self, url: &Url) -> Result<hyper::Response<Incoming>, Outcome> {
        let request = hyper::Request::get(url.as_str())
            .header(
                header::USER_AGENT,
                concat!("ivrhook/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|e| Outcome::dead(format!("{} cannot be requested: {e}", shown(url))))?;
        self.client.request(request).await.map_err(|e| {
            let kind = match e.is_connect() {
                true => Failure::Connect,
                false => Failure::Other,
            };
            let detail = format!("GET {} failed", shown(url));
            failed(http::unanswered(kind, detail, Some(&e)))
        })
    }

    /// The body into `upload`, hashed and counted as it comes.
    async fn stream(&self, answer: Answer, upload: &mut Upload) -> Result<Stored, Outcome> {
        if let Some(len) = content_length(&answer).filter(|l| *l > self.max_bytes) {
            return Err(self.too_large(len));
        }
        let content_type = content_type(&answer);
        let mut body = answer.into_body();
        let (mut size, mut sha) = (0u64, Sha256::new());
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                let detail = "the recording's body was cut off".to_owned();
                failed(http::unanswered(Failure::Other, detail, Some(&e)))
            })?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            size += chunk.len() as u64;
            if size > self.max_bytes {
                return Err(self.too_large(size));
            }
            sha.update(&chunk);
            upload.write(&chunk).await.map_err(store_failed)?;
        }
        Ok(Stored {
            size,
            sha256: hex(&sha.finalize()),
            content_type,
        })
    }

    fn too_large(&self, seen: u64) -> Outcome {
        Outcome::dead(format!(
            "the recording is larger than max_bytes ({} bytes; {seen} seen): not kept",
            self.max_bytes
        ))
    }
}

/// The recordings store failed: tried again, and a sign the store is down.
fn store_failed(e: object_store::Error) -> Outcome {
    Outcome::unreachable(format!("the recordings store failed: {e}"))
}

fn shown(url: &Url) -> String {
    crate::kinds::shown(url.as_str())
}
