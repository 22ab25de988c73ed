//! API tokens kept as hashes, with scopes: `read` for GET endpoints and the dashboard,
//! `operate` also for retries and event submission.

use crate::helpers::*;
use sha2::{Digest, Sha256};

const READER: &str = "ivh_reader_0123456789abcdef0123456789abcdef";
const OPERATOR: &str = "ivh_operator_0123456789abcdef0123456789abcd";

fn entry(name: &str, token: &str, scopes: &str) -> String {
    let hash: String = Sha256::digest(token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("[[api_tokens]]\nname = \"{name}\"\nsha256 = \"{hash}\"\nscopes = [{scopes}]\n")
}

async fn status(app: &TestApp, post: bool, path: &str, token: Option<&str>) -> u16 {
    let mut req = match post {
        true => app
            .client
            .post(app.url(path))
            .body(report("scoped").to_string()),
        false => app.client.get(app.url(path)),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn page(app: &TestApp, path: &str, token: &str) -> String {
    let resp = app.client.get(app.url(path)).bearer_auth(token).send();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn each_token_does_what_its_scopes_say() {
    let config = format!(
        "{}{}[[apps]]\nid = \"{APP}\"\ncallback_url = \"http://127.0.0.1:9/cb\"\n",
        entry("reader", READER, "\"read\""),
        entry("operator", OPERATOR, "\"read\", \"operate\"")
    );
    let app = spawn_with(&config).await;
    let submit = format!("/v1/apps/{APP}/events");
    assert_eq!(status(&app, false, "/v1/deliveries", None).await, 401);
    assert_eq!(
        status(&app, false, "/v1/deliveries", Some("ivh_guess")).await,
        401
    );
    assert_eq!(
        status(&app, false, "/v1/deliveries", Some(READER)).await,
        200
    );
    assert_eq!(
        status(&app, true, &submit, Some(READER)).await,
        403,
        "read only"
    );
    assert_eq!(status(&app, true, &submit, Some(OPERATOR)).await, 202);
    assert_eq!(
        status(&app, false, "/", Some(READER)).await,
        200,
        "the dashboard reads"
    );
    assert_eq!(
        status(&app, true, "/deliveries/1/retry", Some(READER)).await,
        403
    );
    // The pages offer Retry only to a token that may operate.
    for path in ["/deliveries", "/deliveries/1", "/calls/scoped"] {
        let shown = |token| page(&app, path, token);
        assert!(shown(OPERATOR).await.contains("Retry delivery 1"), "{path}");
        assert!(!shown(READER).await.contains("Retry delivery"), "{path}");
    }
    let resp = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        !resp.text().await.unwrap().contains("open to anyone"),
        "no open banner"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_session_keeps_its_tokens_scopes() {
    let app = spawn_with(&entry("reader", READER, "\"read\"")).await;
    let client = crate::http_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signin = client
        .post(app.url("/signin"))
        .body(format!("token={READER}"));
    let signin = signin.send().await.unwrap();
    assert_eq!(signin.status(), 303);
    let cookie = signin.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let page = client.get(app.url("/deliveries")).header("cookie", &cookie);
    assert_eq!(page.send().await.unwrap().status(), 200);
    let retry = client
        .post(app.url("/deliveries/1/retry"))
        .header("cookie", &cookie);
    let refused = retry.send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("may read but not operate"));
    app.stop().await;
}
