//! One recording's upload: bytes copied into a part of the store's part size, each full part
//! written before more is taken, so a fetch holds one part and nothing of the HTTP client's
//! buffers. The part's buffer is taken back once written: one allocation per fetch, not one
//! per part freed on the blocking thread that wrote it.

use super::vault::Writers;
use bytes::BytesMut;
use object_store::{MultipartUpload, PutPayload};

/// An upload under way: nothing is under its key until [`Upload::finish`].
pub(crate) struct Upload {
    inner: Box<dyn MultipartUpload>,
    part: BytesMut,
    part_size: usize,
    writers: Writers,
}

impl Upload {
    pub fn new(inner: Box<dyn MultipartUpload>, part_size: usize, writers: Writers) -> Self {
        Upload {
            inner,
            part: BytesMut::new(),
            part_size,
            writers,
        }
    }

    /// Takes `bytes`, writing each part as it fills.
    pub async fn write(&mut self, mut bytes: &[u8]) -> object_store::Result<()> {
        while !bytes.is_empty() {
            let room = self.part_size - self.part.len();
            // Reclaims the last part's buffer when its write has let go of it.
            self.part.reserve(room);
            let take = bytes.len().min(room);
            self.part.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.part.len() == self.part_size {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Writes what is left, then makes the object appear whole under its key.
    pub async fn finish(mut self) -> object_store::Result<()> {
        if !self.part.is_empty() {
            self.flush().await?;
        }
        let _writer = self.writers.one().await;
        self.inner.complete().await.map(drop)
    }

    /// Gives the upload up: nothing appears under its key.
    pub async fn abort(mut self) -> object_store::Result<()> {
        let _writer = self.writers.one().await;
        self.inner.abort().await
    }

    async fn flush(&mut self) -> object_store::Result<()> {
        let part = self.part.split().freeze();
        let _writer = self.writers.one().await;
        self.inner.put_part(PutPayload::from(part)).await
    }
}
