//! The corpus of mail sent to the service: each message becomes the expected inquiry or the
//! expected refusal.

use kikeru_mail::inbound::{DEFAULT_MAX_BYTES, Refusal, parse};

fn corpus(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (file, sender, subject, a piece of the text, message ID)
const INQUIRIES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "utf8-plain.eml",
        "hanako@example.jp",
        "ダウンロードできません",
        "「朝の鳥の声」がダウンロードできません。",
        "<utf8-plain@mail.example.jp>",
    ),
    (
        "iso-2022-jp.eml",
        "taro@example.ne.jp",
        "領収書の再発行について",
        "宛名は株式会社キケルでお願いします。",
        "<iso2022@mail.example.ne.jp>",
    ),
    (
        "shift-jis.eml",
        "keitai@example.co.jp",
        "解約したい",
        "機種依存文字：①②③",
        "<sjis@example.co.jp>",
    ),
    (
        "euc-jp.eml",
        "unix@example.org",
        "音質について",
        "ハイレゾ版の配信予定はありますか。",
        "<eucjp@example.org>",
    ),
    (
        "multipart-alternative.eml",
        "gift@example.com",
        "ギフト",
        "プレゼント用に購入できますか？",
        "<alt@example.com>",
    ),
    (
        "html-only.eml",
        "web@example.com",
        "Refund request",
        "I would like a refund for order",
        "<html-only@example.com>",
    ),
    (
        "attachment.eml",
        "shots@example.jp",
        "再生エラー",
        "エラー画面を添付します。",
        "<attach@example.jp>",
    ),
];

#[test]
fn each_corpus_message_becomes_its_inquiry() {
    for (file, from, subject, text, message_id) in INQUIRIES {
        let mail =
            parse(&corpus(file), DEFAULT_MAX_BYTES).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(mail.from.as_str(), *from, "{file}");
        assert_eq!(mail.subject, *subject, "{file}");
        assert!(mail.body.contains(text), "{file}: {:?}", mail.body);
        assert_eq!(mail.message_id.as_deref(), Some(*message_id), "{file}");
    }
}

#[test]
fn names_in_encoded_words_are_decoded() {
    let hanako = parse(&corpus("utf8-plain.eml"), DEFAULT_MAX_BYTES).unwrap();
    assert_eq!(hanako.name.as_deref(), Some("山田 花子"));
    let taro = parse(&corpus("iso-2022-jp.eml"), DEFAULT_MAX_BYTES).unwrap();
    assert_eq!(taro.name.as_deref(), Some("鈴木太郎"));
}

#[test]
fn html_only_mail_becomes_text_without_markup() {
    let mail = parse(&corpus("html-only.eml"), DEFAULT_MAX_BYTES).unwrap();
    assert!(mail.body.contains("#42 & thanks"), "{:?}", mail.body);
    assert!(!mail.body.contains('<') && !mail.body.contains("color:red"));
    assert!(mail.body.contains("Second paragraph."));
}

#[test]
fn attachments_are_noted_not_kept() {
    let mail = parse(&corpus("attachment.eml"), DEFAULT_MAX_BYTES).unwrap();
    assert_eq!(mail.attachments.len(), 1);
    let png = &mail.attachments[0];
    assert_eq!(
        (png.name.as_str(), png.content_type.as_str(), png.size),
        ("エラー.png", "image/png", 128)
    );
    assert!(!mail.body.contains("PNG"));
}

#[test]
fn malformed_automatic_and_oversized_mail_is_refused_with_its_reason() {
    let cases = [
        ("no-sender.eml", Refusal::NoSender),
        ("garbage.eml", Refusal::Unparseable),
        ("auto-reply.eml", Refusal::AutoSubmitted),
        ("empty.eml", Refusal::Empty),
    ];
    for (file, refusal) in cases {
        assert_eq!(
            parse(&corpus(file), DEFAULT_MAX_BYTES),
            Err(refusal),
            "{file}"
        );
    }
    assert_eq!(
        parse(&corpus("utf8-plain.eml"), 100),
        Err(Refusal::TooLarge { limit: 100 })
    );
}

#[test]
fn an_mbox_envelope_line_is_skipped() {
    let mut raw = b"From hanako@example.jp Wed Nov 25 10:00:00 2026\n".to_vec();
    raw.extend(corpus("utf8-plain.eml"));
    let mail = parse(&raw, DEFAULT_MAX_BYTES).unwrap();
    assert_eq!(mail.from.as_str(), "hanako@example.jp");
}
