//! The bench's ceiling: the same HTTP stack (tokio, hyper, axum) answering `000000` to every
//! POST without decoding or storing anything. A mode of the bench, not of the product: it
//! shows how much of the machine the HTTP layer alone takes.

use axum::{body::Bytes, http::header::CONTENT_TYPE, routing::post, Router};
use std::{io::Write, net::SocketAddr};

pub async fn serve(listen: SocketAddr, path: String) -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new().route(
        &path,
        post(|_body: Bytes| async {
            (
                [(CONTENT_TYPE, "application/json")],
                r#"{"code":"000000","msg":"accepted"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!(
        "ivrhook bench ceiling listening on http://{} (POST {path})",
        listener.local_addr()?
    );
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
