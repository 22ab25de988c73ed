//! The configuration parser and its validation on any text: a configuration or an error
//! naming a key, never a panic.
#![no_main]

use ivrhook_server::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = Config::from_toml(text, "fuzz");
});
