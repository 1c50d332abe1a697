//! RFC 2397 data URLs, `data:[<media type>][;charset=…][;base64],<data>`: how osTicket clients
//! send a message's format and every attachment.
//!
//! Read leniently, as browsers read them: parameters in any order and case, whitespace inside
//! base64 ignored, padding optional, a `%` that starts no escape kept as it is. What cannot be
//! read at all (no comma, base64 that is not) is an error that says so.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use encoding_rs::Encoding;

/// RFC 2397's default: `data:,…` is US-ASCII text.
pub const DEFAULT_MEDIA_TYPE: &str = "text/plain";

/// A data URL, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataUrl {
    /// Lower case, without parameters; [`DEFAULT_MEDIA_TYPE`] when the URL names none.
    pub media_type: String,
    /// The `charset` parameter as written, if any.
    pub charset: Option<String>,
    pub data: Vec<u8>,
}

/// Whether `s` is meant as a data URL (the scheme, in any case).
pub fn is_data_url(s: &str) -> bool {
    s.trim_start()
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("data:"))
}

/// Read a data URL. The error says what is wrong with it, for a 400.
pub fn parse(url: &str) -> Result<DataUrl, String> {
    let url = url.trim();
    if !is_data_url(url) {
        return Err("is not a data URL: it must start with `data:`".into());
    }
    let rest = &url[5..];
    let (header, payload) = rest.split_once(',').ok_or(
        "is a data URL without a comma: write `data:<type>[;base64],<data>`, e.g. \
         `data:text/plain,Hello`",
    )?;
    let mut params = header.split(';').map(str::trim);
    let media_type = params.next().unwrap_or_default().to_ascii_lowercase();
    let mut charset = None;
    let mut base64 = false;
    for param in params {
        if param.eq_ignore_ascii_case("base64") {
            base64 = true;
        } else if let Some((name, value)) = param.split_once('=')
            && name.trim().eq_ignore_ascii_case("charset")
        {
            let value = value.trim().trim_matches('"').trim();
            charset = (!value.is_empty()).then(|| value.to_string());
        }
    }
    // Either way the payload may be percent-encoded (a URL may not hold every byte as it is).
    let raw: Vec<u8> = percent_encoding::percent_decode(payload.as_bytes()).collect();
    let data = if base64 { decode_base64(&raw)? } else { raw };
    Ok(DataUrl {
        media_type: if media_type.is_empty() {
            DEFAULT_MEDIA_TYPE.into()
        } else {
            media_type
        },
        charset,
        data,
    })
}

/// Standard or URL-safe alphabet, with or without padding, whitespace ignored: each a form
/// some client sends.
fn decode_base64(raw: &[u8]) -> Result<Vec<u8>, String> {
    let compact: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let url_safe = compact.iter().any(|b| matches!(b, b'-' | b'_'));
    let engine = if url_safe {
        GeneralPurpose::new(&alphabet::URL_SAFE, config)
    } else {
        GeneralPurpose::new(&alphabet::STANDARD, config)
    };
    engine
        .decode(&compact)
        .map_err(|e| format!("is a data URL marked `;base64` whose data is not base64 ({e})"))
}

/// The text `data` holds in `charset`. Without a charset (or with RFC 2397's default,
/// US-ASCII, which many clients write without meaning it) the bytes are UTF-8 when they are
/// valid UTF-8, else ISO-8859-1: one character per byte, which any byte string is. A declared
/// charset is read as browsers read it (the WHATWG labels), and bytes it cannot hold become
/// U+FFFD rather than losing the ticket.
pub fn text(data: &[u8], charset: Option<&str>) -> Result<String, String> {
    let declared = charset.filter(|c| {
        !matches!(
            c.trim().to_ascii_lowercase().as_str(),
            "us-ascii" | "ascii" | "iso646-us" | "ansi_x3.4-1968"
        )
    });
    let Some(label) = declared else {
        return Ok(match std::str::from_utf8(data) {
            Ok(s) => s.to_string(),
            Err(_) => latin1(data),
        });
    };
    let encoding = Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        format!(
            "declares the charset `{label}`, which is not known: use utf-8 or iso-8859-1, or \
             leave the charset out"
        )
    })?;
    let (text, _, _) = encoding.decode(data);
    Ok(text.into_owned())
}

/// ISO-8859-1: each byte is the character of the same number.
pub fn latin1(data: &[u8]) -> String {
    data.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_base64() {
        let d = parse("data:text/plain;charset=utf-8,content").unwrap();
        assert_eq!(d.media_type, "text/plain");
        assert_eq!(d.charset.as_deref(), Some("utf-8"));
        assert_eq!(d.data, b"content");

        let d = parse("DATA:image/PNG;base64,aGVs\nbG8=").unwrap();
        assert_eq!(d.media_type, "image/png");
        assert_eq!(d.data, b"hello");
        // Unpadded, URL-safe, percent-encoded: all read.
        assert_eq!(parse("data:;base64,aGVsbG8").unwrap().data, b"hello");
        assert_eq!(parse("data:;base64,-_8=").unwrap().data, [0xfb, 0xff]);
        assert_eq!(parse("data:;base64,aGVsbG8%3D").unwrap().data, b"hello");
    }

    #[test]
    fn defaults_and_percent_decoding() {
        let d = parse("data:,A%20brief%20note%2C+plus%").unwrap();
        assert_eq!(d.media_type, DEFAULT_MEDIA_TYPE);
        assert_eq!(d.charset, None);
        assert_eq!(d.data, b"A brief note,+plus%");
        let d = parse("data:text/html;charset=\"ISO-8859-1\",caf%E9").unwrap();
        assert_eq!(d.charset.as_deref(), Some("ISO-8859-1"));
        assert_eq!(d.data, b"caf\xe9");
        // The payload keeps its own commas.
        assert_eq!(parse("data:,a,b").unwrap().data, b"a,b");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(
            parse("data:text/plain")
                .unwrap_err()
                .contains("without a comma")
        );
        assert!(
            parse("data:;base64,@@@")
                .unwrap_err()
                .contains("not base64")
        );
        assert!(parse("http://x").unwrap_err().contains("data:"));
    }

    #[test]
    fn text_in_each_charset() {
        assert_eq!(text("café".as_bytes(), None).unwrap(), "café");
        assert_eq!(text(b"caf\xe9", None).unwrap(), "café");
        assert_eq!(text(b"caf\xe9", Some("US-ASCII")).unwrap(), "café");
        assert_eq!(text(b"caf\xe9", Some("iso-8859-1")).unwrap(), "café");
        assert_eq!(text(b"caf\xe9", Some("latin1")).unwrap(), "café");
        assert_eq!(text(b"\x80", Some("windows-1252")).unwrap(), "€");
        assert_eq!(text(b"caf\xe9", Some("utf-8")).unwrap(), "caf\u{fffd}");
        let unknown = text(b"x", Some("klingon")).unwrap_err();
        assert!(
            unknown.contains("`klingon`") && unknown.contains("utf-8"),
            "{unknown}"
        );
        // Every byte is a character of its own in ISO-8859-1.
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(latin1(&all).chars().count(), 256);
    }
}
