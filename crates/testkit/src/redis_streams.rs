//! Redis for the forwarding tests: the machine's server (`TEST_REDIS_URL`, default
//! redis://127.0.0.1:6379/0), a stream key of each test's own, read back with `XRANGE`.
#![allow(missing_docs)] // each function's name and line say what it does

use redis::{aio::MultiplexedConnection, streams::StreamRangeReply, AsyncCommands};
use std::collections::HashMap;

const START: &str = "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" \
    --appendonly no";

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

/// The server's URL with database `db`: a test that kills connections kills only those of
/// its own database.
pub fn redis_url_db(db: u8) -> String {
    let url = redis_url();
    let server = url
        .rsplit_once('/')
        .map_or(url.as_str(), |(server, _)| server);
    format!("{server}/{db}")
}

/// A connection of the test's own.
pub async fn connection() -> MultiplexedConnection {
    connection_to(&redis_url()).await
}

/// A connection of the test's own to `url`.
pub async fn connection_to(url: &str) -> MultiplexedConnection {
    let client = redis::Client::open(url).unwrap();
    (client.get_multiplexed_async_connection().await)
        .unwrap_or_else(|e| panic!("Redis is not reachable at {url} ({e}); start it with: {START}"))
}

/// A stream key no other test or run uses, emptied.
pub async fn fresh_key(name: &str) -> String {
    fresh_key_at(&redis_url(), name).await
}

/// [`fresh_key`] in the database of `url`.
pub async fn fresh_key_at(url: &str, name: &str) -> String {
    let key = format!("ivrtest-{name}-{}", std::process::id());
    let _: () = connection_to(url).await.del(&key).await.unwrap();
    key
}

/// Every entry of the stream `key`, oldest first: its fields, values as bytes.
pub async fn entries(key: &str) -> Vec<HashMap<String, Vec<u8>>> {
    entries_at(&redis_url(), key).await
}

/// [`entries`] in the database of `url`.
pub async fn entries_at(url: &str, key: &str) -> Vec<HashMap<String, Vec<u8>>> {
    let reply: StreamRangeReply = connection_to(url).await.xrange_all(key).await.unwrap();
    (reply.ids.into_iter())
        .map(|entry| {
            (entry.map.into_iter())
                .map(|(field, value)| (field, redis::from_redis_value(value).unwrap()))
                .collect()
        })
        .collect()
}

/// Kills every client connected to database `db` but `own`'s connection; how many it killed.
pub async fn kill_clients_of(own: &mut MultiplexedConnection, db: u8) -> usize {
    let me: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(own)
        .await
        .unwrap();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(own)
        .await
        .unwrap();
    let mut killed = 0;
    for line in list
        .lines()
        .filter(|l| l.split(' ').any(|f| f == format!("db={db}")))
    {
        let id = line.split(' ').find_map(|f| f.strip_prefix("id=")).unwrap();
        if id != me.to_string() {
            let n: i64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("ID")
                .arg(id)
                .query_async(own)
                .await
                .unwrap();
            killed += n as usize;
        }
    }
    killed
}
