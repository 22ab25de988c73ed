//! Property tests: the decoder never panics, and a valid report survives encode → decode.
#![allow(clippy::unwrap_used)] // a test that unwraps fails with the cause, as it should

use ivrhook_protocol::{
    decode, AppId, CallId, CallStatus, Command, DecodeOptions, Entry, Hangup, HangupNotice, Report,
    Timestamp, UtcOffset,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (
        2000..2100u32,
        1..=12u32,
        1..=28u32,
        0..24u32,
        0..60u32,
        0..60u32,
        0..1000u32,
    )
        .prop_map(|(y, mo, d, h, mi, s, ms)| {
            let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}{ms:03}");
            Timestamp::parse(&text, UtcOffset::default()).expect("generated times are valid")
        })
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn extra() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x_[a-z]{1,6}", scalar(), 0..3)
        .prop_map(|m| m.into_iter().collect())
}

fn command() -> impl Strategy<Value = Command> {
    (
        prop::option::of(prop_oneof![Just("ivrreportdtmf"), Just("playoverrpt")]),
        prop::option::of("[0-9]{1,6}"),
        prop::option::of(timestamp()),
        prop::option::of(timestamp()),
        prop::option::of("[0-9*#]{1,8}"),
        prop::option::of(".{0,20}"),
        extra(),
    )
        .prop_map(|(event, code, start, end, dtmf, data, extra)| Command {
            event: event.map(str::to_owned),
            code,
            start,
            end,
            dtmf,
            data,
            extra,
        })
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        4 => command().prop_map(Entry::Command),
        1 => scalar().prop_map(Entry::Unrecognised),
    ]
}

fn hangup() -> impl Strategy<Value = Hangup> {
    let notice = (
        prop::option::of(".{0,8}"),
        prop::option::of("[0-9a-z-]{1,40}"),
        prop::option::of("[0-9a-f]{32}"),
        prop::option::of("[0-9]{1,3}"),
        prop::option::of("https://[a-z]{1,10}/[a-z0-9/-]{0,30}\\.wav"),
        prop::option::of("[0-9]{1,3}"),
        prop::option::of(timestamp()),
        extra(),
    )
        .prop_map(
            |(event, call_id, app_id, direction, recording_url, reason, time, extra)| {
                Hangup::Notice(HangupNotice {
                    event,
                    call_id,
                    app_id,
                    direction,
                    recording_url,
                    reason,
                    time,
                    extra,
                })
            },
        );
    prop_oneof![
        4 => notice,
        1 => "not json: [a-z]{0,8}".prop_map(Hangup::Undecodable),
    ]
}

fn report() -> impl Strategy<Value = Report> {
    (
        "[0-9a-f]{32}",
        "[0-9A-Za-z-]{1,60}",
        prop::bool::ANY,
        prop::option::of(".{0,30}"),
        prop::collection::vec(entry(), 0..6),
        prop::option::of(hangup()),
        extra(),
    )
        .prop_map(
            |(app, call, hung_up, data, entries, hangup, extra)| Report {
                app_id: AppId::try_from(app).expect("generated app ids are valid"),
                call_id: CallId::try_from(call).expect("generated call ids are valid"),
                event: "multrpt".to_owned(),
                status: Some(if hung_up {
                    CallStatus::HungUp
                } else {
                    CallStatus::Completed
                }),
                data,
                entries,
                hangup,
                extra,
            },
        )
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("appId".to_owned()),
                    Just("callId".to_owned()),
                    Just("event".to_owned()),
                    Just("result".to_owned()),
                    Just("status".to_owned()),
                    Just("hungup".to_owned()),
                    Just("start".to_owned()),
                    "[a-zA-Z]{1,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes, &DecodeOptions::default());
        let _ = decode(&bytes, &DecodeOptions { strict: true, ..Default::default() });
    }

    #[test]
    fn arbitrary_json_never_panics_the_decoder(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let _ = decode(&bytes, &DecodeOptions::default());
    }

    #[test]
    fn any_valid_report_survives_encode_then_decode(report in report()) {
        let decoded = decode(&report.to_bytes(), &DecodeOptions::default())
            .expect("an encoded report decodes");
        prop_assert_eq!(decoded.report, report);
    }
}
