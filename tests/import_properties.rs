//! Properties of the ERP feed import: whatever bytes arrive, the reader never panics and every
//! line is read once, then applied or rejected exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use customer_portal::{
    clock::Clock,
    import::{self, Content, Lines, Parsed},
};
use proptest::{prelude::*, test_runner::TestRunner};
use serde_json::{Value, json};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Everything `Lines` gives for `feed`, read through a buffer of `buffer` bytes so that lines
/// straddle its refills.
fn read_all(feed: &[u8], buffer: usize, limit: usize) -> Vec<import::Line> {
    let mut lines = Lines::new(std::io::BufReader::with_capacity(buffer, feed), limit);
    let mut read = Vec::new();
    while let Some(line) = lines.next_line().unwrap() {
        read.push(line);
    }
    read
}

/// What a line of `piece` (without its `\n`) must read as.
fn expected_content(piece: &[u8], first: bool, limit: usize) -> Content {
    if piece.len() > limit {
        return Content::TooLong {
            bytes: piece.len() as u64,
            limit,
        };
    }
    let mut text = piece;
    if first {
        text = text.strip_prefix(BOM).unwrap_or(text);
    }
    text = text.strip_suffix(b"\r").unwrap_or(text);
    match std::str::from_utf8(text) {
        Ok(text) => Content::Text(text.to_owned()),
        Err(error) => Content::NotUtf8 {
            at: error.valid_up_to() + 1,
        },
    }
}

fn feed_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        6 => any::<u8>(),
        2 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(b' '),
    ];
    let chunk = prop_oneof![
        4 => prop::collection::vec(byte, 0..40),
        1 => Just(BOM.to_vec()),
        1 => Just(br#"{"kind": "vendor", "name": "Acme", "softwareAfterHardware": false}"#.to_vec()),
        1 => Just("\u{e9}t\u{e9}".as_bytes().to_vec()),
    ];
    prop::collection::vec(chunk, 0..12).prop_map(|chunks| chunks.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn arbitrary_bytes_are_read_as_exactly_their_lines_and_never_panic(
        feed in feed_bytes(),
        buffer in 1usize..32,
        limit in 1usize..80,
    ) {
        let read = read_all(&feed, buffer, limit);
        let mut pieces: Vec<&[u8]> = feed.split(|byte| *byte == b'\n').collect();
        if feed.is_empty() || feed.ends_with(b"\n") {
            pieces.pop();
        }
        prop_assert_eq!(read.len(), pieces.len());
        prop_assert_eq!(read.iter().map(|line| line.bytes).sum::<u64>(), feed.len() as u64);
        for (index, (line, piece)) in read.iter().zip(&pieces).enumerate() {
            prop_assert_eq!(line.number, index as u64 + 1);
            prop_assert_eq!(&line.content, &expected_content(piece, index == 0, limit));
            match (import::parse(&line.content), &line.content) {
                (Parsed::Blank, Content::Text(text)) => prop_assert!(text.trim().is_empty()),
                (Parsed::Record(_), Content::Text(text)) => prop_assert!(!text.trim().is_empty()),
                (Parsed::Blank | Parsed::Record(_), other) => {
                    prop_assert!(false, "{other:?} is not text, yet was not rejected");
                }
                (Parsed::Rejected(reason), _) => prop_assert!(!reason.is_empty()),
            }
        }
    }
}

/// Valid records of each kind that needs no database to parse, with their required fields.
fn records() -> Vec<(Value, &'static [&'static str])> {
    vec![
        (
            json!({"kind": "vendor", "name": "Acme", "softwareAfterHardware": true}),
            &["name", "softwareAfterHardware"],
        ),
        (
            json!({"kind": "confirmation", "orderNumber": "SO-1"}),
            &["orderNumber"],
        ),
        (
            json!({"kind": "cancellation", "orderNumber": "SO-1", "lineNumber": 2}),
            &["orderNumber"],
        ),
        (
            json!({"kind": "eta", "orderNumber": "SO-1", "lineNumber": 1, "eta": "2026-12-01", "reason": "late"}),
            &["orderNumber", "lineNumber"],
        ),
        (
            json!({"kind": "shipmentDelivered", "shipmentNumber": "SH-1", "deliveredAt": "2026-11-23T10:00:00Z"}),
            &["shipmentNumber", "deliveredAt"],
        ),
        (
            json!({"kind": "delivery", "orderNumber": "SO-1", "lineNumber": 1, "quantity": 1, "recipientEmail": "a@b.example", "deliveredAt": "2026-11-23T10:00:00Z"}),
            &[
                "orderNumber",
                "lineNumber",
                "quantity",
                "recipientEmail",
                "deliveredAt",
            ],
        ),
        (
            json!({"kind": "invoice", "invoiceNumber": "IN-1", "orderNumber": "SO-1", "invoiceDate": "2026-11-23", "lines": [{"lineNumber": 1, "quantity": 1}]}),
            &["invoiceNumber", "orderNumber", "invoiceDate", "lines"],
        ),
    ]
}

/// How a valid record is spoilt, if at all.
#[derive(Clone, Debug)]
enum Spoil {
    None,
    DropRequired(usize),
    WrongType(usize),
    UnknownField,
    UnknownKind,
    Truncate(usize),
    InvalidByte(usize),
}

fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        3 => Just(Spoil::None),
        1 => any::<usize>().prop_map(Spoil::DropRequired),
        1 => any::<usize>().prop_map(Spoil::WrongType),
        1 => Just(Spoil::UnknownField),
        1 => Just(Spoil::UnknownKind),
        1 => any::<usize>().prop_map(Spoil::Truncate),
        1 => any::<usize>().prop_map(Spoil::InvalidByte),
    ]
}

/// The line of record `which` spoilt by `how`, and whether it must parse.
fn near_valid(which: usize, how: &Spoil) -> (Vec<u8>, bool) {
    let all = records();
    let (mut record, required) = all[which % all.len()].clone();
    let object = record.as_object_mut().unwrap();
    match how {
        Spoil::None => {}
        Spoil::DropRequired(index) => {
            object.remove(required[index % required.len()]);
        }
        Spoil::WrongType(index) => {
            object.insert(required[index % required.len()].into(), json!([1]));
        }
        Spoil::UnknownField => {
            object.insert("comment".into(), json!("not in the contract"));
        }
        Spoil::UnknownKind => {
            object.insert("kind".into(), json!("spaceship"));
        }
        Spoil::Truncate(_) | Spoil::InvalidByte(_) => {}
    }
    let mut line = serde_json::to_vec(&record).unwrap();
    match how {
        Spoil::Truncate(at) => line.truncate(1 + at % (line.len() - 1)),
        Spoil::InvalidByte(at) => line.insert(at % (line.len() + 1), 0xFF),
        _ => {}
    }
    (line, matches!(how, Spoil::None))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn near_valid_records_parse_only_when_valid(which in 0usize..7, how in spoil(), bom: bool, crlf: bool) {
        let (line, valid) = near_valid(which, &how);
        let mut feed = if bom { BOM.to_vec() } else { Vec::new() };
        feed.extend_from_slice(&line);
        feed.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        let read = read_all(&feed, 8_192, import::MAX_LINE_BYTES);
        prop_assert_eq!(read.len(), 1);
        let parsed = import::parse(&read[0].content);
        prop_assert_eq!(matches!(parsed, Parsed::Record(_)), valid, "{:?}: {:?}", how, parsed);
        prop_assert_eq!(matches!(parsed, Parsed::Rejected(_)), !valid, "{:?}: {:?}", how, parsed);
    }
}

/// One line of a generated feed and what the import must do with it.
#[derive(Clone, Debug, PartialEq)]
enum Fate {
    Applied,
    Rejected,
    Skipped,
}

fn feed_line() -> impl Strategy<Value = (Vec<u8>, Fate)> {
    let vendor = |name: String| {
        serde_json::to_vec(&json!({"kind": "vendor", "name": name, "softwareAfterHardware": false}))
            .unwrap()
    };
    prop_oneof![
        4 => "[A-Za-z0-9][A-Za-z0-9 ]{0,20}".prop_map(move |name| (vendor(name), Fate::Applied)),
        1 => (201usize..260).prop_map(move |length| (vendor("v".repeat(length)), Fate::Rejected)),
        1 => Just((b"   ".to_vec(), Fate::Skipped)),
        1 => prop::collection::vec(any::<u8>(), 1..30).prop_map(|mut bytes| {
            bytes.retain(|byte| *byte != b'\n');
            bytes.push(0xFF);
            (bytes, Fate::Rejected)
        }),
        1 => (0usize..7, spoil()).prop_filter_map("a spoilt record", |(which, how)| {
            let (line, valid) = near_valid(which, &how);
            (!valid).then_some((line, Fate::Rejected))
        }),
        1 => Just((
            br#"{"kind": "confirmation", "orderNumber": "SO-NOWHERE"}"#.to_vec(),
            Fate::Rejected,
        )),
    ]
}

#[test]
fn every_line_of_a_feed_is_applied_or_rejected_exactly_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(TestApp::new());
    let mut runner = TestRunner::new(ProptestConfig::with_cases(24));
    let strategy = (prop::collection::vec(feed_line(), 0..40), any::<bool>());
    runner
        .run(&strategy, |(lines, crlf)| {
            let break_bytes: &[u8] = if crlf { b"\r\n" } else { b"\n" };
            let feed = lines
                .iter()
                .map(|(line, _)| line.clone())
                .collect::<Vec<_>>()
                .join(break_bytes);
            let summary = runtime
                .block_on(import::run(
                    &app.db,
                    feed.as_slice(),
                    None,
                    Clock::fixed(common::now()),
                ))
                .unwrap();
            let count = |fate: Fate| lines.iter().filter(|(_, of)| *of == fate).count() as u64;
            prop_assert_eq!(summary.applied + summary.unchanged, count(Fate::Applied));
            prop_assert_eq!(summary.rejected, count(Fate::Rejected));
            let rejected_lines: Vec<u64> = lines
                .iter()
                .enumerate()
                .filter(|(_, (_, fate))| *fate == Fate::Rejected)
                .map(|(index, _)| index as u64 + 1)
                .collect();
            let reported: Vec<u64> = summary.rejections.iter().map(|(line, _)| *line).collect();
            prop_assert_eq!(reported, rejected_lines);
            Ok(())
        })
        .unwrap();
}
