//! Values that may be written more than one way: a size as bytes or with a unit (`"1MiB"`),
//! and roles as a list or as comma-separated text (as `IVRHOOK_ROLES=receive,deliver` gives
//! them).

use serde::{de::Error, Deserialize, Deserializer};

/// A number of bytes: `1048576`, `"1MiB"`, `"512 KiB"`, `"1MB"` (= 1,000,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Size(pub usize);

#[derive(Deserialize)]
#[serde(untagged)]
enum SizeForm {
    Bytes(u64),
    Text(String),
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes = match SizeForm::deserialize(d)? {
            SizeForm::Bytes(n) => n,
            SizeForm::Text(text) => {
                let size: bytesize::ByteSize = text.trim().parse().map_err(|_| {
                    D::Error::custom(format!(
                        "{text:?} is not a size: bytes, or a number with a unit such as \
                         \"512KiB\" or \"1MiB\" (KB and MB are 1000 and 1000000)"
                    ))
                })?;
                size.as_u64()
            }
        };
        usize::try_from(bytes)
            .map(Size)
            .map_err(|_| D::Error::custom(format!("{bytes} bytes is too large")))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ListForm {
    List(Vec<String>),
    Text(String),
}

/// A list of words, or the words in one text separated by commas.
pub(super) fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match ListForm::deserialize(d)? {
        ListForm::List(l) => l,
        ListForm::Text(t) => t.split(',').map(|w| w.trim().to_owned()).collect(),
    })
}
