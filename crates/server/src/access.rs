//! Who may use the API and the dashboard, and for what. `admin_token` may do everything; each
//! `[[api_tokens]]` entry what its scopes say (`read`: GET; `operate`: also POST). Presented
//! tokens are hashed and compared with every configured hash in constant time; neither set:
//! the API and dashboard are open (loopback-only starts).

use crate::config::{ApiToken, Config, Scopes, Secret};
use axum::http::Method;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who may use the API and the dashboard: `admin_token` and `[[api_tokens]]`.
#[derive(Debug)]
pub struct Access {
    admin: Option<Secret>,
    tokens: Vec<ApiToken>,
}

impl Access {
    /// The tokens of `config`.
    pub fn new(config: &Config) -> Access {
        Access {
            admin: config.admin_token.clone(),
            tokens: config.api_tokens.clone(),
        }
    }

    /// No token is configured: everyone who reaches the listener gets in.
    pub fn is_open(&self) -> bool {
        self.admin.is_none() && self.tokens.is_empty()
    }

    /// The scopes of a presented token, `None` when it is no token of this server.
    pub fn scopes_of(&self, presented: &str) -> Option<Scopes> {
        let admin = (self.admin.as_ref())
            .is_some_and(|a| bool::from(a.expose().as_bytes().ct_eq(presented.as_bytes())));
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        // Every hash is compared, so the time taken does not say which one matched.
        let mut found = None;
        for t in &self.tokens {
            if bool::from(t.sha256.ct_eq(&hash)) {
                found = Some(t.scopes);
            }
        }
        if admin {
            Some(Scopes::ALL)
        } else {
            found
        }
    }
}

/// Whether `scopes` allow a request of `method`: reads need `read`, anything else `operate`.
pub fn allows(scopes: Scopes, method: &Method) -> bool {
    match *method {
        Method::GET | Method::HEAD => scopes.read,
        _ => scopes.operate,
    }
}

/// A new token and its SHA-256 (hex): `ivrhook token new`.
pub fn new_token() -> Result<(String, String), getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let token: String = "ivh_"
        .chars()
        .chain(bytes.iter().flat_map(|b| hex2(*b)))
        .collect();
    let hash: String = Sha256::digest(token.as_bytes())
        .iter()
        .flat_map(|b| hex2(*b))
        .collect();
    Ok((token, hash))
}

fn hex2(b: u8) -> [char; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [
        HEX[usize::from(b >> 4)] as char,
        HEX[usize::from(b & 15)] as char,
    ]
}
